import { NestingTooDeepError } from "../errors/budget-errors";
import { lineAndColumn } from "../errors/text-position";

/**
 * Objects and arrays nest at most this deep in JSON bodies of RDF routes and in JSON-LD (a JSON-LD node
 * nested in a property takes two levels: the object and its array). Expansion recurses per level.
 */
export const MAX_JSON_NESTING_DEPTH = 128;

/** Offset of the bracket that opens level `limit + 1`, or -1. Brackets inside strings do not count. */
export function jsonNestingOverflowOffset(text: string, limit: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 0x5c /* \ */) i++;
        else if (inner === 0x22) break;
      }
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (++depth > limit) return i;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      depth--;
    }
  }
  return -1;
}

/** Throws NestingTooDeepError (with line and column) when JSON text nests deeper than `limit`. */
export function assertJsonNesting(text: string, subject: string, limit = MAX_JSON_NESTING_DEPTH): void {
  const offset = jsonNestingOverflowOffset(text, limit);
  if (offset >= 0) throw new NestingTooDeepError(subject, limit, lineAndColumn(text, offset));
}
