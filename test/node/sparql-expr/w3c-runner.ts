import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as RDF from "@rdfjs/types";
import { DataFactory, Parser, Store } from "n3";
import { type Algebra, translate } from "sparqlalgebrajs";
import { numericValue, termsEqual } from "../../../shared/rdf/sparql/expressions";
import { MiniEngine, UnsupportedFeature } from "./mini-engine";

const MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#";
const RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

export const CONFORMANCE = join(dirname(fileURLToPath(import.meta.url)), "../../../../shared/conformance");

export type Verdict = { name: string; status: "passed" | "failed" | "skipped"; reason?: string };

type Row = Map<string, RDF.Term>;

function loadTurtle(path: string): Store {
  const store = new Store();
  store.addQuads(new Parser({ baseIRI: pathToFileURL(path).href }).parse(readFileSync(path, "utf8")));
  return store;
}

function list(store: Store, head: RDF.Term): RDF.Term[] {
  const items: RDF.Term[] = [];
  let node = head;
  while (node.value !== `${RDF_NS}nil`) {
    const first = store.getObjects(node as never, `${RDF_NS}first`, null)[0];
    if (first) items.push(first);
    const rest = store.getObjects(node as never, `${RDF_NS}rest`, null)[0];
    if (!rest) break;
    node = rest;
  }
  return items;
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-fA-F]+);/g, (_, hex) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replace(/&amp;/g, "&");
}

function parseSrx(text: string): Row[] | boolean {
  const boolean = /<boolean>\s*(true|false)\s*<\/boolean>/.exec(text);
  if (boolean) return boolean[1] === "true";
  const rows: Row[] = [];
  for (const result of text.matchAll(/<result>([\s\S]*?)<\/result>|<result\s*\/>/g)) {
    const row: Row = new Map();
    for (const binding of (result[1] ?? "").matchAll(/<binding\s+name=["']([^"']+)["']\s*>([\s\S]*?)<\/binding>/g)) {
      const body = (binding[2] as string).trim();
      const uri = /^<uri>([\s\S]*)<\/uri>$/.exec(body);
      const bnode = /^<bnode>([\s\S]*)<\/bnode>$/.exec(body);
      const literal = /^<literal([^>]*?)(?:\/>|>([\s\S]*)<\/literal>)$/.exec(body);
      let term: RDF.Term;
      if (uri) term = DataFactory.namedNode(decodeXml(uri[1] as string));
      else if (bnode) term = DataFactory.blankNode(bnode[1]);
      else if (literal) {
        const attributes = literal[1] as string;
        const value = decodeXml(literal[2] ?? "");
        const datatype = /datatype=["']([^"']+)["']/.exec(attributes)?.[1];
        const language = /xml:lang=["']([^"']+)["']/.exec(attributes)?.[1];
        term = DataFactory.literal(value, language ?? (datatype ? DataFactory.namedNode(datatype) : undefined));
      } else throw new Error(`unreadable binding ${body}`);
      row.set(binding[1] as string, term);
    }
    rows.push(row);
  }
  return rows;
}

function parseSrj(text: string): Row[] | boolean {
  const json = JSON.parse(text);
  if (typeof json.boolean === "boolean") return json.boolean;
  return json.results.bindings.map(
    (binding: Record<string, { type: string; value: string; datatype?: string; "xml:lang"?: string }>) => {
      const row: Row = new Map();
      for (const [name, term] of Object.entries(binding)) {
        if (term.type === "uri") row.set(name, DataFactory.namedNode(term.value));
        else if (term.type === "bnode") row.set(name, DataFactory.blankNode(term.value));
        else {
          const tag = term["xml:lang"];
          row.set(
            name,
            DataFactory.literal(term.value, tag ?? (term.datatype ? DataFactory.namedNode(term.datatype) : undefined)),
          );
        }
      }
      return row;
    },
  );
}

const RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#";

/** The DAWG result-set vocabulary in Turtle (rs:ResultSet, rs:solution, rs:binding, rs:boolean). */
function parseTurtleResults(path: string): Row[] | boolean {
  const store = loadTurtle(path);
  const resultSet = store.getSubjects(`${RDF_NS}type`, `${RS}ResultSet`, null)[0];
  if (!resultSet) throw new UnsupportedFeature("graph results");
  const boolean = store.getObjects(resultSet as never, `${RS}boolean`, null)[0];
  if (boolean) return boolean.value === "true";
  return store.getObjects(resultSet as never, `${RS}solution`, null).map((solution) => {
    const row: Row = new Map();
    for (const binding of store.getObjects(solution as never, `${RS}binding`, null)) {
      const variable = store.getObjects(binding as never, `${RS}variable`, null)[0];
      const value = store.getObjects(binding as never, `${RS}value`, null)[0];
      if (variable && value) row.set(variable.value, value);
    }
    return row;
  });
}

