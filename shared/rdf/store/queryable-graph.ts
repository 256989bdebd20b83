import type * as RDF from "@rdfjs/types";
import type { GraphRef } from "./quad-store";

/** One position of a triple pattern after substitution: a dictionary term id, or a variable name. */
export type PatternSlot = { id: number } | { variable: string };
export type EncodedPattern = [PatternSlot, PatternSlot, PatternSlot];

/** Inclusive numeric bounds a variable's value must lie within (a superset test; the exact FILTER runs after). */
export interface NumericBounds {
  min?: number;
  max?: number;
}

/** One COUNT aggregate computed by the store: over all solutions, or over the (distinct) values of a variable. */
export interface CountSpec {
  variable: string | null;
  distinct: boolean;
}

/** Which predicates an edge may have: exactly one, or any but the listed ones. */
export type PredicateTest = { predicate: number } | { excluded: readonly number[] };

/** Two term ids: (subject, object) of an edge, or (from, to) of a path step. */
export type IdPair = [number, number];

/** Solutions as term ids: `rows[i][j]` is the id bound to `variables[j]`, null where it is unbound. */
export interface IdSolutions<Id extends number | null = number> {
  variables: string[];
  rows: Id[][];
}

/** Rows of GROUP BY + COUNT: the group's ids, then one count per CountSpec. */
export interface GroupCounts {
  rows: number[][];
  /** Solutions of the pattern each group read in all (the column of `rows` that counts them). */
  visitedColumn: number;
}

/**
 * What the SPARQL evaluator needs from a store: the term dictionary and scans over graph versions
 * with joins, filters, limits and counts pushed down into the store. Every `limit` caps the rows
 * returned (undefined: no cap). Ids are positive; an id the store does not know matches nothing.
 */
export interface QueryableGraph {
  /** Dictionary id of a term, or null when the store has never seen it. */
  termId(term: RDF.Term): number | null;
  /** Decodes the terms of these ids in one batch, so `term` answers them without a read each. */
  loadTerms(ids: Iterable<number>): void;
  /** The term of a dictionary id, or undefined for an unknown id. */
  term(id: number): RDF.Term | undefined;

  /** Solutions of a basic graph pattern; a variable with `numericBounds` only binds numeric literals in range. */
  matchBgp(
    patterns: EncodedPattern[],
    graphs: readonly GraphRef[],
    options?: { numericBounds?: ReadonlyMap<string, NumericBounds>; limit?: number },
  ): IdSolutions;
  /**
   * `left OPTIONAL { right }` between two basic graph patterns. Columns: the left variables, then the
   * right-only ones (null when the optional part did not match).
   */
  matchOptional(
    left: EncodedPattern[],
    right: EncodedPattern[],
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdSolutions<number | null>;
  /** Solutions of a basic graph pattern, counted up to `limit` (the count stops there). */
  countBgp(patterns: EncodedPattern[], graphs: readonly GraphRef[], limit?: number): number;
  /**
   * GROUP BY `groupBy` with COUNT aggregates over a basic graph pattern, reading at most `bgpRowLimit`
   * solutions in all. Every grouped or counted variable is one the pattern binds; COUNT(DISTINCT *)
   * is not among the counts.
   */
  countGroups(
    patterns: EncodedPattern[],
    graphs: readonly GraphRef[],
    groupBy: string[],
    counts: CountSpec[],
    options: { bgpRowLimit?: number; limit?: number },
  ): GroupCounts;

  /** (subject, object) of the edges whose predicate passes `predicate`; a non-null end is fixed. */
  edges(
    predicate: PredicateTest,
    subject: number | null,
    object: number | null,
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdPair[];
  /**
   * One step from each of `nodes` along edges whose predicate passes `predicate`: forward from subject to
   * object, else backward. Distinct (from, to) pairs.
   */
  step(
    predicate: PredicateTest,
    nodes: readonly number[],
    forward: boolean,
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdPair[];
  /** Does the term occur as a subject or an object of the graphs? */
  hasNode(id: number, graphs: readonly GraphRef[]): boolean;
  /** Every term that is a subject or an object of the graphs, once each. */
  nodes(graphs: readonly GraphRef[], limit?: number): number[];
}
