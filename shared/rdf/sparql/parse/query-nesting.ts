import { NestingTooDeepError } from "../../../core/budget-errors";
import { lineAndColumn } from "../../../core/text-position";

/**
 * Deepest nesting of brackets — `{ }` groups, `( )` expressions, `[ ]` blank node property lists —
 * a SPARQL text may have. The parser and the algebra translation recurse per level (and take
 * superlinear time on deep groups), so deeper texts are refused before parsing.
 */
export const MAX_QUERY_NESTING = 128;

/**
 * Most `{ }` groups a SPARQL text may hold. OPTIONAL, MINUS and UNION chains each nest the algebra one
 * level deeper without nesting brackets, and parsing and evaluation recurse through those levels.
 */
export const MAX_QUERY_GROUPS = 1024;

const OPENERS = new Set(["(", "{", "["]);
const CLOSERS = new Set([")", "}", "]"]);
/** Characters an IRI reference cannot hold: a `<` followed by one of these is the less-than operator. */
const NOT_IN_IRI = /[<>"{}|^`\\\s]/;

/**
 * Throws NestingTooDeepError when brackets outside strings, IRIs and comments nest deeper than `limit`
 * (MAX_QUERY_NESTING unless the caller is stricter), or when there are more than MAX_QUERY_GROUPS groups.
 * One pass, before the parser (whose work grows faster than linearly with nesting) sees the text.
 */
export function checkQueryNesting(text: string, subject = "SPARQL query", limit = MAX_QUERY_NESTING): void {
  let depth = 0;
  let groups = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (OPENERS.has(char)) {
      if (++depth > limit) throw new NestingTooDeepError(subject, limit, lineAndColumn(text, index));
      if (char === "{" && ++groups > MAX_QUERY_GROUPS) {
        throw new NestingTooDeepError(`${subject} groups`, MAX_QUERY_GROUPS, lineAndColumn(text, index));
      }
      index++;
    } else if (CLOSERS.has(char)) {
      depth = Math.max(0, depth - 1);
      index++;
    } else if (char === '"' || char === "'") index = afterString(text, index, char);
    else if (char === "#") {
      const end = text.indexOf("\n", index);
      index = end < 0 ? text.length : end + 1;
    } else if (char === "<") index = afterIri(text, index);
    else index++;
  }
}

function afterString(text: string, start: number, quote: string): number {
  const long = quote.repeat(3);
  if (text.startsWith(long, start)) {
    let index = start + 3;
    while (index < text.length) {
      if (text[index] === "\\") index += 2;
      else if (text.startsWith(long, index)) return index + 3;
      else index++;
    }
    return text.length;
  }
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\") index += 2;
    else if (char === quote) return index + 1;
    else if (char === "\n" || char === "\r") return index;
    else index++;
  }
  return text.length;
}

/** The index after an IRI reference starting at `start`, or after the `<` when it is an operator. */
function afterIri(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && !NOT_IN_IRI.test(text[index] as string)) index++;
  return text[index] === ">" ? index + 1 : start + 1;
}
