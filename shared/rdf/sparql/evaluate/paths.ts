import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import type { GraphRef } from "../../store/quad-store";
import type { EncodedPattern, IdPair, PatternSlot, PredicateTest } from "../../store/queryable-graph";
import { SparqlNotSupportedError } from "../errors";
import type { Bindings } from "../expressions";
import type { GraphReader } from "./graph-reader";
import type { QueryBudget } from "./query-budget";

/**
 * Property paths over term ids: links and negated property sets are store scans, sequences of links
 * one pattern join, closures breadth-first searches stepping a frontier at a time.
 */
export class PathEvaluator {
  constructor(
    private readonly reader: GraphReader,
    private readonly budget: QueryBudget,
  ) {}

  /** Solutions of a property path pattern, extending `seed`. */
  evaluate(op: Algebra.Path, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const endpoint = (term: RDF.Term): { id: number | null; name: string | null; fromSeed: boolean } => {
      if (term.termType === "Variable" || term.termType === "BlankNode") {
        const name = term.termType === "Variable" ? term.value : `_:${term.value}`;
        const bound = seed.get(name);
        return bound
          ? { id: this.reader.idOf(bound), name: null, fromSeed: true }
          : { id: null, name, fromSeed: false };
      }
      return { id: this.reader.idOf(term), name: null, fromSeed: false };
    };
    const subject = endpoint(op.subject);
    const object = endpoint(op.object);
    // A variable bound elsewhere (not a constant of the query) only matches nodes of the graph, even at length zero.
    for (const end of [subject, object]) {
      if (end.fromSeed && !this.reader.graph.hasNode(end.id as number, graphs)) return [];
    }
    let pairs = this.path(op.predicate, subject.id, object.id, graphs);
    if (subject.name !== null && subject.name === object.name) pairs = pairs.filter(([s, o]) => s === o);
    const ids = new Set<number>();
    for (const [s, o] of pairs) {
      ids.add(s);
      ids.add(o);
    }
    this.reader.loadTerms(ids);
    return pairs.map(([s, o]) => {
      const row = new Map(seed);
      if (subject.name !== null) row.set(subject.name, this.reader.termOf(s));
      if (object.name !== null) row.set(object.name, this.reader.termOf(o));
      return row;
    });
  }

  /** Pairs (subject id, object id) connected by `path`; a non-null end is fixed. Bag semantics except closures. */
  path(path: Algebra.PropertyPathSymbol, subject: number | null, object: number | null, graphs: GraphRef[]): IdPair[] {
    this.budget.tick();
    switch (path.type) {
      case Algebra.types.LINK:
      case Algebra.types.NPS:
        return this.edges(this.predicateTest(path), subject, object, graphs);
      case Algebra.types.INV:
        return this.path(path.path, object, subject, graphs).map(([s, o]) => [o, s]);
      case Algebra.types.ALT: {
        const pairs: IdPair[] = [];
        for (const input of path.input) {
          for (const pair of this.path(input, subject, object, graphs)) pairs.push(pair);
          this.holdPairs(pairs);
        }
        return pairs;
      }
      case Algebra.types.SEQ:
        return this.sequence(path.input, subject, object, graphs);
      case Algebra.types.ZERO_OR_ONE_PATH: {
        const pairs = [...this.zeroLength(subject, object, graphs), ...this.path(path.path, subject, object, graphs)];
        return uniquePairs(pairs);
      }
      case Algebra.types.ZERO_OR_MORE_PATH:
        return this.closure(path.path, subject, object, graphs, true);
      case Algebra.types.ONE_OR_MORE_PATH:
        return this.closure(path.path, subject, object, graphs, false);
      default:
        throw new SparqlNotSupportedError(`property path ${(path as Algebra.Operation).type}`);
    }
  }

  /** Pairs of ids held for a path are held rows of two columns. */
  private holdPairs(pairs: IdPair[]): void {
    this.budget.holdRows(pairs.length, 2);
  }

  /** The predicates a link (`iri`) or a negated property set (`!(iri|…)`) lets through. */
  private predicateTest(path: Algebra.Link | Algebra.Nps): PredicateTest {
    if (path.type === Algebra.types.LINK) return { predicate: this.reader.idOf(path.iri) };
    return { excluded: path.iris.map((iri) => this.reader.idOf(iri)).filter((id) => id > 0) };
  }

