import type { Term } from "@rdfjs/types";
import { RDF_LANG_STRING, XSD, XSD_NS, XSD_STRING } from "../core/rdf-vocabulary";

/**
 * Query rows as templates see them. A SELECT solution arrives as RDF terms (RowTerm, plain data);
 * `templateRows` turns each row into the values a template author expects:
 * - `xsd:boolean` → `true`/`false`;
 * - `xsd:integer` and the types derived from it, `xsd:decimal`, `xsd:double`, `xsd:float` → a number,
 *   when the number denotes exactly the literal's value (`12345678901234567890` and `1e400` stay strings);
 * - everything else (IRIs, blank nodes, strings, dates, ill-typed literals) → the lexical string.
 * The terms stay reachable under `$terms`: `row.$terms.name.datatype`, `.termType`, `.value`, `.language`.
 *
 * Locks made by engine versions in LEXICAL_ROW_ENGINE_VERSIONS replay with the rows those versions
 * gave, every value its lexical string and no `$terms`, so their artifacts stay byte for byte.
 */

export interface RowTerm {
  /** RDF/JS termType: "NamedNode", "BlankNode", "Literal" (or "Quad" for a quoted triple). */
  termType: Term["termType"];
  value: string;
  /** Literals only: the datatype IRI (`xsd:string` or `rdf:langString` for plain literals). */
  datatype?: string;
  /** Literals only: the language tag, "" when there is none. */
  language?: string;
}

/** One SELECT solution: variable → term (unbound variables are absent). */
export type TermRow = Record<string, RowTerm>;

export type RowValue = string | number | boolean;

/** A row as templates see it: variable → value, plus `$terms` under the typed semantics. */
export type TemplateRow = Record<string, unknown>;

/** `lexical`: every value is its lexical string (engine 0.1.0). `typed`: see the module comment. */
export type RowSemantics = "lexical" | "typed";

/** The key under which a typed row keeps its RDF terms (`$` cannot start a SPARQL variable name). */
export const ROW_TERMS_KEY = "$terms";

/** Engine versions whose rows were lexical strings: their locks replay that way. */
export const LEXICAL_ROW_ENGINE_VERSIONS: readonly string[] = ["0.1.0"];

export function rowSemanticsOf(engineVersion: string): RowSemantics {
  return LEXICAL_ROW_ENGINE_VERSIONS.includes(engineVersion) ? "lexical" : "typed";
}

/** An RDF/JS term as plain data (it crosses into templates, hashes and canonical JSON). */
export function rowTermOf(term: Term): RowTerm {
  if (term.termType !== "Literal") return { termType: term.termType, value: term.value };
  return {
    termType: "Literal",
    value: term.value,
    datatype: term.datatype?.value ?? (term.language ? RDF_LANG_STRING : XSD_STRING),
    language: term.language ?? "",
  };
}

const INTEGER_TYPES = new Set(
  [
    "integer",
    "nonPositiveInteger",
    "negativeInteger",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
    "positiveInteger",
  ].map((local) => `${XSD_NS}${local}`),
);
const INTEGER_LEXICAL = /^[+-]?\d+$/;
const DECIMAL_LEXICAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const FLOATING_LEXICAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal numeral reduced to sign, digits and exponent without redundant zeros: equal values, equal forms. */
function decimalKey(numeral: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(numeral);
  if (!match) return numeral;
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  let digits = `${whole}${fraction}`;
  let scale = Number(exponent) - fraction.length;
  const leading = digits.length - digits.replace(/^0+/, "").length;
  digits = digits.slice(leading);
  if (digits === "") return "0";
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  digits = digits.slice(0, digits.length - trailing);
  scale += trailing;
  return `${sign === "-" ? "-" : ""}${digits}e${scale}`;
}

/** The number, when it denotes exactly the value the numeral writes; otherwise undefined. */
function exactNumber(numeral: string): number | undefined {
  const number = Number(numeral);
  if (!Number.isFinite(number)) return undefined;
  return decimalKey(String(number)) === decimalKey(numeral) ? number : undefined;
}

/** A literal's value as a template sees it (typed semantics). */
export function templateValueOf(term: RowTerm): RowValue {
  if (term.termType !== "Literal") return term.value;
  const lexical = term.value;
  const datatype = term.datatype ?? XSD_STRING;
  if (datatype === XSD.boolean) {
    if (lexical === "true" || lexical === "1") return true;
    if (lexical === "false" || lexical === "0") return false;
    return lexical;
  }
  if (INTEGER_TYPES.has(datatype)) return INTEGER_LEXICAL.test(lexical) ? (exactNumber(lexical) ?? lexical) : lexical;
  if (datatype === XSD.decimal) return DECIMAL_LEXICAL.test(lexical) ? (exactNumber(lexical) ?? lexical) : lexical;
  if (datatype === XSD.double || datatype === XSD.float) {
    // A double or float is the nearest binary value by definition: any finite one is exactly a JS number.
    if (!FLOATING_LEXICAL.test(lexical)) return lexical;
    const number = Number(lexical);
    return Number.isFinite(number) ? number : lexical;
  }
  return lexical;
}

/** Defines an own enumerable property even for a key such as `__proto__` (a SPARQL variable may be named so). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function lexicalRow(row: TermRow): TemplateRow {
  const out: TemplateRow = {};
  for (const [variable, term] of Object.entries(row)) setOwn(out, variable, term.value);
  return out;
}

function typedRow(row: TermRow): TemplateRow {
  const out: TemplateRow = {};
  const terms: Record<string, RowTerm> = {};
  for (const [variable, term] of Object.entries(row)) {
    setOwn(out, variable, templateValueOf(term));
    setOwn(terms, variable, { ...term });
  }
  setOwn(out, ROW_TERMS_KEY, terms);
  return out;
}

/** The rows templates get for one query result under the given semantics. */
export function templateRows(rows: readonly TermRow[], semantics: RowSemantics): TemplateRow[] {
  return rows.map(semantics === "typed" ? typedRow : lexicalRow);
}

/** The lexical form of one variable of a template row, whichever semantics made it. */
export function lexicalValueOf(row: TemplateRow, variable: string): string | undefined {
  const terms = row[ROW_TERMS_KEY] as Record<string, RowTerm> | undefined;
  const term = terms !== undefined && Object.hasOwn(terms, variable) ? terms[variable] : undefined;
  if (term !== undefined) return term.value;
  const value = Object.hasOwn(row, variable) ? row[variable] : undefined;
  return typeof value === "string" ? value : undefined;
}
