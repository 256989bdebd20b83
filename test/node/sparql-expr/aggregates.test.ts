import type * as RDF from "@rdfjs/types";
import oxigraph from "oxigraph";
import { type Algebra, translate } from "sparqlalgebrajs";
import { describe, expect, it } from "vitest";
import { createAggregator } from "../../../shared/rdf/sparql/expressions";
import { sameResult } from "./differential";
import { PREFIXES, show, testContext } from "./helpers";

const VALUE_SETS = [
  "1 2 3 4",
  "1 2.0 3",
  "1 2e0",
  '1 "0.5"^^xsd:float',
  '1 "a"',
  "1 UNDEF 3",
  "",
  "UNDEF",
  '"a" "b" "a"',
  '"a"@en "b"@en',
  '"a"@en "b"',
  '<http://example.org/a> 1 "x"',
  "1 1 2.0 2.0",
  '"abc"^^xsd:integer 1',
  "true false",
  '"2011-01-10T14:45:13Z"^^xsd:dateTime "2012-01-10T14:45:13Z"^^xsd:dateTime',
  '"2"^^xsd:short 3',
  "1.5 -0.25 3",
  '"NaN"^^xsd:double 1',
  '"-5"^^xsd:integer "10"^^xsd:integer "x"^^<http://example.org/t>',
];

const AGGREGATES = [
  "COUNT(*)",
  "COUNT(DISTINCT *)",
  "COUNT(?x)",
  "COUNT(DISTINCT ?x)",
  "SUM(?x)",
  "SUM(DISTINCT ?x)",
  "AVG(?x)",
  "AVG(DISTINCT ?x)",
  "MIN(?x)",
  "MAX(?x)",
  "GROUP_CONCAT(?x)",
  'GROUP_CONCAT(DISTINCT ?x; separator=", ")',
  "SAMPLE(?x)",
  "SUM(?x * 2)",
  "MAX(STR(?x))",
  "COUNT(?x + 1)",
];

function query(aggregate: string, values: string): string {
  return `${PREFIXES}SELECT (${aggregate} AS ?r) { VALUES ?x { ${values} } }`;
}

function findOperation(operation: Algebra.Operation, type: string): Algebra.Operation {
  if (operation.type === type) return operation;
  const input = (operation as Algebra.Single).input;
  if (!input) throw new Error(`no ${type} operation`);
  return findOperation(input, type);
}

function ours(aggregate: string, values: string): RDF.Term | undefined {
  const algebra = translate(query(aggregate, values)) as Algebra.Operation;
  const group = findOperation(algebra, "group") as Algebra.Group;
  const rows = (findOperation(algebra, "values") as Algebra.Values).bindings;
  const aggregator = createAggregator(group.aggregates[0] as Algebra.AggregateExpression, testContext());
  for (const row of rows) {
    aggregator.put(new Map(Object.entries(row).map(([name, term]) => [name.slice(1), term as RDF.Term])));
  }
  return aggregator.result();
}

