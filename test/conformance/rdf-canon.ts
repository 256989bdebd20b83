// `npm run conformance -- rdf-canon <manifest.ttl>`: runs the W3C RDF Dataset Canonicalization (RDFC-1.0) suite
// against shared/rdf/canonical-hash.ts and prints one JSON line with the counts.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Parser, type Quad, type Term } from "n3";
import { type CanonicalHashAlgorithm, canonicalizeQuads } from "../../shared/rdf/canonical-hash";
import { CanonicalizationLimitError } from "../../shared/rdf/errors";
import { parseRdfSync } from "../../shared/rdf/formats";

const MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const RDFC = "https://w3c.github.io/rdf-canon/tests/vocab#";
const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

export interface RdfCanonCase {
  id: string;
  type: "eval" | "map" | "negative";
  action: string;
  result?: string;
  hashAlgorithm: CanonicalHashAlgorithm;
}

export interface RdfCanonReport {
  suite: "rdf-canon";
  cases: number;
  passed: number;
  failed: number;
  failures: { id: string; reason: string }[];
}

const caseTypes: Record<string, RdfCanonCase["type"]> = {
  [`${RDFC}RDFC10EvalTest`]: "eval",
  [`${RDFC}RDFC10MapTest`]: "map",
  [`${RDFC}RDFC10NegativeEvalTest`]: "negative",
};

/** Reads the manifest's mf:entries list, in order, with n3. */
export function readRdfCanonManifest(manifestPath: string): RdfCanonCase[] {
  const baseIRI = pathToFileURL(resolve(manifestPath)).href;
  const quads = new Parser({ baseIRI }).parse(readFileSync(manifestPath, "utf8"));
  const objectsOf = (subject: Term, predicate: string): Term[] =>
    quads.filter((q) => q.subject.equals(subject) && q.predicate.value === predicate).map((q) => q.object);
  const objectOf = (subject: Term, predicate: string): Term | undefined => objectsOf(subject, predicate)[0];

  const manifest = quads.find((q) => q.predicate.value === `${MF}entries`);
  if (!manifest) throw new Error(`${manifestPath}: no mf:entries`);
  const cases: RdfCanonCase[] = [];
  for (let node: Term | undefined = manifest.object; node && node.value !== `${RDF}nil`; ) {
    const entry = objectOf(node, `${RDF}first`);
    if (!entry) throw new Error(`${manifestPath}: broken mf:entries list`);
    const typeIri = objectsOf(entry, `${RDF}type`).find((t) => caseTypes[t.value])?.value;
    const action = objectOf(entry, `${MF}action`);
    if (!typeIri || !action) throw new Error(`${manifestPath}: entry ${entry.value} has no known type or no action`);
    const result = objectOf(entry, `${MF}result`);
    const hash = objectOf(entry, `${RDFC}hashAlgorithm`)?.value.toUpperCase().replace("-", "");
    cases.push({
      id: entry.value.slice(entry.value.lastIndexOf("#") + 1),
      type: caseTypes[typeIri] as RdfCanonCase["type"],
      action: fileURLToPath(action.value),
      result: result ? fileURLToPath(result.value) : undefined,
      hashAlgorithm: hash === "SHA384" ? "sha384" : "sha256",
    });
    node = objectOf(node, `${RDF}rest`);
  }
  return cases;
}

// parseRdfSync keeps document blank-node labels behind the `b_` prefix; the suite's maps use the bare labels.
function documentLabel(label: string): string {
  return label.startsWith("b_") ? label.slice(2) : label;
}

async function runCase(testCase: RdfCanonCase): Promise<string | null> {
  const input: Quad[] = parseRdfSync(readFileSync(testCase.action, "utf8"), "application/n-quads");
  const options = { hashAlgorithm: testCase.hashAlgorithm };
  if (testCase.type === "negative") {
    try {
      await canonicalizeQuads(input, options);
      return "expected a CanonicalizationLimitError, got a result";
    } catch (error) {
      return error instanceof CanonicalizationLimitError ? null : `wrong error: ${String(error)}`;
    }
  }
  const { canonical, issuedIdentifiers } = await canonicalizeQuads(input, options);
  const expected = readFileSync(testCase.result as string, "utf8");
  if (testCase.type === "eval") return canonical === expected ? null : "canonical N-Quads differ";
  const actualMap = Object.fromEntries([...issuedIdentifiers].map(([from, to]) => [documentLabel(from), to]));
  const expectedMap = JSON.parse(expected) as Record<string, string>;
  const same =
    Object.keys(actualMap).length === Object.keys(expectedMap).length &&
    Object.entries(expectedMap).every(([from, to]) => actualMap[from] === to);
  return same ? null : `issued identifiers ${JSON.stringify(actualMap)} ≠ ${JSON.stringify(expectedMap)}`;
}

export async function runRdfCanonSuite(manifestPath: string): Promise<RdfCanonReport> {
  const failures: RdfCanonReport["failures"] = [];
  const cases = readRdfCanonManifest(manifestPath);
  for (const testCase of cases) {
    let reason: string | null;
    try {
      reason = await runCase(testCase);
    } catch (error) {
      reason = `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    if (reason) failures.push({ id: testCase.id, reason });
  }
  return {
    suite: "rdf-canon",
    cases: cases.length,
    passed: cases.length - failures.length,
    failed: failures.length,
    failures,
  };
}

export default async function (args: string[]): Promise<void> {
  const manifestPath = args[0] ?? "../shared/conformance/rdf-canon/manifest.ttl";
  const report = await runRdfCanonSuite(manifestPath);
  for (const failure of report.failures) console.error(`FAIL ${failure.id}: ${failure.reason}`);
  console.log(
    JSON.stringify({ suite: report.suite, cases: report.cases, passed: report.passed, failed: report.failed }),
  );
  if (report.failed > 0) process.exitCode = 1;
}
