import type * as RDF from "@rdfjs/types";
import { connectedComponents, filteredJoinPrefixes } from "../../store/bgp-plan";
import type { GraphRef } from "../../store/quad-store";
import type { EncodedPattern, IdSolutions, PatternSlot, QueryableGraph } from "../../store/queryable-graph";
import type { Bindings } from "../expressions";
import type { QueryBudget } from "./query-budget";
import { bindingKey } from "./solutions";

/**
 * The evaluator's access to a QueryableGraph: terms as dictionary ids (terms the store has never seen
 * get negative ids that match nothing), and reads under the query budget. A store scan cannot be
 * interrupted, so each is given a row limit from what is left of the budget.
 */
export class GraphReader {
  private readonly termById = new Map<number, RDF.Term>();
  private readonly idByKey = new Map<string, number>();
  private nextVirtualId = -1;

  constructor(
    readonly graph: QueryableGraph,
    private readonly budget: QueryBudget,
  ) {}

  /** Dictionary id of a term; a term the store has never seen gets a negative id that matches no quad. */
  idOf(term: RDF.Term): number {
    const key = bindingKey(term);
    const cached = this.idByKey.get(key);
    if (cached !== undefined) return cached;
    let id = term.termType === "Quad" ? null : this.graph.termId(term);
    if (id === null) {
      id = this.nextVirtualId--;
      this.termById.set(id, term);
    }
    this.idByKey.set(key, id);
    return id;
  }

  /** Decodes ids to terms in one batch. */
  loadTerms(ids: Iterable<number>): void {
    this.graph.loadTerms(ids);
  }

  termOf(id: number): RDF.Term {
    const term = id < 0 ? this.termById.get(id) : this.graph.term(id);
    if (!term) throw new Error(`unknown term id ${id}`);
    return term;
  }

  /**
   * Reads rows of `width` columns under the budget: the store stops one row past what the budget
   * allows, and reaching that row refuses the query. `held`: the rows are kept in memory, so the
   * held-rows bound applies too.
   */
  read<Row>(width: number, held: boolean, fetch: (limit: number | undefined) => Row[]): Row[] {
    this.budget.checkDeadline();
    const limit = this.budget.scanRowLimit(width, held);
    const rows = fetch(Number.isFinite(limit) ? limit : undefined);
    this.budget.checkScanRows(rows.length, width, held);
    this.budget.tick(rows.length);
    return rows;
  }

  /** `read` for solutions, which are held. */
  readSolutions<Id extends number | null>(
    width: number,
    fetch: (limit: number | undefined) => IdSolutions<Id>,
  ): IdSolutions<Id> {
    let variables: string[] = [];
    const rows = this.read(width, true, (limit) => {
      const solutions = fetch(limit);
      variables = solutions.variables;
      return solutions.rows;
    });
    return { variables, rows };
  }

  /** Solutions of ids as rows extending `seed`; a null id leaves its variable unbound. */
  decode(solutions: IdSolutions<number | null>, seed: Bindings): Bindings[] {
    const { variables, rows } = solutions;
    const ids = new Set<number>();
    for (const row of rows) {
      for (let index = 0; index < variables.length; index++) {
        const id = row[index];
        if (id !== null && id !== undefined) ids.add(id);
      }
    }
    this.loadTerms(ids);
    return rows.map((row) => {
      const bindings = new Map(seed);
      for (let index = 0; index < variables.length; index++) {
        const id = row[index];
        if (id !== null && id !== undefined) bindings.set(variables[index] as string, this.termOf(id));
      }
      return bindings;
    });
  }

  private slot(term: RDF.Term, seed: Bindings): PatternSlot | null {
    if (term.termType === "Variable" || term.termType === "BlankNode") {
      const name = term.termType === "Variable" ? term.value : `_:${term.value}`;
      const bound = seed.get(name);
      if (bound) return bound.termType === "Quad" ? null : { id: this.idOf(bound) };
      return { variable: name };
    }
    if (term.termType === "Quad" || term.termType === "DefaultGraph") return null;
    return { id: this.idOf(term) };
  }

  /** Patterns with the seed substituted and constants as ids; null when a pattern cannot match. */
  encodePatterns(patterns: readonly RDF.BaseQuad[], seed: Bindings): EncodedPattern[] | null {
    const encoded: EncodedPattern[] = [];
    for (const pattern of patterns) {
      const slots = [
        this.slot(pattern.subject, seed),
        this.slot(pattern.predicate, seed),
        this.slot(pattern.object, seed),
      ];
      // A constant the store has never seen (negative id), or a quoted triple, matches nothing.
      if (slots.some((slot) => slot === null || ("id" in slot && slot.id < 0))) return null;
      encoded.push(slots as EncodedPattern);
    }
    return encoded;
  }

  /**
   * A BGP of unconnected parts is their cartesian product: each part is counted (under the budget),
   * and the product is refused before the store starts on it when it has more rows than the budget allows.
   */
  refuseOversizedProduct(patterns: EncodedPattern[], graphs: GraphRef[], width: number, held: boolean): void {
    if (patterns.length < 2) return;
    const components = connectedComponents(patterns);
    if (components.length < 2) return;
    const limit = this.budget.scanRowLimit(width, held);
    if (!Number.isFinite(limit)) return;
    let product = 1;
    let reachedLimit = false;
    for (const component of components) {
      const count = this.count(component, graphs, limit);
      this.budget.tick(count);
      if (count === 0) return;
      if (count >= limit) reachedLimit = true;
      product *= count;
    }
    if (reachedLimit || product >= limit) this.budget.checkScanRows(limit, width, held);
  }

  /**
   * A pattern that only filters (all its variables bound earlier) can make the store read far more rows
   * than it returns, where no limit stops it: the rows before each such pattern are counted first,
   * under the budget, and too many refuse the query before it runs.
   */
  refuseOversizedPrefixes(patterns: EncodedPattern[], graphs: GraphRef[]): void {
    const prefixes = filteredJoinPrefixes(patterns);
    if (prefixes.length === 0) return;
    const limit = this.budget.scanRowLimit(0, false);
    if (!Number.isFinite(limit)) return;
    for (const prefix of prefixes) {
      const count = this.count(prefix, graphs, limit);
      this.budget.checkScanRows(count, 0, false);
      this.budget.tick(count);
    }
  }

  /** A count is one row read. */
  private count(patterns: EncodedPattern[], graphs: GraphRef[], limit: number): number {
    const [count] = this.read(1, true, () => [this.graph.countBgp(patterns, graphs, limit)]);
    return count as number;
  }
}
