import { NestingTooDeepError } from "./budget-errors";
import { lineAndColumn } from "./text-position";

/**
 * How deep JSON values may nest (arrays and objects inside each other) in request bodies, render
 * contexts, generation params, frontmatter and everything that canonicalizes or serializes them.
 * Real documents stay far below; the recursive code that walks them (validation, hashing,
 * rendering) stays far from the stack's end.
 */
export const MAX_JSON_DEPTH = 128;

interface Visit {
  node: object;
  children: unknown[];
  next: number;
  height: number;
}

/**
 * How deep arrays and objects nest in `value` (a scalar is 0, `[]` is 1, `[[1]]` is 2), counted
 * without recursion. Values reached twice are measured once; a value that contains itself is
 * Infinity. Stops at `limit + 1` once the answer is known to be over `limit`.
 */
export function jsonHeight(value: unknown, limit = MAX_JSON_DEPTH): number {
  if (value === null || typeof value !== "object") return 0;
  const heights = new Map<object, number>();
  const onPath = new Set<object>();
  const stack: Visit[] = [];
  const enter = (node: object) => {
    onPath.add(node);
    stack.push({ node, children: Array.isArray(node) ? node : Object.values(node), next: 0, height: 1 });
  };
  enter(value);
  while (stack.length > 0) {
    if (stack.length > limit) return limit + 1;
    const visit = stack[stack.length - 1] as Visit;
    if (visit.next < visit.children.length) {
      const child = visit.children[visit.next++];
      if (child === null || typeof child !== "object") continue;
      if (onPath.has(child)) return Number.POSITIVE_INFINITY;
      const known = heights.get(child);
      if (known === undefined) {
        enter(child);
        continue;
      }
      visit.height = Math.max(visit.height, known + 1);
      if (visit.height > limit) return limit + 1;
      continue;
    }
    stack.pop();
    onPath.delete(visit.node);
    heights.set(visit.node, visit.height);
    const parent = stack[stack.length - 1];
    if (parent) {
      parent.height = Math.max(parent.height, visit.height + 1);
      if (parent.height > limit) return limit + 1;
    }
  }
  return heights.get(value) as number;
}

/** Throws NestingTooDeepError when `value` nests deeper than `limit` (or contains itself). */
export function assertJsonDepth(value: unknown, subject: string, limit = MAX_JSON_DEPTH): void {
  if (value !== null && typeof value === "object" && jsonHeight(value, limit) > limit)
    throw new NestingTooDeepError(subject, limit);
}

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
export function assertJsonTextDepth(text: string, subject: string, limit = MAX_JSON_DEPTH): void {
  const offset = jsonNestingOverflowOffset(text, limit);
  if (offset >= 0) throw new NestingTooDeepError(subject, limit, lineAndColumn(text, offset));
}
