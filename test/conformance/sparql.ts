// `npm run conformance -- sparql <manifest.ttl> [--verbose] [--filter <substring>]`: runs a W3C SPARQL
// test manifest (following mf:include) against our engine over a node:sqlite quad store.
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as RDF from "@rdfjs/types";
import { Parser, Store } from "n3";
import { isomorphic } from "rdf-isomorphic";
import { RdfXmlParser } from "rdfxml-streaming-parser";
import { Algebra } from "sparqlalgebrajs";
import { runSparqlQuery } from "../../shared/rdf/sparql/engine";
import { type SolutionResult, toSparqlCsv } from "../../shared/rdf/sparql/execute/results";
import { parseQuery, parseSparql } from "../../shared/rdf/sparql/parse/parse";
import type { QuadStore } from "../../shared/rdf/store/quad-store";
import { dataFactory } from "../../shared/rdf/store/term-key";
import { migratedQuadStore } from "../support/sparql-store";

const MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#";
const RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const RDFS = "http://www.w3.org/2000/01/rdf-schema#";
const RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#";
const UT = "http://www.w3.org/2009/sparql/tests/test-update#";

type Row = Map<string, RDF.Term>;
/** A solution as the engine returns it. */
type Solution = ReadonlyMap<string, RDF.Term>;
type Expected =
  | { type: "bindings"; variables: string[]; rows: Row[]; ordered: boolean }
  | { type: "boolean"; value: boolean }
  | { type: "graph"; quads: RDF.Quad[] };

interface TestCase {
  id: string;
  name: string;
  type: string;
  manifest: string;
  node: RDF.Term;
}

export interface SparqlSuiteReport {
  cases: number;
  passed: number;
  failed: number;
  skipped: number;
  failures: { id: string; name: string; kind: string; reason: string }[];
  skips: { id: string; reason: string }[];
}

const fileCache = new Map<string, string>();
function readUrl(url: string): string {
  let text = fileCache.get(url);
  if (text === undefined) {
    text = readFileSync(fileURLToPath(url), "utf8");
    fileCache.set(url, text);
  }
  return text;
}

function loadTurtle(url: string): RDF.Quad[] {
  return new Parser({ baseIRI: url, format: url.endsWith(".nt") ? "N-Triples" : "Turtle" }).parse(readUrl(url));
}

async function loadRdf(url: string): Promise<RDF.Quad[]> {
  if (!url.endsWith(".rdf")) return loadTurtle(url);
  const quads: RDF.Quad[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new RdfXmlParser({ baseIRI: url });
    parser.on("data", (quad: RDF.Quad) => quads.push(quad));
    parser.on("error", reject);
    parser.on("end", () => resolve());
    parser.write(readUrl(url));
    parser.end();
  });
  return quads;
}

function list(store: Store, head: RDF.Term | null): RDF.Term[] {
  const items: RDF.Term[] = [];
  let node = head;
  while (node && node.value !== `${RDF_NS}nil`) {
    const first = store.getObjects(node as RDF.Quad_Subject, `${RDF_NS}first`, null)[0];
    if (first) items.push(first);
    node = store.getObjects(node as RDF.Quad_Subject, `${RDF_NS}rest`, null)[0] ?? null;
  }
  return items;
}

function collectTests(manifestUrl: string, seen = new Set<string>()): { tests: TestCase[]; store: Store }[] {
  if (seen.has(manifestUrl)) return [];
  seen.add(manifestUrl);
  const store = new Store(loadTurtle(manifestUrl));
  const result: { tests: TestCase[]; store: Store }[] = [];
  const manifest = dataFactory.namedNode(manifestUrl);
  for (const head of store.getObjects(manifest, `${MF}include`, null)) {
    for (const include of list(store, head)) result.push(...collectTests(include.value, seen));
  }
  const tests: TestCase[] = [];
  for (const head of store.getObjects(manifest, `${MF}entries`, null)) {
    for (const node of list(store, head)) {
      const type = store.getObjects(node as RDF.Quad_Subject, `${RDF_NS}type`, null)[0]?.value ?? "";
      const name = store.getObjects(node as RDF.Quad_Subject, `${MF}name`, null)[0]?.value ?? node.value;
      tests.push({ id: node.value, name, type: type.replace(MF, "mf:"), manifest: manifestUrl, node });
    }
  }
  result.push({ tests, store });
  return result;
}

function object(store: Store, subject: RDF.Term, predicate: string): RDF.Term | undefined {
  return store.getObjects(subject as RDF.Quad_Subject, predicate, null)[0];
}