/** Result terms match: same IRI; any blank node for a blank node; literals by value for numbers and dates. */
function termMatches(actual: RDF.Term, expected: RDF.Term): boolean {
  if (actual.termType !== expected.termType) return false;
  if (actual.termType === "BlankNode") return true;
  if (actual.termType !== "Literal" || expected.termType !== "Literal") return actual.value === expected.value;
  if (actual.language.toLowerCase() !== expected.language.toLowerCase()) return false;
  if (actual.datatype.value !== expected.datatype.value) return false;
  if (actual.value === expected.value) return true;
  if (!numericValue(actual) && !/#(dateTime|date)$/.test(actual.datatype.value)) return false;
  try {
    return termsEqual(actual, expected);
  } catch {
    return false;
  }
}

function rowMatches(actual: Row, expected: Row): boolean {
  if (actual.size !== expected.size) return false;
  for (const [name, term] of expected) {
    const other = actual.get(name);
    if (!other || !termMatches(other, term)) return false;
  }
  return true;
}

function sameRows(actual: Row[], expected: Row[], ordered: boolean): boolean {
  if (actual.length !== expected.length) return false;
  if (ordered && actual.every((row, i) => rowMatches(row, expected[i] as Row))) return true;
  const remaining = [...expected];
  for (const row of actual) {
    const index = remaining.findIndex((candidate) => rowMatches(row, candidate));
    if (index < 0) return false;
    remaining.splice(index, 1);
  }
  return true;
}

function hasOrderBy(operation: Algebra.Operation): boolean {
  if (operation.type === "orderby") return true;
  const input = (operation as Algebra.Single).input;
  return !!input && !Array.isArray(input) && hasOrderBy(input);
}

function showRows(rows: Row[] | boolean): string {
  if (typeof rows === "boolean") return String(rows);
  return rows
    .map(
      (row) =>
        `{${[...row].map(([name, term]) => `${name}=${term.termType === "Literal" ? JSON.stringify(term.value) + (term.language ? `@${term.language}` : `^^${term.datatype.value.split("#")[1]}`) : term.value}`).join(" ")}}`,
    )
    .join(" ");
}

/** Runs the QueryEvaluationTests of one manifest with the mini engine. */
export function runManifest(manifestPath: string): Verdict[] {
  const manifest = loadTurtle(manifestPath);
  const verdicts: Verdict[] = [];
  const heads = manifest.getObjects(null, `${MF}entries`, null);
  for (const head of heads) {
    for (const entry of list(manifest, head)) {
      const name = entry.value.split("#").pop() ?? entry.value;
      const type = manifest.getObjects(entry as never, `${RDF_NS}type`, null)[0]?.value;
      if (type !== `${MF}QueryEvaluationTest`) continue;
      const action = manifest.getObjects(entry as never, `${MF}action`, null)[0];
      const result = manifest.getObjects(entry as never, `${MF}result`, null)[0];
      if (!action || !result) continue;
      const queryFile = manifest.getObjects(action as never, `${QT}query`, null)[0];
      const dataFiles = manifest.getObjects(action as never, `${QT}data`, null);
      const graphData = manifest.getObjects(action as never, `${QT}graphData`, null);
      if (!queryFile) continue;
      const local = (term: RDF.Term) => fileURLToPath(term.value);
      const resultPath = local(result);
      if (graphData.length > 0) {
        verdicts.push({ name, status: "skipped", reason: "named graphs" });
        continue;
      }
      if (!/\.(srx|srj|ttl)$/.test(resultPath) || dataFiles.some((file) => !/\.(ttl|nt)$/.test(file.value))) {
        verdicts.push({ name, status: "skipped", reason: "result or data format" });
        continue;
      }
      try {
        const store = new Store();
        for (const file of dataFiles) {
          store.addQuads(new Parser({ baseIRI: file.value }).parse(readFileSync(local(file), "utf8")));
        }
        const queryPath = local(queryFile);
        const algebra = translate(readFileSync(queryPath, "utf8"), {
          quads: false,
          baseIRI: queryFile.value,
        }) as Algebra.Operation;
        // IRI() resolves against the query's BASE when it has one (sparqlalgebrajs does not expose it).
        const declaredBase = /^\s*BASE\s*<([^>]*)>/im.exec(readFileSync(queryPath, "utf8"))?.[1];
        const engine = new MiniEngine(store, declaredBase ?? queryFile.value);
        const resultText = readFileSync(resultPath, "utf8");
        const expected = resultPath.endsWith(".srj")
          ? parseSrj(resultText)
          : resultPath.endsWith(".ttl")
            ? parseTurtleResults(resultPath)
            : parseSrx(resultText);
        let actual: Row[] | boolean;
        if (algebra.type === "ask") actual = engine.evaluate(algebra.input).length > 0;
        else if (algebra.type === "project") actual = engine.evaluate(algebra);
        else if (["distinct", "reduced", "slice"].includes(algebra.type)) actual = engine.evaluate(algebra);
        else throw new UnsupportedFeature(algebra.type);
        const passed =
          typeof expected === "boolean" || typeof actual === "boolean"
            ? actual === expected
            : sameRows(actual, expected, hasOrderBy(algebra));
        verdicts.push(
          passed
            ? { name, status: "passed" }
            : { name, status: "failed", reason: `got ${showRows(actual)} expected ${showRows(expected)}` },
        );
      } catch (error) {
        if (error instanceof UnsupportedFeature) verdicts.push({ name, status: "skipped", reason: error.message });
        else verdicts.push({ name, status: "failed", reason: String(error) });
      }
    }
  }
  return verdicts;
}
