import type * as RDF from "@rdfjs/types";
import { DataFactory, type Store } from "n3";
import type { Algebra } from "sparqlalgebrajs";
import {
  type Bindings,
  compareTerms,
  createAggregator,
  type ExpressionContext,
  evaluateFilter,
  termKey,
  tryEvaluate,
} from "../../../shared/rdf/sparql/expressions";

/** A deliberately naive algebra evaluator over an n3 Store: just enough to run the W3C expression suites. */
export class UnsupportedFeature extends Error {}

type Row = Map<string, RDF.Term>;

function compatible(a: Row, b: Row): boolean {
  for (const [name, term] of a) {
    const other = b.get(name);
    if (other && !other.equals(term)) return false;
  }
  return true;
}

function merge(a: Row, b: Row): Row {
  const row = new Map(a);
  for (const [name, term] of b) row.set(name, term);
  return row;
}

function rowKey(row: Row): string {
  return [...row.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, term]) => `${name}=${termKey(term)}`)
    .join("|");
}

export class MiniEngine {
  private bnodeCounter = 0;
  readonly ctx: ExpressionContext;

  constructor(
    private readonly store: Store,
    baseIRI?: string,
  ) {
    this.ctx = {
      exists: (operation, bindings) => this.evaluate(operation).some((row) => compatible(row, new Map(bindings))),
      now: new Date("2026-11-26T12:00:00.000Z"),
      baseIRI,
      bnode: (label) => DataFactory.blankNode(label ? `l_${label}_${this.bnodeCounter}` : `g${this.bnodeCounter++}`),
      random: () => 0.5,
      uuid: () => {
        const n = (this.bnodeCounter++).toString(16).padStart(12, "0");
        return `00000000-0000-4000-8000-${n}`;
      },
    };
  }

