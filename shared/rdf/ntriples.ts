import type { Quad, Term } from "@rdfjs/types";
import { RDF_DIR_LANG_STRING, RDF_LANG_STRING, XSD_STRING } from "../core/rdf-vocabulary";

function uchar(codeUnit: number): string {
  return `\\u${codeUnit.toString(16).toUpperCase().padStart(4, "0")}`;
}

const literalEchar: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

// Canonical N-Triples (RDF 1.1 §canonical form, as used by RDFC-1.0): ECHAR where one exists, else UCHAR.
function escapeLiteral(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are exactly what must be escaped
  return value.replace(/[\u0000-\u001F\u007F"\\]/g, (ch) => literalEchar[ch] ?? uchar(ch.charCodeAt(0)));
}

function escapeIri(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these control characters are exactly what must be escaped
  return value.replace(/[\u0000-\u0020<>"{}|^`\\]/g, (ch) => uchar(ch.charCodeAt(0)));
}

/** One RDF term in canonical N-Triples syntax (`<iri>`, `_:label`, `"lexical"@lang`, `"lexical"^^<dt>`). */
export function termToNTriples(term: Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<${escapeIri(term.value)}>`;
    case "BlankNode":
      return `_:${term.value}`;
    case "Literal": {
      const lexical = `"${escapeLiteral(term.value)}"`;
      const datatype = term.datatype?.value ?? XSD_STRING;
      if (term.language) {
        const direction = (term as { direction?: string | null }).direction;
        return datatype === RDF_DIR_LANG_STRING && direction
          ? `${lexical}@${term.language}--${direction}`
          : `${lexical}@${term.language}`;
      }
      return datatype === XSD_STRING || datatype === RDF_LANG_STRING ? lexical : `${lexical}^^<${escapeIri(datatype)}>`;
    }
    case "DefaultGraph":
      return "";
    case "Variable":
      return `?${term.value}`;
    case "Quad":
      return `<<( ${termToNTriples(term.subject)} ${termToNTriples(term.predicate)} ${termToNTriples(term.object)} )>>`;
    default:
      throw new TypeError(`Unknown RDF term type ${(term as { termType: string }).termType}`);
  }
}

/** One quad as a canonical N-Quads line, without the trailing newline (no graph label for the default graph). */
export function quadToNQuadsLine(quad: Quad): string {
  const graph = quad.graph.termType === "DefaultGraph" ? "" : ` ${termToNTriples(quad.graph)}`;
  return `${termToNTriples(quad.subject)} ${termToNTriples(quad.predicate)} ${termToNTriples(quad.object)}${graph} .`;
}

/** One quad as an N-Triples line (graph dropped), without the trailing newline. */
export function quadToNTriplesLine(quad: Quad): string {
  return `${termToNTriples(quad.subject)} ${termToNTriples(quad.predicate)} ${termToNTriples(quad.object)} .`;
}

/** Code-unit order of strings; locale-independent so every runtime sorts the same way. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, duplicate-free lines joined with LF, each line terminated: the deterministic body of N-Triples/N-Quads. */
export function joinSortedLines(lines: Iterable<string>): string {
  const unique = [...new Set(lines)].sort(compareCodeUnits);
  return unique.length === 0 ? "" : `${unique.join("\n")}\n`;
}
