import type { Quad } from "@rdfjs/types";
import { NestingTooDeepError } from "../errors/budget-errors";
import { termToNTriples } from "./ntriples";

/**
 * Shapes refer to shapes (sh:node, sh:property, sh:not, sh:qualifiedValueShape, members of sh:and, sh:or,
 * sh:xone) at most this deep: the validator recurses once per level, whether the levels are nested in the
 * syntax or chained by IRIs.
 */
export const MAX_SHAPE_NESTING_DEPTH = 64;

const SH = "http://www.w3.org/ns/shacl#";
const RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const SHAPE_REFERENCES = new Set([`${SH}node`, `${SH}property`, `${SH}not`, `${SH}qualifiedValueShape`]);
const SHAPE_LISTS = new Set([`${SH}and`, `${SH}or`, `${SH}xone`]);

/**
 * Throws NestingTooDeepError when a chain of shape references in `shapes` is longer than `limit`. Cycles
 * are not chains (the validator stops at a shape it is already checking), so a reference back into the
 * current chain does not count. Linear in the shapes graph: every shape's depth is computed once.
 */
export function assertShapeNesting(shapes: Iterable<Quad>, limit = MAX_SHAPE_NESTING_DEPTH): void {
  const references = new Map<string, string[]>();
  const lists = new Map<string, string[]>();
  const first = new Map<string, string>();
  const rest = new Map<string, string>();
  const add = (map: Map<string, string[]>, key: string, value: string) => {
    const values = map.get(key);
    if (values) values.push(value);
    else map.set(key, [value]);
  };
  for (const quad of shapes) {
    const predicate = quad.predicate.value;
    if (SHAPE_REFERENCES.has(predicate)) add(references, termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (SHAPE_LISTS.has(predicate)) add(lists, termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (predicate === `${RDF}first`) first.set(termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (predicate === `${RDF}rest`) rest.set(termToNTriples(quad.subject), termToNTriples(quad.object));
  }
  for (const [shape, heads] of lists) {
    for (const head of heads) {
      const seen = new Set<string>();
      for (let node = head; first.has(node) && !seen.has(node); node = rest.get(node) ?? "") {
        seen.add(node);
        add(references, shape, first.get(node) as string);
      }
    }
  }

  const depth = new Map<string, number>();
  const onChain = new Set<string>();
  for (const root of references.keys()) {
    if (depth.has(root)) continue;
    // Depth-first with an explicit stack: a chain as long as the graph must not exhaust the call stack.
    const stack: { shape: string; next: number }[] = [{ shape: root, next: 0 }];
    onChain.add(root);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { shape: string; next: number };
      const children = references.get(frame.shape) ?? [];
      const child = children[frame.next++];
      if (child !== undefined) {
        if (depth.has(child) || onChain.has(child)) continue;
        if (stack.length >= limit) throw new NestingTooDeepError("shacl shapes", limit);
        onChain.add(child);
        stack.push({ shape: child, next: 0 });
        continue;
      }
      let deepest = 0;
      for (const next of children) deepest = Math.max(deepest, depth.get(next) ?? 0);
      if (deepest + 1 > limit) throw new NestingTooDeepError("shacl shapes", limit);
      depth.set(frame.shape, deepest + 1);
      onChain.delete(frame.shape);
      stack.pop();
    }
  }
}
