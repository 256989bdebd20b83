import { describe, expect, it } from "vitest";
import { buildGraphDiff, graphDiffToJson, renderGraphDiff } from "../../../shared/rdf/diff-format";
import { parseRdf } from "../../../shared/rdf/formats";

describe("graph diff inside workerd", () => {
  it("renders JSON and N-Triples", async () => {
    const added = await parseRdf('<http://example.org/a> <http://example.org/p> "new" .', "application/n-triples");
    const removed = await parseRdf('<http://example.org/a> <http://example.org/p> "old" .', "application/n-triples");
    const diff = buildGraphDiff(added, removed);
    expect(graphDiffToJson(diff).counts).toEqual({ added: 1, removed: 1, changedSubjects: 1 });
    expect(renderGraphDiff(diff, "application/n-triples")).toBe(
      [
        "# changed subjects: 1",
        "#   <http://example.org/a>",
        "# added: 1",
        '<http://example.org/a> <http://example.org/p> "new" .',
        "# removed: 1",
        '<http://example.org/a> <http://example.org/p> "old" .',
        "",
      ].join("\n"),
    );
  });
});