  private edges(test: PredicateTest, subject: number | null, object: number | null, graphs: GraphRef[]): IdPair[] {
    if (graphs.length === 0 || (subject !== null && subject < 0) || (object !== null && object < 0)) return [];
    return this.reader.read(2, true, (limit) => this.reader.graph.edges(test, subject, object, graphs, limit));
  }

  private sequence(
    inputs: Algebra.PropertyPathSymbol[],
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
  ) {
    if (inputs.length === 1) return this.path(inputs[0] as Algebra.PropertyPathSymbol, subject, object, graphs);
    let chain = 0;
    while (chain < inputs.length && linkOf(inputs[chain] as Algebra.PropertyPathSymbol)) chain++;
    if (chain >= 2 && (subject !== null || object === null || chain === inputs.length)) {
      // Leading plain (or inverse) links are one BGP: a single join in the store instead of a lookup per node.
      const head = this.linkChain(inputs.slice(0, chain), subject, chain === inputs.length ? object : null, graphs);
      if (chain === inputs.length) return head;
      return this.continueSequence(head, inputs.slice(chain), object, graphs);
    }
    const [first, ...rest] = inputs as [Algebra.PropertyPathSymbol, ...Algebra.PropertyPathSymbol[]];
    const result: IdPair[] = [];
    if (subject === null && object !== null) {
      // Evaluate from the fixed end.
      const last = rest.pop() as Algebra.PropertyPathSymbol;
      const prefix = [first, ...rest];
      const tail = this.path(last, null, object, graphs);
      const byMiddle = groupBy(tail, 0);
      for (const [middle, count] of byMiddle) {
        for (const [s] of this.sequence(prefix, null, middle, graphs)) {
          this.budget.tick(count);
          for (let i = 0; i < count; i++) result.push([s, object]);
        }
        this.holdPairs(result);
      }
      return result;
    }
    return this.continueSequence(this.path(first, subject, null, graphs), rest, object, graphs);
  }

  /** Extends each (s, middle) pair of `head` through `rest`, evaluating the rest once per distinct middle. */
  private continueSequence(
    head: IdPair[],
    rest: Algebra.PropertyPathSymbol[],
    object: number | null,
    graphs: GraphRef[],
  ): IdPair[] {
    const result: IdPair[] = [];
    const cache = new Map<number, IdPair[]>();
    for (const [s, middle] of head) {
      let tail = cache.get(middle);
      if (!tail) {
        tail = this.sequence(rest, middle, object, graphs);
        cache.set(middle, tail);
      }
      this.budget.tick(tail.length);
      for (const [, o] of tail) result.push([s, o]);
      this.holdPairs(result);
    }
    return result;
  }

  /** A sequence of links as one BGP from ?s (or the fixed subject) through fresh nodes to ?o; bag semantics. */
  private linkChain(
    links: Algebra.PropertyPathSymbol[],
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
  ) {
    if (graphs.length === 0 || (subject !== null && subject < 0) || (object !== null && object < 0)) return [];
    const node = (index: number): PatternSlot => {
      if (index === 0) return subject !== null ? { id: subject } : { variable: "s" };
      if (index === links.length) return object !== null ? { id: object } : { variable: "o" };
      return { variable: `m${index}` };
    };
    const patterns: EncodedPattern[] = [];
    for (const [index, link] of links.entries()) {
      const { iri, inverse } = linkOf(link) as { iri: RDF.NamedNode; inverse: boolean };
      const predicate = this.reader.idOf(iri);
      if (predicate < 0) return [];
      const [from, to] = [node(index), node(index + 1)];
      patterns.push(inverse ? [to, { id: predicate }, from] : [from, { id: predicate }, to]);
    }
    const { variables, rows } = this.reader.readSolutions(2, (limit) =>
      this.reader.graph.matchBgp(patterns, graphs, { limit }),
    );
    const sIndex = variables.indexOf("s");
    const oIndex = variables.indexOf("o");
    return rows.map(
      (row): IdPair => [
        sIndex >= 0 ? (row[sIndex] as number) : (subject as number),
        oIndex >= 0 ? (row[oIndex] as number) : (object as number),
      ],
    );
  }

  private zeroLength(subject: number | null, object: number | null, graphs: GraphRef[]): IdPair[] {
    if (subject !== null && object !== null) return subject === object ? [[subject, subject]] : [];
    if (subject !== null) return [[subject, subject]];
    if (object !== null) return [[object, object]];
    return this.allNodes(graphs).map((node) => [node, node]);
  }

