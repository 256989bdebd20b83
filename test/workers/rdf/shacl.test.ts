import { describe, expect, it } from "vitest";
import { parseRdf } from "../../../shared/rdf/formats";
import { validateShacl } from "../../../shared/rdf/shacl";

const shapes = `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ] .
`;

describe("SHACL inside workerd", () => {
  it("validates with shacl-engine and reports violations as data and Turtle", async () => {
    const data = await parseRdf(
      `@prefix ex: <http://example.org/> .
ex:alice a ex:Person ; ex:name "Alice" .
ex:bob a ex:Person ; ex:name "Bob", "Robert" .
ex:carol a ex:Person .`,
      "text/turtle",
    );
    const report = await validateShacl(data, shapes);
    expect(report.conforms).toBe(false);
    expect(report.results.map((r) => [r.focusNode, r.sourceConstraintComponent])).toEqual([
      ["<http://example.org/bob>", "http://www.w3.org/ns/shacl#MaxCountConstraintComponent"],
      ["<http://example.org/carol>", "http://www.w3.org/ns/shacl#MinCountConstraintComponent"],
    ]);
    expect(report.turtle).toContain("sh:conforms false");
    const conforming = await validateShacl(data.slice(0, 2), shapes);
    expect(conforming.conforms).toBe(true);
  });
});
