import type * as RDF from "@rdfjs/types";
import { ExpressionError } from "./errors";
import { isSimpleString, isStringLiteral } from "./vocab";

/** A simple literal, xsd:string or language-tagged string argument; throws otherwise. */
export function requireStringLiteral(term: RDF.Term): RDF.Literal {
  if (!isStringLiteral(term)) throw new ExpressionError("expected a string literal");
  return term;
}

/** A simple literal or xsd:string argument (no language tag); throws otherwise. */
export function requireSimpleString(term: RDF.Term): RDF.Literal {
  if (!isSimpleString(term)) throw new ExpressionError("expected a simple literal or xsd:string");
  return term;
}

/** SPARQL argument compatibility (17.4.3.1.1): returns the language of the result or "" for a simple literal. */
export function requireCompatible(first: RDF.Term, second: RDF.Term): [RDF.Literal, RDF.Literal] {
  const a = requireStringLiteral(first);
  const b = requireStringLiteral(second);
  if (b.language && a.language.toLowerCase() !== b.language.toLowerCase()) {
    throw new ExpressionError("incompatible string arguments");
  }
  return [a, b];
}

export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** fn:substring over code points with XPath rounding (half towards positive infinity). */
export function substring(text: string, start: number, length?: number): string {
  const round = (x: number) => Math.floor(x + 0.5);
  const first = round(start);
  const end = length === undefined ? Number.POSITIVE_INFINITY : first + round(length);
  if (Number.isNaN(first) || Number.isNaN(end)) return "";
  let result = "";
  let position = 1;
  for (const char of text) {
    if (position >= first && position < end) result += char;
    position++;
  }
  return result;
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

export function encodeForUri(text: string): string {
  let result = "";
  for (const char of text) {
    if (UNRESERVED.test(char)) {
      result += char;
      continue;
    }
    for (const byte of new TextEncoder().encode(char)) result += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return result;
}

/** RFC 4647 basic filtering, as SPARQL's langMatches. */
export function languageMatches(tag: string, range: string): boolean {
  if (range === "*") return tag !== "";
  const lowerTag = tag.toLowerCase();
  const lowerRange = range.toLowerCase();
  return lowerTag === lowerRange || (lowerTag.startsWith(lowerRange) && lowerTag[lowerRange.length] === "-");
}

/** BCP 47 shape: a 2–8 letter primary subtag (or the x-/i- private and grandfathered prefixes), then subtags. */
export const LANGUAGE_TAG_RE = /^(?:[a-zA-Z]{2,8}|[xXiI](?=-))(?:-[a-zA-Z0-9]{1,8})*$/;