  evaluate(operation: Algebra.Operation): Row[] {
    switch (operation.type) {
      case "project":
        return this.evaluate(operation.input).map(
          (row) =>
            new Map(
              operation.variables.flatMap((variable: RDF.Variable) => {
                const term = row.get(variable.value);
                return term ? [[variable.value, term] as const] : [];
              }),
            ),
        );
      case "bgp":
        return operation.patterns.reduce(
          (rows: Row[], pattern: Algebra.Pattern) => rows.flatMap((row) => this.matchPattern(pattern, row)),
          [new Map()],
        );
      case "join":
        return operation.input.reduce(
          (rows: Row[], input: Algebra.Operation) => {
            const right = this.evaluate(input);
            return rows.flatMap((left) => right.filter((r) => compatible(left, r)).map((r) => merge(left, r)));
          },
          [new Map()],
        );
      case "leftjoin": {
        const [leftOp, rightOp] = operation.input;
        const right = this.evaluate(rightOp);
        return this.evaluate(leftOp).flatMap((left) => {
          const matches = right
            .filter((r) => compatible(left, r))
            .map((r) => merge(left, r))
            .filter((row) => !operation.expression || evaluateFilter(operation.expression, row, this.ctx));
          return matches.length > 0 ? matches : [left];
        });
      }
      case "filter":
        return this.evaluate(operation.input).filter((row) => evaluateFilter(operation.expression, row, this.ctx));
      case "extend":
        return this.evaluate(operation.input).map((row) => {
          const value = tryEvaluate(operation.expression, row, this.ctx);
          return value ? new Map(row).set(operation.variable.value, value) : row;
        });
      case "union":
        return operation.input.flatMap((input: Algebra.Operation) => this.evaluate(input));
      case "minus": {
        const [leftOp, rightOp] = operation.input;
        const right = this.evaluate(rightOp);
        return this.evaluate(leftOp).filter(
          (left) => !right.some((r) => [...r.keys()].some((name) => left.has(name)) && compatible(left, r)),
        );
      }
      case "distinct":
      case "reduced": {
        const seen = new Set<string>();
        return this.evaluate(operation.input).filter((row) => {
          const key = rowKey(row);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
      }
      case "orderby": {
        const keys = operation.expressions.map((expression: Algebra.Expression) => {
          const descending = expression.expressionType === "operator" && expression.operator === "desc";
          return {
            descending,
            expression: descending
              ? ((expression as Algebra.OperatorExpression).args[0] as Algebra.Expression)
              : expression,
          };
        });
        return this.evaluate(operation.input)
          .map((row) => ({ row, values: keys.map((key) => tryEvaluate(key.expression, row, this.ctx)) }))
          .sort((a, b) => {
            for (const [i, key] of keys.entries()) {
              const order = compareTerms(a.values[i], b.values[i]);
              if (order !== 0) return key.descending ? -order : order;
            }
            return 0;
          })
          .map(({ row }) => row);
      }
      case "slice": {
        const rows = this.evaluate(operation.input);
        const end = operation.length === undefined ? undefined : operation.start + operation.length;
        return rows.slice(operation.start, end);
      }
      case "values":
        return operation.bindings.map(
          (binding: Record<string, RDF.Term>) =>
            new Map(Object.entries(binding).map(([name, term]) => [name.replace(/^\?/, ""), term])),
        );
      case "group":
        return this.group(operation);
      default:
        throw new UnsupportedFeature(operation.type);
    }
  }

  private group(operation: Algebra.Group): Row[] {
    const rows = this.evaluate(operation.input);
    const groups = new Map<string, { key: Row; rows: Row[] }>();
    for (const row of rows) {
      const key = new Map(
        operation.variables.flatMap((variable) => {
          const term = row.get(variable.value);
          return term ? [[variable.value, term] as const] : [];
        }),
      );
      const id = `${rowKey(key)}#${operation.variables.filter((v) => !row.has(v.value)).map((v) => v.value)}`;
      let group = groups.get(id);
      if (!group) {
        group = { key, rows: [] };
        groups.set(id, group);
      }
      group.rows.push(row);
    }
    if (groups.size === 0 && operation.variables.length === 0) groups.set("", { key: new Map(), rows: [] });
    return [...groups.values()].map(({ key, rows: members }) => {
      const result = new Map(key);
      for (const aggregate of operation.aggregates) {
        const aggregator = createAggregator(aggregate, this.ctx);
        for (const member of members) aggregator.put(member as Bindings);
        const value = aggregator.result();
        if (value) result.set(aggregate.variable.value, value);
      }
      return result;
    });
  }

  private matchPattern(pattern: Algebra.Pattern, row: Row): Row[] {
    if (pattern.graph.termType !== "DefaultGraph") throw new UnsupportedFeature("GRAPH");
    // Blank nodes in a pattern act as variables that are never projected.
    const isVariable = (term: RDF.Term) => term.termType === "Variable" || term.termType === "BlankNode";
    const nameOf = (term: RDF.Term) => (term.termType === "BlankNode" ? `_:${term.value}` : term.value);
    const resolve = (term: RDF.Term) => (isVariable(term) ? row.get(nameOf(term)) : term);
    const s = resolve(pattern.subject);
    const p = resolve(pattern.predicate);
    const o = resolve(pattern.object);
    const results: Row[] = [];
    for (const quad of this.store.getQuads(
      (s ?? null) as never,
      (p ?? null) as never,
      (o ?? null) as never,
      DataFactory.defaultGraph(),
    ) as RDF.Quad[]) {
      const next = new Map(row);
      let ok = true;
      for (const [position, term] of [
        [pattern.subject, quad.subject],
        [pattern.predicate, quad.predicate],
        [pattern.object, quad.object],
      ] as const) {
        if (!isVariable(position)) continue;
        const bound = next.get(nameOf(position));
        if (bound && !bound.equals(term)) ok = false;
        next.set(nameOf(position), term);
      }
      if (ok) results.push(next);
    }
    return results;
  }
}
