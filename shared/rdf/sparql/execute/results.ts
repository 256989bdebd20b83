import type * as RDF from "@rdfjs/types";
import { RDF_LANG_STRING, XSD_STRING } from "../../../core/rdf-vocabulary";
import { termToJson } from "../../term-json";
import type { Bindings } from "../expressions";

/** A SELECT or ASK result, ready to serialize. */
export type SolutionResult =
  | { type: "bindings"; variables: string[]; bindings: Bindings[] }
  | { type: "boolean"; value: boolean };

/** application/sparql-results+json */
export function toSparqlJson(result: SolutionResult): string {
  if (result.type === "boolean") return JSON.stringify({ head: {}, boolean: result.value });
  const bindings = result.bindings.map((row) => {
    const out: Record<string, Record<string, string>> = {};
    for (const name of result.variables) {
      const term = row.get(name);
      if (term) out[name] = termToJson(term);
    }
    return out;
  });
  return JSON.stringify({ head: { vars: result.variables }, results: { bindings } });
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (char) =>
    char === "&" ? "&amp;" : char === "<" ? "&lt;" : char === ">" ? "&gt;" : "&quot;",
  );
}

function xmlTerm(term: RDF.Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<uri>${escapeXml(term.value)}</uri>`;
    case "BlankNode":
      return `<bnode>${escapeXml(term.value)}</bnode>`;
    case "Literal": {
      if (term.language) return `<literal xml:lang="${escapeXml(term.language)}">${escapeXml(term.value)}</literal>`;
      if (term.datatype.value === XSD_STRING || term.datatype.value === RDF_LANG_STRING) {
        return `<literal>${escapeXml(term.value)}</literal>`;
      }
      return `<literal datatype="${escapeXml(term.datatype.value)}">${escapeXml(term.value)}</literal>`;
    }
    default:
      return `<literal>${escapeXml(term.value)}</literal>`;
  }
}

/** application/sparql-results+xml */
export function toSparqlXml(result: SolutionResult): string {
  const lines = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">'];
  if (result.type === "boolean") {
    lines.push("  <head/>", `  <boolean>${result.value}</boolean>`, "</sparql>");
    return `${lines.join("\n")}\n`;
  }
  lines.push("  <head>");
  for (const name of result.variables) lines.push(`    <variable name="${escapeXml(name)}"/>`);
  lines.push("  </head>", "  <results>");
  for (const row of result.bindings) {
    lines.push("    <result>");
    for (const name of result.variables) {
      const term = row.get(name);
      if (term) lines.push(`      <binding name="${escapeXml(name)}">${xmlTerm(term)}</binding>`);
    }
    lines.push("    </result>");
  }
  lines.push("  </results>", "</sparql>");
  return `${lines.join("\n")}\n`;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** text/csv (lossy by design: values only, blank nodes as _:label). Booleans are written as one field. */
export function toSparqlCsv(result: SolutionResult): string {
  if (result.type === "boolean") return `_askResult\r\n${result.value}\r\n`;
  const lines = [result.variables.map(csvField).join(",")];
  for (const row of result.bindings) {
    lines.push(
      result.variables
        .map((name) => {
          const term = row.get(name);
          if (!term) return "";
          return csvField(term.termType === "BlankNode" ? `_:${term.value}` : term.value);
        })
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

function escapeNTriplesString(text: string): string {
  return text.replace(/[\\"\n\r\t]/g, (char) =>
    char === "\\" ? "\\\\" : char === '"' ? '\\"' : char === "\n" ? "\\n" : char === "\r" ? "\\r" : "\\t",
  );
}

/** A term in the Turtle/N-Triples syntax TSV results use. */
export function tsvTerm(term: RDF.Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<${term.value}>`;
    case "BlankNode":
      return `_:${term.value}`;
    case "Literal": {
      const lexical = `"${escapeNTriplesString(term.value)}"`;
      if (term.language) return `${lexical}@${term.language}`;
      const datatype = term.datatype.value;
      if (datatype === XSD_STRING) return lexical;
      if (datatype === "http://www.w3.org/2001/XMLSchema#integer" && /^[+-]?\d+$/.test(term.value)) return term.value;
      return `${lexical}^^<${datatype}>`;
    }
    default:
      return `"${escapeNTriplesString(term.value)}"`;
  }
}

/** text/tab-separated-values */
export function toSparqlTsv(result: SolutionResult): string {
  if (result.type === "boolean") return `?_askResult\n${result.value}\n`;
  const lines = [result.variables.map((name) => `?${name}`).join("\t")];
  for (const row of result.bindings) {
    lines.push(
      result.variables
        .map((name) => {
          const term = row.get(name);
          return term ? tsvTerm(term) : "";
        })
        .join("\t"),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Media types of the serializers above, for content negotiation. */
export const SPARQL_RESULT_SERIALIZERS: Record<string, (result: SolutionResult) => string> = {
  "application/sparql-results+json": toSparqlJson,
  "application/sparql-results+xml": toSparqlXml,
  "text/csv": toSparqlCsv,
  "text/tab-separated-values": toSparqlTsv,
};
