import { describe, expect, it } from "vitest";
import { NestingTooDeepError } from "../../../shared/core/budget-errors";
import { checkFrontmatterQuery } from "../../../shared/generate/frontmatter-query";
import { FrontmatterError, parseFrontmatter } from "../../../shared/template/frontmatter";

function check(source: string): void {
  checkFrontmatterQuery(source, parseFrontmatter(source).frontmatter);
}

function failure(source: string): FrontmatterError {
  try {
    check(source);
  } catch (error) {
    if (error instanceof FrontmatterError) return error;
    throw error;
  }
  throw new Error("the query was accepted");
}

/** Line and column of the first occurrence of `needle` in `source` (1-based). */
function at(source: string, needle: string, shift = 0) {
  const offset = source.indexOf(needle) + shift;
  const before = source.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1) as string).length + 1 };
}

describe("frontmatter queries checked at upload", () => {
  it("accepts templates without a query and with a valid SELECT", () => {
    expect(() => check("no frontmatter {{ x }}")).not.toThrow();
    expect(() =>
      check('---\nto: x\nsparql: "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3"\n---\nbody'),
    ).not.toThrow();
  });

  it("reports a syntax error in a double-quoted query at its place in the file", () => {
    const source = '---\nto: x.txt\nsparql: "SELECT ?s WHERE { ?s ?p ?o FILTER(?o >) }"\n---\nbody\n';
    const error = failure(source);
    expect(error.field).toBe("sparql");
    expect(error.message).toMatch(/^sparql is not valid SPARQL/);
    expect({ line: error.line, column: error.column }).toEqual(at(source, ")", 0));
  });

  it("follows escapes in double-quoted queries", () => {
    const source = '---\nto: x\nquery: "SELECT ?s WHERE { ?s ?p \\"a\\" . ?s ?p ?o FILTER(?o >) }"\n---\n';
    const error = failure(source);
    expect(error.field).toBe("query");
    expect({ line: error.line, column: error.column }).toEqual(at(source, ")", 0));
  });

  it("reports an error on a later line of a block query at its file line", () => {
    const source = "---\nto: x\nsparql: |\n  SELECT ?s\n  WHERE {\n    ?s ?p ?o FILTER(?o >)\n  }\n---\nbody\n";
    const error = failure(source);
    expect(error.line).toBe(6);
    expect({ line: error.line, column: error.column }).toEqual(at(source, ")", 0));
  });

  it("reports plain and single-quoted queries in the file too", () => {
    const plain = "---\nto: x\nsparql: SELECT ?s WHERE { ?s ?p ?o FILTER(?o >) }\n---\n";
    expect({ line: failure(plain).line, column: failure(plain).column }).toEqual(at(plain, ")", 0));
    const single = "---\nto: x\nsparql: 'SELECT ?s WHERE { ?s ?p ''a'' FILTER(?o >) }'\n---\n";
    expect({ line: failure(single).line, column: failure(single).column }).toEqual(at(single, ")", 0));
  });

  it("refuses queries that are not SELECT, and updates", () => {
    const construct = failure('---\nto: x\nsparql: "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"\n---\n');
    expect(construct.message).toMatch(/must be a SELECT query/);
    expect({ line: construct.line, column: construct.column }).toEqual({ line: 3, column: 9 });
    expect(failure('---\nto: x\nsparql: "ASK { ?s ?p ?o }"\n---\n').message).toMatch(/SELECT/);
    expect(failure('---\nto: x\nsparql: "INSERT DATA { <a:b> <a:b> <a:b> }"\n---\n').message).toMatch(/Update/);
  });

  it("bounds the parse: a deeply nested query is refused before the parser runs", () => {
    const deep = `SELECT ?s WHERE { ${"{ ".repeat(5000)}?s ?p ?o${" }".repeat(5000)} }`;
    expect(() => check(`---\nto: x\nsparql: "${deep}"\n---\n`)).toThrow(NestingTooDeepError);
  });
});

describe("frontmatter queries that are SELECTs in other shapes", () => {
  it.each([
    "SELECT ?s WHERE { ?s ?p ?o } VALUES ?s { <http://e/a> }",
    "SELECT DISTINCT ?s FROM <http://e/g> WHERE { ?s ?p ?o } ORDER BY ?s OFFSET 1 LIMIT 2",
    "PREFIX ex: <http://e/> SELECT (COUNT(*) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?s HAVING (COUNT(*) > 1)",
  ])("accepts %s", (query) => {
    expect(() => check(`---\nto: x\nsparql: "${query}"\n---\n`)).not.toThrow();
  });

  it("points at the value when the query is written in a form it cannot follow", () => {
    const source = "---\nto: x\nsparql: >\n  SELECT ?s\n  WHERE { ?s ?p ?o FILTER(?o >) }\n---\n";
    const error = failure(source);
    expect({ line: error.line, column: error.column }).toEqual({ line: 3, column: 9 });
  });
});
