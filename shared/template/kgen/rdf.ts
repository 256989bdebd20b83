import { KgenFilterError } from "./errors";

export type PrefixMap = Readonly<Record<string, string>>;

/** Prefixes every KGEN render knows; a render may add or override entries. */
export const BUILTIN_PREFIXES: PrefixMap = Object.freeze({
  dc: "http://purl.org/dc/elements/1.1/",
  dcterms: "http://purl.org/dc/terms/",
  foaf: "http://xmlns.com/foaf/0.1/",
  owl: "http://www.w3.org/2002/07/owl#",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  rdfs: "http://www.w3.org/2000/01/rdf-schema#",
  schema: "https://schema.org/",
  skos: "http://www.w3.org/2004/02/skos/core#",
  xsd: "http://www.w3.org/2001/XMLSchema#",
});

const XSD = BUILTIN_PREFIXES.xsd as string;
const RDF_LANG_STRING = `${BUILTIN_PREFIXES.rdf}langString`;
const PREFIX_NAME = /^(?:[A-Za-z][\w.-]*)?$/;
const CURIE = /^([A-Za-z][\w.-]*)?:(.*)$/s;
const LOCAL_NAME = /^(?:[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_-])?)?$/u;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?$/;

/** Merges prefix maps left to right after checking names and namespaces; the result is frozen. */
export function mergePrefixes(...maps: Array<Readonly<Record<string, unknown>> | undefined>): PrefixMap {
  const merged: Record<string, string> = {};
  for (const map of maps) {
    if (map === undefined || map === null) continue;
    if (typeof map !== "object" || Array.isArray(map)) {
      throw new KgenFilterError("prefixes", "a prefix map must be an object of prefix → namespace IRI");
    }
    for (const prefix of Object.keys(map).sort()) {
      const namespace = map[prefix];
      if (!PREFIX_NAME.test(prefix)) throw new KgenFilterError("prefixes", `invalid prefix name "${prefix}"`);
      if (typeof namespace !== "string" || namespace === "") {
        throw new KgenFilterError("prefixes", `prefix "${prefix}" must map to a namespace IRI string`);
      }
      merged[prefix] = namespace;
    }
  }
  return Object.freeze(merged);
}

interface TermLike {
  kind: "iri" | "bnode" | "literal";
  value: string;
  language?: string;
  datatype?: string;
}

/** Reads RDF/JS terms, SPARQL JSON result bindings, `<iri>` / `_:b` strings and plain values. */
function readTerm(input: unknown): TermLike {
  if (input !== null && typeof input === "object") {
    const record = input as Record<string, unknown>;
    if (typeof record.termType === "string" && typeof record.value === "string") {
      if (record.termType === "NamedNode") return { kind: "iri", value: record.value };
      if (record.termType === "BlankNode") return { kind: "bnode", value: record.value };
      if (record.termType === "Literal") {
        // RDF/JS terms carry the datatype as a NamedNode; query rows' `$terms` as its IRI.
        const datatype = typeof record.datatype === "string" ? { value: record.datatype } : record.datatype;
        const datatypeIri = (datatype as { value?: unknown } | undefined)?.value;
        return {
          kind: "literal",
          value: record.value,
          language: typeof record.language === "string" && record.language ? record.language : undefined,
          datatype: typeof datatypeIri === "string" ? datatypeIri : undefined,
        };
      }
      return { kind: "literal", value: record.value };
    }
    if (typeof record.type === "string" && typeof record.value === "string") {
      if (record.type === "uri") return { kind: "iri", value: record.value };
      if (record.type === "bnode") return { kind: "bnode", value: record.value };
      const language = record["xml:lang"];
      return {
        kind: "literal",
        value: record.value,
        language: typeof language === "string" && language ? language : undefined,
        datatype: typeof record.datatype === "string" ? record.datatype : undefined,
      };
    }
  }
  if (typeof input === "string") {
    if (input.startsWith("<") && input.endsWith(">")) return { kind: "iri", value: input.slice(1, -1) };
    if (input.startsWith("_:")) return { kind: "bnode", value: input.slice(2) };
  }
  return { kind: "literal", value: input === undefined || input === null ? "" : String(input) };
}

