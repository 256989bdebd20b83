import type { Quad } from "@rdfjs/types";
import { NestingTooDeepError, WorkBudgetExceededError } from "../core/budget-errors";
import { RDF_FIRST, RDF_REST, SH_NS } from "../core/rdf-vocabulary";
import { termToNTriples } from "./ntriples";

/**
 * Shapes refer to shapes (sh:node, sh:property, sh:not, sh:qualifiedValueShape, members of sh:and, sh:or,
 * sh:xone) at most this deep: the validator recurses once per level, whether the levels are nested in the
 * syntax or chained by IRIs.
 */
export const MAX_SHAPE_NESTING_DEPTH = 64;

/**
 * Members one list of shapes (sh:and, sh:or, sh:xone) or of path steps (a sequence or sh:alternativePath)
 * may have: the validator's work grows with each member for every value it checks.
 */
export const MAX_SHAPE_LIST_LENGTH = 1_000;

const SHAPE_REFERENCES = new Set([`${SH_NS}node`, `${SH_NS}property`, `${SH_NS}not`, `${SH_NS}qualifiedValueShape`]);
const SHAPE_LISTS = new Set([`${SH_NS}and`, `${SH_NS}or`, `${SH_NS}xone`]);
const PATH_LISTS = new Set([`${SH_NS}path`, `${SH_NS}alternativePath`]);

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
  const pathHeads: string[] = [];
  const add = (map: Map<string, string[]>, key: string, value: string) => {
    const values = map.get(key);
    if (values) values.push(value);
    else map.set(key, [value]);
  };
  for (const quad of shapes) {
    const predicate = quad.predicate.value;
    if (SHAPE_REFERENCES.has(predicate)) add(references, termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (SHAPE_LISTS.has(predicate)) add(lists, termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (PATH_LISTS.has(predicate)) pathHeads.push(termToNTriples(quad.object));
    else if (predicate === RDF_FIRST) first.set(termToNTriples(quad.subject), termToNTriples(quad.object));
    else if (predicate === RDF_REST) rest.set(termToNTriples(quad.subject), termToNTriples(quad.object));
  }
  const members = (head: string): string[] => {
    const seen = new Set<string>();
    const values: string[] = [];
    for (let node = head; first.has(node) && !seen.has(node); node = rest.get(node) ?? "") {
      seen.add(node);
      values.push(first.get(node) as string);
      if (values.length > MAX_SHAPE_LIST_LENGTH)
        throw new WorkBudgetExceededError("shacl shapes list", MAX_SHAPE_LIST_LENGTH, "members");
    }
    return values;
  };
  for (const head of pathHeads) members(head);
  for (const [shape, heads] of lists) {
    for (const head of heads) for (const member of members(head)) add(references, shape, member);
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
