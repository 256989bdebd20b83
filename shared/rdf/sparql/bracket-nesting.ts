import { NestingTooDeepError } from "../../errors/budget-errors";
import { lineAndColumn } from "../json-nesting";

// An IRI reference as SPARQL writes it; a `<` that does not start one is the less-than operator.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters an IRI reference excludes
const IRI_REF = /<[^<>"{}|^`\\\u0000-\u0020]*>/y;

/**
 * Offset of the bracket (`(`, `[`, `{`) that opens level `limit + 1` of SPARQL text, or -1. Brackets in
 * strings, IRIs and comments do not count. One pass, before the parser (whose work grows faster than
 * linearly with nesting) sees the text.
 */
export function sparqlNestingOverflowOffset(text: string, limit: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "[" || ch === "{") {
      if (++depth > limit) return i;
    } else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
    } else if (ch === "#") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (ch === "<") {
      IRI_REF.lastIndex = i;
      if (IRI_REF.test(text)) i = IRI_REF.lastIndex - 1;
    } else if (ch === '"' || ch === "'") {
      const long = text.startsWith(ch.repeat(3), i);
      const close = long ? ch.repeat(3) : ch;
      for (i += close.length; i < text.length; i++) {
        if (text[i] === "\\") i++;
        else if (text.startsWith(close, i)) {
          i += close.length - 1;
          break;
        }
      }
    }
  }
  return -1;
}

/** Throws NestingTooDeepError (with line and column) when SPARQL text nests brackets deeper than `limit`. */
export function assertSparqlNesting(text: string, subject: string, limit: number): void {
  const offset = sparqlNestingOverflowOffset(text, limit);
  if (offset >= 0) throw new NestingTooDeepError(subject, limit, lineAndColumn(text, offset));
}