function separatorIndex(iri: string): number {
  return Math.max(iri.lastIndexOf("#"), iri.lastIndexOf("/"), iri.lastIndexOf(":"));
}

/** The part of an IRI after its last `#`, `/` or `:` (`http://x.org/ns#Person` → `Person`). */
export function localName(input: unknown): string {
  const { value } = readTerm(input);
  return value.slice(separatorIndex(value) + 1);
}

/** The IRI up to and including its last `#`, `/` or `:` (`http://x.org/ns#Person` → `http://x.org/ns#`). */
export function namespace(input: unknown): string {
  const { value } = readTerm(input);
  return value.slice(0, separatorIndex(value) + 1);
}

/**
 * `prefix:local` for an IRI, using the longest matching namespace whose remainder is a plain
 * local name (letters, digits, `_`, `-`, inner `.`); ties go to the alphabetically first prefix.
 * IRIs no prefix fits come back unchanged.
 */
export function compactIri(input: unknown, prefixes: PrefixMap): string {
  const { value } = readTerm(input);
  let best: { prefix: string; namespace: string } | undefined;
  for (const prefix of Object.keys(prefixes).sort()) {
    const candidate = prefixes[prefix] as string;
    if (!value.startsWith(candidate) || !LOCAL_NAME.test(value.slice(candidate.length))) continue;
    if (best === undefined || candidate.length > best.namespace.length) best = { prefix, namespace: candidate };
  }
  return best === undefined ? value : `${best.prefix}:${value.slice(best.namespace.length)}`;
}

/** The full IRI of `prefix:local` when the prefix is known; `<iri>` loses its brackets; anything else is unchanged. */
export function expandIri(input: unknown, prefixes: PrefixMap): string {
  const term = readTerm(input);
  if (term.kind !== "literal") return term.kind === "bnode" ? `_:${term.value}` : term.value;
  const match = CURIE.exec(term.value);
  if (match === null || match[2]?.startsWith("//")) return term.value;
  const namespaceIri = prefixes[match[1] ?? ""];
  return namespaceIri === undefined ? term.value : namespaceIri + match[2];
}

/** A Turtle/SPARQL IRI reference: `<full-iri>` (CURIEs expanded); blank nodes stay `_:b`. */
export function iriRef(input: unknown, prefixes: PrefixMap): string {
  const term = readTerm(input);
  if (term.kind === "bnode") return `_:${term.value}`;
  return `<${expandIri(input, prefixes)}>`;
}

/** The lexical value of a term or binding; plain values are stringified, null and undefined give "". */
export function termValue(input: unknown): string {
  return readTerm(input).value;
}

/** `"iri"`, `"bnode"` or `"literal"`: the kind of RDF term a value denotes. */
export function rdfTermKind(input: unknown, prefixes: PrefixMap): "iri" | "bnode" | "literal" {
  const term = readTerm(input);
  if (term.kind !== "literal" || typeof input !== "string") return term.kind;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(input) || input.startsWith("urn:")) return "iri";
  return expandIri(input, prefixes) !== input ? "iri" : "literal";
}

/** The XSD datatype (as a full IRI) that a value would have as a literal. */
export function inferDatatype(input: unknown): string {
  const term = readTerm(input);
  if (input !== null && typeof input === "object" && !(input instanceof Date) && term.kind === "literal") {
    if (term.language) return RDF_LANG_STRING;
    if (term.datatype) return term.datatype;
    return `${XSD}string`;
  }
  if (typeof input === "boolean") return `${XSD}boolean`;
  if (typeof input === "bigint") return `${XSD}integer`;
  if (typeof input === "number") return Number.isSafeInteger(input) ? `${XSD}integer` : `${XSD}double`;
  if (input instanceof Date) return `${XSD}dateTime`;
  if (typeof input === "string") {
    if (ISO_DATE.test(input)) return `${XSD}date`;
    if (ISO_DATE_TIME.test(input)) return `${XSD}dateTime`;
  }
  return `${XSD}string`;
}

