import type * as RDF from "@rdfjs/types";
import type { GraphRef, QuadStore } from "./quad-store";
import type {
  CountSpec,
  EncodedPattern,
  GroupCounts,
  IdPair,
  IdSolutions,
  NumericBounds,
  PredicateTest,
  QueryableGraph,
} from "./queryable-graph";
import {
  compileBgp,
  compileBgpCount,
  compileEdges,
  compileHasNode,
  compileNodes,
  compileOptionalBgps,
  compileStep,
  limitClause,
} from "./queryable-graph-sql";

/** The quad store's SQLite tables as a QueryableGraph: every scan is one SQL statement. */
export class SqliteQueryableGraph implements QueryableGraph {
  constructor(private readonly store: QuadStore) {}

  termId(term: RDF.Term): number | null {
    return this.store.termId(term);
  }

  loadTerms(ids: Iterable<number>): void {
    this.store.loadTerms(ids);
  }

  term(id: number): RDF.Term | undefined {
    return this.store.term(id);
  }

  /** Rows of term ids (SQLite INTEGER columns arrive as numbers). */
  private rows<Row>(sql: string, params?: readonly string[]): Row[] {
    return this.store.db.all(sql, params) as Row[];
  }

  matchBgp(
    patterns: EncodedPattern[],
    graphs: readonly GraphRef[],
    options: { numericBounds?: ReadonlyMap<string, NumericBounds>; limit?: number } = {},
  ): IdSolutions {
    const { sql, variables } = compileBgp(patterns, graphs, options.limit, options.numericBounds);
    return { variables, rows: graphs.length === 0 ? [] : this.rows(sql) };
  }

  matchOptional(
    left: EncodedPattern[],
    right: EncodedPattern[],
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdSolutions<number | null> {
    const { sql, variables } = compileOptionalBgps(left, right, graphs);
    return { variables, rows: graphs.length === 0 ? [] : this.rows(sql + limitClause(limit)) };
  }

  countBgp(patterns: EncodedPattern[], graphs: readonly GraphRef[], limit?: number): number {
    if (graphs.length === 0) return 0;
    const { sql } = compileBgp(patterns, graphs, limit);
    const [row] = this.rows<number[]>(`SELECT COUNT(*) FROM (${sql})`);
    return Number(row?.[0]);
  }

  countGroups(
    patterns: EncodedPattern[],
    graphs: readonly GraphRef[],
    groupBy: string[],
    counts: CountSpec[],
    options: { bgpRowLimit?: number; limit?: number },
  ): GroupCounts {
    const compiled = compileBgpCount(patterns, graphs, groupBy, counts, options.bgpRowLimit);
    if (compiled === null) throw new Error("countGroups: a grouped or counted variable is not bound by the pattern");
    if (graphs.length === 0) return { rows: [], visitedColumn: compiled.visitedColumn };
    return { rows: this.rows(compiled.sql + limitClause(options.limit)), visitedColumn: compiled.visitedColumn };
  }

  edges(
    predicate: PredicateTest,
    subject: number | null,
    object: number | null,
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdPair[] {
    if (graphs.length === 0) return [];
    return this.rows(compileEdges(predicate, subject, object, graphs) + limitClause(limit));
  }

  step(
    predicate: PredicateTest,
    nodes: readonly number[],
    forward: boolean,
    graphs: readonly GraphRef[],
    limit?: number,
  ): IdPair[] {
    if (graphs.length === 0 || nodes.length === 0) return [];
    return this.rows(compileStep(predicate, forward, graphs) + limitClause(limit), [JSON.stringify(nodes)]);
  }

  hasNode(id: number, graphs: readonly GraphRef[]): boolean {
    if (id < 0 || graphs.length === 0) return false;
    const [row] = this.rows<unknown[]>(compileHasNode(id, graphs));
    return Number(row?.[0]) === 1;
  }

  nodes(graphs: readonly GraphRef[], limit?: number): number[] {
    if (graphs.length === 0) return [];
    return this.rows<[number]>(compileNodes(graphs) + limitClause(limit)).map((row) => row[0]);
  }
}