  private allNodes(graphs: GraphRef[]): number[] {
    if (graphs.length === 0) return [];
    return this.reader.read(2, true, (limit) => this.reader.graph.nodes(graphs, limit));
  }

  /** Transitive closure by breadth-first search from the fixed end (or from every node). */
  private closure(
    inner: Algebra.PropertyPathSymbol,
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
    includeZero: boolean,
  ): IdPair[] {
    if (subject === null && object !== null) {
      const step = (nodes: number[]) => this.stepMany(inner, nodes, false, graphs);
      return this.reach(step, object, includeZero).map((s): IdPair => [s, object]);
    }
    if (subject !== null) {
      const step = (nodes: number[]) => this.stepMany(inner, nodes, true, graphs);
      const reached = this.reach(step, subject, includeZero);
      return (object === null ? reached : reached.filter((o) => o === object)).map((o): IdPair => [subject, o]);
    }
    // Both ends free: one scan of the inner path, then breadth-first search in memory from every start.
    const adjacency = new Map<number, number[]>();
    for (const [s, o] of this.path(inner, null, null, graphs)) {
      const targets = adjacency.get(s);
      if (targets) targets.push(o);
      else adjacency.set(s, [o]);
    }
    const step = (nodes: number[]) => {
      const pairs: IdPair[] = [];
      for (const node of nodes) for (const target of adjacency.get(node) ?? []) pairs.push([node, target]);
      this.budget.tick(pairs.length);
      return pairs;
    };
    const starts = includeZero ? this.allNodes(graphs) : [...adjacency.keys()];
    const result: IdPair[] = [];
    for (const start of starts) {
      for (const o of this.reach(step, start, includeZero)) result.push([start, o]);
      this.holdPairs(result);
    }
    return result;
  }

  /** One step of `inner` from each of `nodes` (forward: as subjects; backward: as objects), as [from, to] pairs. */
  private stepMany(inner: Algebra.PropertyPathSymbol, nodes: number[], forward: boolean, graphs: GraphRef[]): IdPair[] {
    let path = inner;
    let direction = forward;
    if (path.type === Algebra.types.INV) {
      path = path.path;
      direction = !direction;
    }
    const known = nodes.filter((node) => node > 0);
    if ((path.type === Algebra.types.LINK || path.type === Algebra.types.NPS) && graphs.length > 0) {
      if (known.length === 0) return [];
      const test = this.predicateTest(path);
      this.budget.tick();
      return this.reader.read(2, true, (limit) => this.reader.graph.step(test, known, direction, graphs, limit));
    }
    const pairs: IdPair[] = [];
    for (const node of nodes) {
      const found = forward ? this.path(inner, node, null, graphs) : this.path(inner, null, node, graphs);
      for (const [s, o] of found) pairs.push(forward ? [node, o] : [node, s]);
      this.holdPairs(pairs);
    }
    return pairs;
  }

  private reach(step: (nodes: number[]) => IdPair[], start: number, includeZero: boolean): number[] {
    const visited = new Set<number>();
    const order: number[] = [];
    if (includeZero) {
      visited.add(start);
      order.push(start);
    }
    const expanded = new Set<number>([start]);
    let frontier = [start];
    while (frontier.length > 0) {
      const next: number[] = [];
      for (const [, reached] of step(frontier)) {
        if (!visited.has(reached)) {
          visited.add(reached);
          order.push(reached);
        }
        if (!expanded.has(reached)) {
          expanded.add(reached);
          next.push(reached);
        }
      }
      frontier = next;
    }
    return order;
  }
}

/** A path step that is one triple pattern: `iri` or `^iri`. */
function linkOf(path: Algebra.PropertyPathSymbol): { iri: RDF.NamedNode; inverse: boolean } | null {
  if (path.type === Algebra.types.LINK) return { iri: path.iri, inverse: false };
  if (path.type === Algebra.types.INV && path.path.type === Algebra.types.LINK)
    return { iri: path.path.iri, inverse: true };
  return null;
}

function uniquePairs(pairs: IdPair[]): IdPair[] {
  const seen = new Set<string>();
  return pairs.filter(([s, o]) => {
    const key = `${s} ${o}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function groupBy(pairs: IdPair[], position: 0 | 1): Map<number, number> {
  const counts = new Map<number, number>();
  for (const pair of pairs) counts.set(pair[position], (counts.get(pair[position]) ?? 0) + 1);
  return counts;
}