/** The XSD datatype of a value in prefixed form (`xsd:integer`), using the given prefixes. */
export function xsdType(input: unknown, prefixes: PrefixMap): string {
  return compactIri(inferDatatype(input), prefixes);
}

function escapeTurtleString(text: string): string {
  let escaped = "";
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === "\\") escaped += "\\\\";
    else if (char === '"') escaped += '\\"';
    else if (char === "\n") escaped += "\\n";
    else if (char === "\r") escaped += "\\r";
    else if (char === "\t") escaped += "\\t";
    else if (char === "\b") escaped += "\\b";
    else if (char === "\f") escaped += "\\f";
    else if (code < 0x20 || code === 0x7f) escaped += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else escaped += char;
  }
  return escaped;
}

function lexicalForm(input: unknown): string {
  if (typeof input === "number") {
    if (Number.isNaN(input)) return "NaN";
    if (!Number.isFinite(input)) return input > 0 ? "INF" : "-INF";
    return String(input);
  }
  if (input instanceof Date) {
    if (Number.isNaN(input.getTime())) throw new KgenFilterError("literal", "invalid Date");
    return input.toISOString();
  }
  return readTerm(input).value;
}

/**
 * A Turtle/SPARQL literal. `literal(v)` infers the datatype (strings stay plain, numbers,
 * booleans and Dates get `^^xsd:…`, RDF/JS and SPARQL-JSON literals keep their own);
 * `literal(v, "@en")` or `literal(v, null, "en")` gives a language tag; `literal(v, "xsd:date")`
 * or `literal(v, "http://…")` a datatype: a prefixed name stays prefixed (its prefix must be
 * known), a full IRI is written `<…>`.
 */
export function turtleLiteral(input: unknown, datatypeOrLanguage: unknown, language: unknown, prefixes: PrefixMap) {
  const term = readTerm(input);
  const quoted = `"${escapeTurtleString(lexicalForm(input))}"`;
  let tag = typeof language === "string" && language ? language : undefined;
  let datatype: string | undefined;
  if (typeof datatypeOrLanguage === "string" && datatypeOrLanguage) {
    if (datatypeOrLanguage.startsWith("@")) tag = datatypeOrLanguage.slice(1);
    else datatype = datatypeOrLanguage;
  } else if (datatypeOrLanguage !== undefined && datatypeOrLanguage !== null && datatypeOrLanguage !== "") {
    throw new KgenFilterError("literal", "the datatype must be a string (IRI, prefixed name or @language)");
  }
  if (tag !== undefined) {
    if (!/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)) {
      throw new KgenFilterError("literal", `invalid language tag "${tag}"`);
    }
    return `${quoted}@${tag}`;
  }
  if (datatype === undefined) {
    if (term.language && input !== null && typeof input === "object") return `${quoted}@${term.language}`;
    const inferred = inferDatatype(input);
    if (inferred === `${XSD}string`) return quoted;
    if (typeof input === "string") return quoted;
    const compact = compactIri(inferred, prefixes);
    return compact === inferred ? `${quoted}^^<${inferred}>` : `${quoted}^^${compact}`;
  }
  if (datatype.startsWith("<") && datatype.endsWith(">")) return `${quoted}^^${datatype}`;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(datatype) || datatype.startsWith("urn:")) return `${quoted}^^<${datatype}>`;
  if (expandIri(datatype, prefixes) === datatype) {
    throw new KgenFilterError("literal", `unknown prefix in datatype "${datatype}"`);
  }
  return `${quoted}^^${datatype}`;
}
