import type * as RDF from "@rdfjs/types";
import { termKey } from "../../store/term-key";
import type { Bindings } from "../expressions";

/** A string per distinct term, quoted triples included: the key of joins, groups and DISTINCT. */
export function bindingKey(term: RDF.Term): string {
  if (term.termType === "Quad")
    return `<<${termKey(term.subject)} ${termKey(term.predicate)} ${termKey(term.object)}>>`;
  return termKey(term);
}

/** SPARQL compatibility: every variable both rows bind has the same term in both. */
export function compatible(a: Bindings, b: Bindings): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [name, term] of small) {
    const other = large.get(name);
    if (other && !term.equals(other)) return false;
  }
  return true;
}

/** The union of two compatible rows (one of them itself when the other is empty). */
export function merge(a: Bindings, b: Bindings): Bindings {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const result = new Map(a);
  for (const [name, term] of b) result.set(name, term);
  return result;
}

export function variablesOf(rows: readonly Bindings[]): Set<string> {
  const names = new Set<string>();
  for (const row of rows) for (const name of row.keys()) names.add(name);
  return names;
}
