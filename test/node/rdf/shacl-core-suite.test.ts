// The W3C SHACL Core test suite (data-shapes/core, shipped with the shacl-engine package) through validateShacl.
// Judged on sh:conforms, the number of results, and each expected result's component, severity and
// (non-blank) focus node.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Quad, Term } from "@rdfjs/types";
import { describe, expect, it } from "vitest";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { termToNTriples } from "../../../shared/rdf/ntriples";
import { validateShacl } from "../../../shared/rdf/shacl";

const MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const SHT = "http://www.w3.org/ns/shacl-test#";
const SH = "http://www.w3.org/ns/shacl#";
const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

interface SuiteCase {
  name: string;
  data: Quad[];
  shapes: Quad[];
  failure: boolean;
  conforms: boolean;
  results: { focusNode: string | null; component: string; severity: string }[];
}

const parsed = new Map<string, Quad[]>();
function load(fileUrl: string): Quad[] {
  let quads = parsed.get(fileUrl);
  if (!quads) {
    quads = parseRdfSync(readFileSync(fileURLToPath(fileUrl), "utf8"), "text/turtle", { baseIRI: fileUrl });
    parsed.set(fileUrl, quads);
  }
  return quads;
}

function collectCases(manifestUrl: string, cases: SuiteCase[]): SuiteCase[] {
  const quads = load(manifestUrl);
  const objects = (subject: Term, predicate: string) =>
    quads.filter((q) => q.subject.equals(subject) && q.predicate.value === predicate).map((q) => q.object);
  const object = (subject: Term, predicate: string) => objects(subject, predicate)[0];
  for (const q of quads.filter((q) => q.predicate.value === `${MF}include`)) collectCases(q.object.value, cases);
  const list = quads.find((q) => q.predicate.value === `${MF}entries`)?.object;
  for (let node = list; node && node.value !== `${RDF}nil`; node = object(node, `${RDF}rest`)) {
    const entry = object(node, `${RDF}first`) as Term;
    const action = object(entry, `${MF}action`) as Term;
    const result = object(entry, `${MF}result`) as Term;
    const dataUrl = (object(action, `${SHT}dataGraph`) as Term).value.split("#")[0] as string;
    const shapesUrl = (object(action, `${SHT}shapesGraph`) as Term).value.split("#")[0] as string;
    cases.push({
      name: entry.value.replace(/^.*data-shapes\//, ""),
      data: load(dataUrl),
      shapes: load(shapesUrl),
      failure: result.value === `${SHT}Failure`,
      conforms: object(result, `${SH}conforms`)?.value === "true",
      results: objects(result, `${SH}result`).map((r) => {
        const focus = object(r, `${SH}focusNode`) as Term;
        return {
          focusNode: focus.termType === "BlankNode" ? null : termToNTriples(focus),
          component: (object(r, `${SH}sourceConstraintComponent`) as Term).value,
          severity: (object(r, `${SH}resultSeverity`) as Term).value,
        };
      }),
    });
  }
  return cases;
}

const coreManifest = new URL(
  "../../../node_modules/shacl-engine/test/assets/data-shapes/core/manifest.ttl",
  import.meta.url,
).href;
const cases = collectCases(coreManifest, []);

describe("SHACL Core test suite", () => {
  it("has the whole core suite", () => {
    expect(cases.length).toBeGreaterThanOrEqual(98);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    if (testCase.failure) {
      await expect(validateShacl(testCase.data, testCase.shapes)).rejects.toThrow();
      return;
    }
    const report = await validateShacl(testCase.data, testCase.shapes);
    expect(report.conforms).toBe(testCase.conforms);
    expect(report.results).toHaveLength(testCase.results.length);
    for (const expected of testCase.results) {
      const match = report.results.find(
        (actual) =>
          actual.sourceConstraintComponent === expected.component &&
          actual.severity === expected.severity &&
          (expected.focusNode === null || actual.focusNode === expected.focusNode),
      );
      expect(match, JSON.stringify(expected)).toBeDefined();
    }
  });
});