// ---- expected results ----

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, entity: string) => {
    if (entity === "lt") return "<";
    if (entity === "gt") return ">";
    if (entity === "amp") return "&";
    if (entity === "quot") return '"';
    if (entity === "apos") return "'";
    return String.fromCodePoint(entity[1] === "x" ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
  });
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`${name.replace(":", "\\:")}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(attributes);
  return match ? decodeXml(match[2] ?? match[3] ?? "") : undefined;
}

function parseSrx(text: string): Expected {
  const body = text.replace(/<!--[\s\S]*?-->/g, "");
  const booleanMatch = /<boolean>\s*(true|false)\s*<\/boolean>/.exec(body);
  if (booleanMatch) return { type: "boolean", value: booleanMatch[1] === "true" };
  const variables = [...body.matchAll(/<variable\s+name\s*=\s*["']([^"']+)["']/g)].map((match) => match[1] as string);
  const rows: Row[] = [];
  for (const result of body.matchAll(/<result>([\s\S]*?)<\/result>|<result\s*\/>/g)) {
    const row: Row = new Map();
    for (const binding of (result[1] ?? "").matchAll(
      /<binding\s+name\s*=\s*["']([^"']+)["']\s*>([\s\S]*?)<\/binding>/g,
    )) {
      const value = (binding[2] as string).trim();
      let term: RDF.Term;
      const uri = /^<uri>([\s\S]*)<\/uri>$/.exec(value);
      const bnode = /^<bnode>([\s\S]*)<\/bnode>$/.exec(value);
      const literal = /^<literal([^>]*)>([\s\S]*)<\/literal>$/.exec(value) ?? /^<literal([^>]*)\/>$/.exec(value);
      if (uri) term = dataFactory.namedNode(decodeXml(uri[1] as string));
      else if (bnode) term = dataFactory.blankNode(decodeXml(bnode[1] as string));
      else if (literal) {
        const attributes = literal[1] ?? "";
        const lexical = decodeXml(literal[2] ?? "");
        const language = attribute(attributes, "xml:lang");
        const datatype = attribute(attributes, "datatype");
        term = language
          ? dataFactory.literal(lexical, language)
          : dataFactory.literal(lexical, datatype ? dataFactory.namedNode(datatype) : undefined);
      } else throw new Error(`unreadable binding ${value}`);
      row.set(binding[1] as string, term);
    }
    rows.push(row);
  }
  return { type: "bindings", variables, rows, ordered: true };
}

function parseSrj(text: string): Expected {
  const json = JSON.parse(text) as {
    head: { vars?: string[] };
    boolean?: boolean;
    results?: { bindings: Record<string, { type: string; value: string; "xml:lang"?: string; datatype?: string }>[] };
  };
  if (typeof json.boolean === "boolean") return { type: "boolean", value: json.boolean };
  const rows = (json.results?.bindings ?? []).map((binding) => {
    const row: Row = new Map();
    for (const [name, value] of Object.entries(binding)) {
      if (value.type === "uri") row.set(name, dataFactory.namedNode(value.value));
      else if (value.type === "bnode") row.set(name, dataFactory.blankNode(value.value));
      else if (value["xml:lang"]) row.set(name, dataFactory.literal(value.value, value["xml:lang"]));
      else
        row.set(
          name,
          dataFactory.literal(value.value, value.datatype ? dataFactory.namedNode(value.datatype) : undefined),
        );
    }
    return row;
  });
  return { type: "bindings", variables: json.head.vars ?? [], rows, ordered: true };
}

function parseTsv(text: string): Expected {
  const lines = text.replace(/\r?\n$/, "").split(/\r?\n/);
  const variables = (lines[0] ?? "").split("\t").map((name) => name.replace(/^\?/, ""));
  const rows = lines.slice(1).map((line) => {
    const row: Row = new Map();
    line.split("\t").forEach((field, index) => {
      if (field === "") return;
      const quad = new Parser({ format: "Turtle" }).parse(`<x:s> <x:p> ${field} .`)[0] as RDF.Quad;
      row.set(variables[index] as string, quad.object);
    });
    return row;
  });
  return { type: "bindings", variables, rows, ordered: true };
}

function parseRdfResultSet(quads: RDF.Quad[]): Expected {
  const store = new Store(quads);
  const resultSet = store.getSubjects(`${RDF_NS}type`, `${RS}ResultSet`, null)[0];
  if (!resultSet) return { type: "graph", quads };
  const booleanValue = object(store, resultSet, `${RS}boolean`);
  if (booleanValue) return { type: "boolean", value: booleanValue.value === "true" };
  const variables = store.getObjects(resultSet, `${RS}resultVariable`, null).map((term) => term.value);
  let ordered = false;
  const solutions = store.getObjects(resultSet, `${RS}solution`, null).map((solution) => {
    const index = object(store, solution, `${RS}index`);
    if (index) ordered = true;
    const row: Row = new Map();
    for (const binding of store.getObjects(solution as RDF.Quad_Subject, `${RS}binding`, null)) {
      const variable = object(store, binding, `${RS}variable`);
      const value = object(store, binding, `${RS}value`);
      if (variable && value) row.set(variable.value, value);
    }
    return { index: index ? Number(index.value) : 0, row };
  });
  solutions.sort((a, b) => a.index - b.index);
  return { type: "bindings", variables, rows: solutions.map((solution) => solution.row), ordered };
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

async function loadExpected(url: string): Promise<Expected> {
  if (url.endsWith(".srx")) return parseSrx(readUrl(url));
  if (url.endsWith(".srj")) return parseSrj(readUrl(url));
  if (url.endsWith(".tsv")) return parseTsv(readUrl(url));
  return parseRdfResultSet(await loadRdf(url));
}

// ---- comparison ----

function termMatches(
  expected: RDF.Term,
  actual: RDF.Term,
  mapping: Map<string, string>,
  used: Set<string>,
): boolean | string {
  if (expected.termType === "BlankNode" && actual.termType === "BlankNode") {
    const mapped = mapping.get(expected.value);
    if (mapped !== undefined) return mapped === actual.value;
    return used.has(actual.value) ? false : `${expected.value}`;
  }
  if (expected.termType === "Literal" && actual.termType === "Literal" && !expected.equals(actual)) {
    // The expected files write computed numbers in whatever lexical form their engine chose ("1050" and
    // "1.05E3", "0" and "0.0E0" for the same xsd:double): numbers of one datatype compare by value.
    const datatype = expected.datatype.value;
    if (datatype === actual.datatype.value && FLOATING.has(datatype)) {
      const [a, b] = [Number(expected.value), Number(actual.value)];
      return a === b || (Number.isNaN(a) && Number.isNaN(b));
    }
    if (datatype === actual.datatype.value && datatype === `${XSD}decimal`) {
      return canonicalDecimal(expected.value) === canonicalDecimal(actual.value);
    }
  }
  return expected.equals(actual);
}

const XSD = "http://www.w3.org/2001/XMLSchema#";
const FLOATING = new Set([`${XSD}double`, `${XSD}float`]);

function canonicalDecimal(lexical: string): string | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(lexical.trim());
  if (!match) return null;
  const integer = (match[2] ?? "").replace(/^0+(?=\d)/, "") || "0";
  const fraction = (match[3] ?? "").replace(/0+$/, "");
  const sign = match[1] === "-" && (integer !== "0" || fraction !== "") ? "-" : "";
  return `${sign}${integer}.${fraction || "0"}`;
}

/** Matches rows under one blank-node bijection (backtracking); ordered compares position by position. */
function rowsMatch(expected: Row[], actual: readonly Solution[], ordered: boolean): boolean {
  if (expected.length !== actual.length) return false;
  const mapping = new Map<string, string>();
  const used = new Set<string>();
  const taken = new Array<boolean>(actual.length).fill(false);
  const tryRow = (a: Row, b: Solution): string[] | null => {
    if (a.size !== b.size) return null;
    const added: string[] = [];
    for (const [name, term] of a) {
      const other = b.get(name);
      const match = other ? termMatches(term, other, mapping, used) : false;
      if (match === false) {
        for (const key of added) {
          used.delete(mapping.get(key) as string);
          mapping.delete(key);
        }
        return null;
      }
      if (typeof match === "string") {
        mapping.set(match, (other as RDF.Term).value);
        used.add((other as RDF.Term).value);
        added.push(match);
      }
    }
    return added;
  };
  const undo = (added: string[]) => {
    for (const key of added) {
      used.delete(mapping.get(key) as string);
      mapping.delete(key);
    }
  };
  let budget = 200_000;
  const search = (index: number): boolean => {
    if (index === expected.length) return true;
    if (--budget < 0) return false;
    const row = expected[index] as Row;
    const candidates = ordered ? [index] : actual.map((_, i) => i);
    for (const candidate of candidates) {
      if (taken[candidate]) continue;
      const added = tryRow(row, actual[candidate] as Solution);
      if (!added) continue;
      taken[candidate] = true;
      if (search(index + 1)) return true;
      taken[candidate] = false;
      undo(added);
    }
    return false;
  };
  return search(0);
}

function hasOrderBy(op: Algebra.Operation): boolean {
  switch (op.type) {
    case Algebra.types.ORDER_BY:
      return true;
    case Algebra.types.PROJECT:
    case Algebra.types.SLICE:
    case Algebra.types.DISTINCT:
    case Algebra.types.REDUCED:
    case Algebra.types.FROM:
    case Algebra.types.EXTEND:
      return hasOrderBy(op.input);
    default:
      return false;
  }
}

function fromGraphs(op: Algebra.Operation): string[] {
  if (op.type === Algebra.types.FROM) return [...op.default, ...op.named].map((iri) => iri.value);
  if ("input" in op && op.input && !Array.isArray(op.input)) return fromGraphs(op.input as Algebra.Operation);
  return [];
}

// ---- running ----

const SKIP_FOLDERS: [RegExp, string][] = [
  [/\/entailment\//, "entailment regime"],
  [/\/service\//, "SERVICE (federation)"],
];

async function runEvaluation(store: Store, test: TestCase): Promise<string | null> {
  const action = object(store, test.node, `${MF}action`) as RDF.Term;
  const queryUrl = object(store, action, `${QT}query`)?.value as string;
  const resultUrl = object(store, test.node, `${MF}result`)?.value;
  const queryText = readUrl(queryUrl);
  const operation = parseQuery(queryText, { baseIRI: queryUrl });
  const quadStore = migratedQuadStore();
  // Graphs are written by the store's patch path (every triple added to an empty graph).
  const createdAt = "2000-01-01T00:00:00Z";
  const defaultData: RDF.Quad[] = [];
  for (const data of store.getObjects(action as RDF.Quad_Subject, `${QT}data`, null)) {
    defaultData.push(...(await loadRdf(data.value)));
  }
  quadStore.applyPatch("urn:x-test:default", { add: defaultData }, { createdAt });
  const named: { iri: string; ref: ReturnType<QuadStore["graphRef"]> }[] = [];
  for (const graph of store.getObjects(action as RDF.Quad_Subject, `${QT}graphData`, null)) {
    let iri = graph.value;
    let file = graph.value;
    if (graph.termType === "BlankNode") {
      file = object(store, graph, `${UT}graph`)?.value ?? object(store, graph, `${QT}graph`)?.value ?? "";
      iri = object(store, graph, `${RDFS}label`)?.value ?? file;
    }
    quadStore.applyPatch(iri, { add: await loadRdf(file) }, { createdAt });
    named.push({ iri, ref: quadStore.graphRef(iri) });
  }
  const available = [...named];
  for (const iri of fromGraphs(operation)) {
    if (available.some((graph) => graph.iri === iri) || !iri.startsWith("file:")) continue;
    quadStore.applyPatch(iri, { add: await loadRdf(iri) }, { createdAt });
    available.push({ iri, ref: quadStore.graphRef(iri) });
  }
  const result = runSparqlQuery(quadStore, operation, {
    dataset: { defaultGraph: [quadStore.graphRef("urn:x-test:default")], namedGraphs: named },
    availableGraphs: available,
    baseIRI: queryUrl,
    now: new Date("2026-01-01T00:00:00Z"),
  });
  if (!resultUrl) return "no expected result";
  if (test.type === "mf:CSVResultFormatTest") {
    if (result.type === "quads") return "expected a result set";
    return compareCsv(readUrl(resultUrl), toSparqlCsv(result as SolutionResult));
  }
  const expected = await loadExpected(resultUrl);
  if (expected.type === "boolean") {
    if (result.type !== "boolean") return `expected boolean, got ${result.type}`;
    return result.value === expected.value ? null : `expected ${expected.value}, got ${result.value}`;
  }
  if (expected.type === "graph") {
    if (result.type !== "quads") return `expected a graph, got ${result.type}`;
    return isomorphic(result.quads, expected.quads)
      ? null
      : `graphs differ: expected ${expected.quads.length} triples, got ${result.quads.length}`;
  }
  if (result.type !== "bindings") return `expected bindings, got ${result.type}`;
  const ordered = expected.ordered && hasOrderBy(operation);
  if (rowsMatch(expected.rows, result.bindings, ordered)) return null;
  return `rows differ: expected ${expected.rows.length}, got ${result.bindings.length}${ordered ? " (ordered)" : ""}\n  expected: ${formatRows(expected.rows)}\n  actual:   ${formatRows(result.bindings)}`;
}

function compareCsv(expectedText: string, actualText: string): string | null {
  const expected = parseCsv(expectedText);
  const actual = parseCsv(actualText);
  const asRows = (rows: string[][]): Row[] => {
    const header = rows[0] ?? [];
    return rows.slice(1).map((fields) => {
      const row: Row = new Map();
      fields.forEach((field, index) => {
        if (field !== "") {
          row.set(
            header[index] as string,
            field.startsWith("_:") ? dataFactory.blankNode(field.slice(2)) : dataFactory.literal(field),
          );
        }
      });
      return row;
    });
  };
  if ((expected[0] ?? []).join(",") !== (actual[0] ?? []).join(",")) return "CSV headers differ";
  return rowsMatch(asRows(expected), asRows(actual), false) ? null : "CSV rows differ";
}

function formatRows(rows: readonly Solution[]): string {
  const text = rows
    .slice(0, 8)
    .map(
      (row) =>
        `{${[...row].map(([name, term]) => `${name}=${term.termType === "Literal" ? JSON.stringify(term.value) + (term.language ? `@${term.language}` : `^^${term.datatype.value.replace(/.*[#/]/, "")}`) : term.value}`).join(" ")}}`,
    )
    .join(" ");
  return rows.length > 8 ? `${text} …` : text;
}

export async function runSparqlSuite(
  manifestPath: string,
  options: { filter?: string } = {},
): Promise<SparqlSuiteReport> {
  const manifestUrl = manifestPath.startsWith("file:") ? manifestPath : pathToFileURL(manifestPath).href;
  const report: SparqlSuiteReport = { cases: 0, passed: 0, failed: 0, skipped: 0, failures: [], skips: [] };
  for (const { tests, store } of collectTests(manifestUrl)) {
    for (const test of tests) {
      if (options.filter && !test.id.includes(options.filter) && !test.name.includes(options.filter)) continue;
      const skip = SKIP_FOLDERS.find(([pattern]) => pattern.test(test.manifest));
      const kind = test.type.replace(/^.*[#:]/, "");
      const known = /SyntaxTest|QueryEvaluationTest|CSVResultFormatTest/.test(kind);
      if (!known) continue;
      report.cases++;
      if (skip) {
        report.skipped++;
        report.skips.push({ id: test.id, reason: skip[1] });
        continue;
      }
      let failure: string | null;
      try {
        failure = await runCase(store, test, kind);
      } catch (error) {
        failure = `threw ${(error as Error).name}: ${(error as Error).message}`;
      }
      if (failure === null) report.passed++;
      else {
        report.failed++;
        report.failures.push({ id: test.id, name: test.name, kind, reason: failure });
      }
    }
  }
  return report;
}

async function runCase(store: Store, test: TestCase, kind: string): Promise<string | null> {
  if (kind.includes("SyntaxTest")) {
    const action = object(store, test.node, `${MF}action`) as RDF.Term;
    const text = readUrl(action.value);
    const positive = kind.startsWith("Positive");
    try {
      if (kind.includes("Update")) parseSparql(text, { baseIRI: action.value });
      else parseQuery(text, { baseIRI: action.value });
    } catch (error) {
      return positive ? `rejected: ${(error as Error).message.split("\n")[0]}` : null;
    }
    return positive ? null : "accepted a negative syntax test";
  }
  return runEvaluation(store, test);
}

export default async function (args: string[]): Promise<void> {
  const verbose = args.includes("--verbose");
  const filterIndex = args.indexOf("--filter");
  const filter = filterIndex >= 0 ? args[filterIndex + 1] : undefined;
  const manifest = args.find(
    (arg, index) => (!arg.startsWith("--") && index !== filterIndex + 1) || (filterIndex < 0 && !arg.startsWith("--")),
  );
  if (!manifest) {
    console.error("usage: npm run conformance -- sparql <manifest.ttl> [--verbose] [--filter <text>]");
    process.exit(2);
  }
  const report = await runSparqlSuite(manifest, { filter });
  if (verbose) {
    for (const failure of report.failures) console.error(`FAIL ${failure.id} (${failure.name}): ${failure.reason}`);
  }
  for (const skip of report.skips) console.error(`SKIP ${skip.id}: ${skip.reason}`);
  console.log(
    JSON.stringify({
      suite: "sparql",
      cases: report.cases,
      passed: report.passed,
      failed: report.failed,
      skipped: report.skipped,
    }),
  );
}
