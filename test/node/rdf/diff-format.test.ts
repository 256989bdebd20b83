import { DataFactory } from "n3";
import { describe, expect, it } from "vitest";
import {
  buildGraphDiff,
  graphDiffToJson,
  graphDiffToNTriples,
  pickGraphDiffFormat,
  renderGraphDiff,
} from "../../../shared/rdf/diff-format";
import { parseRdfSync } from "../../../shared/rdf/formats";

const EX = "http://example.org/";
const added = parseRdfSync(
  `@prefix ex: <${EX}> .
ex:bob ex:name "Bob"@en ; ex:age 42 .
ex:alice ex:knows ex:bob .
ex:alice ex:knows ex:bob .
ex:carol ex:note "same" .`,
  "text/turtle",
);
const removed = parseRdfSync(
  `@prefix ex: <${EX}> .
ex:alice ex:knows ex:carol .
ex:carol ex:note "same" .`,
  "text/turtle",
);

describe("graph diff document", () => {
  it("normalizes: duplicates removed, add+remove of the same quad cancels, sorted", () => {
    const diff = buildGraphDiff(added, removed);
    expect(diff.added.map((q) => `${q.subject.value} ${q.predicate.value}`)).toEqual([
      `${EX}alice ${EX}knows`,
      `${EX}bob ${EX}age`,
      `${EX}bob ${EX}name`,
    ]);
    expect(diff.removed).toHaveLength(1);
    expect(diff.changedSubjects.map((s) => s.value)).toEqual([`${EX}alice`, `${EX}bob`]);
    expect(buildGraphDiff([...added].reverse(), [...removed].reverse())).toEqual(diff);
  });

  it("renders JSON with SPARQL-results terms and counts", () => {
    const document = graphDiffToJson(buildGraphDiff(added, removed));
    expect(document.counts).toEqual({ added: 3, removed: 1, changedSubjects: 2 });
    expect(document.added[1]).toEqual({
      subject: { type: "uri", value: `${EX}bob` },
      predicate: { type: "uri", value: `${EX}age` },
      object: { type: "literal", value: "42", datatype: "http://www.w3.org/2001/XMLSchema#integer" },
    });
    expect(document.added[2]?.object).toEqual({ type: "literal", value: "Bob", "xml:lang": "en" });
    expect(document.removed[0]?.object).toEqual({ type: "uri", value: `${EX}carol` });
    expect(document.changedSubjects).toEqual([
      { type: "uri", value: `${EX}alice` },
      { type: "uri", value: `${EX}bob` },
    ]);
  });

  it("keeps graph names in JSON and drops them in N-Triples", () => {
    const named = DataFactory.quad(
      DataFactory.namedNode(`${EX}s`),
      DataFactory.namedNode(`${EX}p`),
      DataFactory.blankNode("x"),
      DataFactory.namedNode(`${EX}g`),
    );
    const diff = buildGraphDiff([named], []);
    expect(graphDiffToJson(diff).added[0]?.graph).toEqual({ type: "uri", value: `${EX}g` });
    expect(graphDiffToNTriples(diff).added).toBe(`<${EX}s> <${EX}p> _:x .\n`);
  });

  it("renders N-Triples blocks that parse back", () => {
    const diff = buildGraphDiff(added, removed);
    const { added: addedText, removed: removedText, document } = graphDiffToNTriples(diff);
    expect(parseRdfSync(addedText, "application/n-triples")).toHaveLength(3);
    expect(removedText).toBe(`<${EX}alice> <${EX}knows> <${EX}carol> .\n`);
    expect(document.startsWith("# changed subjects: 2\n")).toBe(true);
    expect(document).toContain("# added: 3\n");
    expect(document).toContain(`# removed: 1\n${removedText}`);
    expect(parseRdfSync(document, "application/n-triples")).toHaveLength(4);
  });

  it("renders an empty diff", () => {
    const diff = buildGraphDiff([], []);
    expect(graphDiffToJson(diff)).toEqual({
      added: [],
      removed: [],
      changedSubjects: [],
      counts: { added: 0, removed: 0, changedSubjects: 0 },
    });
    expect(renderGraphDiff(diff, "application/n-triples")).toBe("# changed subjects: 0\n# added: 0\n# removed: 0\n");
  });

  it("negotiates JSON or N-Triples", () => {
    expect(pickGraphDiffFormat(undefined)).toBe("application/json");
    expect(pickGraphDiffFormat("application/n-triples")).toBe("application/n-triples");
    expect(pickGraphDiffFormat("application/json;q=0.2, application/n-triples")).toBe("application/n-triples");
    expect(pickGraphDiffFormat("text/html")).toBeNull();
    const diff = buildGraphDiff(added, removed);
    expect(JSON.parse(renderGraphDiff(diff, "application/json"))).toEqual(graphDiffToJson(diff));
  });
});
