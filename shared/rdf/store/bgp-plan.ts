import type { EncodedPattern } from "./queryable-graph";

function slotCost(pattern: EncodedPattern, bound: Set<string>): number {
  const isBound = pattern.map((slot) => "id" in slot || bound.has(slot.variable));
  const [s, p, o] = isBound;
  if (s && p && o) return 1;
  if (s && o) return 2;
  if (s && p) return 3;
  if (s) return 5;
  if (o && p) return 4;
  if (o) return 6;
  if (p) return 8;
  return 10;
}

/** Greedy join order: cheapest pattern first, then patterns that share bound variables. */
export function orderPatterns(patterns: EncodedPattern[]): EncodedPattern[] {
  const remaining = [...patterns];
  const ordered: EncodedPattern[] = [];
  const bound = new Set<string>();
  while (remaining.length > 0) {
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    remaining.forEach((pattern, index) => {
      let cost = slotCost(pattern, bound);
      // Prefer connected patterns over cartesian products.
      if (ordered.length > 0 && !pattern.some((slot) => "variable" in slot && bound.has(slot.variable))) cost += 20;
      if (cost < bestCost) {
        bestCost = cost;
        best = index;
      }
    });
    const [pattern] = remaining.splice(best, 1) as [EncodedPattern];
    ordered.push(pattern);
    for (const slot of pattern) if ("variable" in slot) bound.add(slot.variable);
  }
  return ordered;
}

/**
 * The patterns split into groups that share no variable (patterns without variables are left out):
 * a BGP of several groups is their cartesian product.
 */
export function connectedComponents(patterns: EncodedPattern[]): EncodedPattern[][] {
  const components: { variables: Set<string>; patterns: EncodedPattern[] }[] = [];
  for (const pattern of patterns) {
    const variables = pattern.flatMap((slot) => ("variable" in slot ? [slot.variable] : []));
    if (variables.length === 0) continue;
    const merged = { variables: new Set(variables), patterns: [pattern] };
    for (let index = components.length - 1; index >= 0; index--) {
      const component = components[index] as (typeof components)[number];
      if (!variables.some((name) => component.variables.has(name))) continue;
      for (const name of component.variables) merged.variables.add(name);
      merged.patterns.push(...component.patterns);
      components.splice(index, 1);
    }
    components.push(merged);
  }
  return components.map((component) => component.patterns);
}

/**
 * The join order's prefixes that end just before a pattern whose variables are all bound already (a
 * cycle, or a repeated variable): such a pattern only filters, so the store may read many more prefix
 * rows than the BGP returns.
 */
export function filteredJoinPrefixes(patterns: EncodedPattern[]): EncodedPattern[][] {
  if (patterns.length < 3) return [];
  const ordered = orderPatterns(patterns);
  const bound = new Set<string>();
  const prefixes: EncodedPattern[][] = [];
  ordered.forEach((pattern, index) => {
    const variables = pattern.flatMap((slot) => ("variable" in slot ? [slot.variable] : []));
    if (index >= 2 && variables.length > 0 && variables.every((name) => bound.has(name))) {
      prefixes.push(ordered.slice(0, index));
    }
    for (const name of variables) bound.add(name);
  });
  return prefixes;
}