describe("aggregates", () => {
  it.each([
    ["COUNT(*)", "1 UNDEF 3", '"3"^^xsd:integer'],
    ["COUNT(?x)", "1 UNDEF 3", '"2"^^xsd:integer'],
    ["COUNT(DISTINCT ?x)", "1 1 1.0", '"2"^^xsd:integer'],
    ["SUM(?x)", "1 2.5", '"3.5"^^xsd:decimal'],
    ["SUM(?x)", "1 2e0", '"3.0E0"^^xsd:double'],
    ["SUM(?x)", "", '"0"^^xsd:integer'],
    ["SUM(?x)", '1 "a"', "error"],
    ["SUM(?x)", "1 UNDEF", "error"],
    ["AVG(?x)", "1 2", '"1.5"^^xsd:decimal'],
    ["AVG(?x)", "", '"0"^^xsd:integer'],
    ["AVG(?x)", "1 <http://example.org/a>", "error"],
    ["MIN(?x)", '3 1 "a"', '"1"^^xsd:integer'],
    ["MAX(?x)", "3 1 <http://example.org/a>", '"3"^^xsd:integer'],
    ["MIN(?x)", "", "error"],
    ["MIN(?x)", "2E-1 3", '"2.0E-1"^^xsd:double'],
    ["MAX(?x)", '"01"^^xsd:integer 0', '"1"^^xsd:integer'],
    ["MAX(?x)", '"7"^^xsd:short 3', '"7"^^xsd:short'],
    ["GROUP_CONCAT(?x)", '"a" "b"', '"a b"'],
    ['GROUP_CONCAT(?x; separator="-")', "1 2", '"1-2"'],
    ["GROUP_CONCAT(?x)", '"a"@en "b"@en', '"a b"'],
    ["GROUP_CONCAT(?x)", "", '""'],
    ["SAMPLE(?x)", "UNDEF 7", '"7"^^xsd:integer'],
  ])("%s over { %s } → %s", (aggregate, values, expected) => {
    expect(show(ours(aggregate, values))).toBe(expected);
  });

  it("counts distinct solutions for COUNT(DISTINCT *)", () => {
    const expression = {
      type: "expression",
      expressionType: "aggregate",
      aggregator: "count",
      distinct: true,
      expression: { type: "expression", expressionType: "wildcard", wildcard: {} },
    } as unknown as Algebra.AggregateExpression;
    const aggregator = createAggregator(expression, testContext());
    const one = (value: string) => new Map([["x", { termType: "NamedNode", value } as RDF.NamedNode]]);
    aggregator.put(one("http://a"));
    aggregator.put(one("http://a"));
    aggregator.put(one("http://b"));
    aggregator.put(new Map());
    expect(show(aggregator.result())).toBe('"3"^^xsd:integer');
  });

  it("agrees with oxigraph on every aggregate over every value set, except the documented deviations", () => {
    const store = new oxigraph.Store();
    const unexplained: string[] = [];
    const byDeviation: Record<string, number> = {};
    let compared = 0;
    let agreed = 0;
    for (const values of VALUE_SETS) {
      for (const aggregate of AGGREGATES) {
        const mine = ours(aggregate, values);
        const rows = store.query(query(aggregate, values)) as Map<string, RDF.Term>[];
        const theirs = rows[0]?.get("r");
        compared++;
        let agree: boolean;
        if (aggregate.startsWith("SAMPLE")) {
          // Any member is a valid sample: only boundness must agree.
          agree = (mine === undefined) === (theirs === undefined);
        } else {
          agree = mine === undefined || theirs === undefined ? mine === theirs : sameResult(mine, theirs);
        }
        if (agree) {
          agreed++;
          continue;
        }
        const deviation = classifyAggregate(aggregate, values, rows.length, mine, theirs);
        if (deviation) byDeviation[deviation] = (byDeviation[deviation] ?? 0) + 1;
        else unexplained.push(`${aggregate} { ${values} }: ours ${show(mine)}, oxigraph ${show(theirs)}`);
      }
    }
    console.log(JSON.stringify({ differential: "oxigraph-aggregates", compared, agreed, byDeviation }));
    expect(unexplained).toEqual([]);
    expect(agreed / compared).toBeGreaterThan(0.8);
  });
});

/**
 * Where we deliberately differ from oxigraph 0.5:
 * - oxigraph returns no row at all for an aggregate over an empty VALUES block; SPARQL's implicit
 *   group gives one row (COUNT 0, SUM 0, AVG 0, GROUP_CONCAT "");
 * - COUNT, MIN, MAX skip rows where the expression errs ("the number of times the expression has a
 *   bound value"); oxigraph makes MIN/MAX and COUNT(expr) unbound when one row errs;
 * - GROUP_CONCAT takes the string form of non-string literals and IRIs; oxigraph errs;
 * - GROUP_CONCAT is a simple literal even when all values share a language tag (W3C agg-groupconcat-04);
 *   oxigraph keeps the tag;
 * - oxigraph canonicalises literals on input (derived integer types become xsd:integer, "2e0" becomes "2").
 */
function classifyAggregate(
  aggregate: string,
  values: string,
  rowCount: number,
  mine: RDF.Term | undefined,
  theirs: RDF.Term | undefined,
): string | undefined {
  if (values === "" && rowCount === 0) return "oxigraph-no-row-for-empty-values";
  if (theirs === undefined && mine !== undefined && /^(COUNT|MIN|MAX)\(/.test(aggregate)) return "errors-skipped";
  if (theirs === undefined && aggregate.startsWith("GROUP_CONCAT")) return "group-concat-of-non-strings";
  if (
    aggregate.startsWith("GROUP_CONCAT") &&
    theirs?.termType === "Literal" &&
    theirs.language &&
    mine?.value === theirs.value
  ) {
    return "group-concat-is-a-simple-literal";
  }
  if (mine?.termType === "Literal" && theirs?.termType === "Literal") {
    if (/#(short|byte|int|long|unsigned\w+)$/.test(mine.datatype.value)) return "oxigraph-normalises-literals";
    if (aggregate.includes("STR(") && /e0|\.0/.test(values)) return "oxigraph-normalises-literals";
  }
  return undefined;
}
