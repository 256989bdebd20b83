import { DataFactory } from "rdf-data-factory";
import type { Algebra } from "sparqlalgebrajs";
import { translate } from "sparqlalgebrajs";
import { describe, expect, it } from "vitest";
import { createAggregator, type ExpressionContext, evaluate } from "../../../shared/rdf/sparql/expressions";

function parse(text: string): Algebra.Expression {
  let operation = translate(
    `PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT (${text} AS ?x) {}`,
  ) as Algebra.Operation;
  while (operation.type !== "extend") operation = (operation as Algebra.Single).input;
  return (operation as Algebra.Extend).expression;
}

const factory = new DataFactory();

const ctx: ExpressionContext = {
  exists: () => false,
  now: new Date("2026-01-01T00:00:00Z"),
  bnode: (label) => factory.blankNode(label ?? "b0"),
  random: () => 0.5,
  uuid: () => "00000000-0000-4000-8000-000000000000",
};

describe("expression library inside workerd", () => {
  it.each([
    ["1 / 3", "0.333333333333333333"],
    ['sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ['md5("abc")', "900150983cd24fb0d6963f7d28e17f72"],
    ['regex("Été", "^\\\\p{Lu}")', "true"],
    ['regex("b", "^[a-z-[aeiou]]$")', "true"],
    ['xsd:decimal(xsd:float("1.1"))', "1.10000002384185791"],
    ['encode_for_uri("a b/é")', "a%20b%2F%C3%A9"],
    ["now()", "2026-01-01T00:00:00.000Z"],
  ])("%s → %s", (text, expected) => {
    expect(evaluate(parse(text), new Map(), ctx).value).toBe(expected);
  });

  it("aggregates", () => {
    const algebra = translate("SELECT (AVG(?x) AS ?a) { VALUES ?x { 1 2 4 } }") as Algebra.Project;
    const group = (algebra.input as Algebra.Extend).input as Algebra.Group;
    const aggregator = createAggregator(group.aggregates[0] as Algebra.AggregateExpression, ctx);
    for (const row of (group.input as Algebra.Values).bindings) {
      aggregator.put(new Map(Object.entries(row).map(([name, term]) => [name.slice(1), term])));
    }
    expect(aggregator.result()?.value).toBe("2.333333333333333333");
  });
});
