import { describe, expect, it } from "vitest";
import { parseRdf, serializeRdf } from "../../../shared/rdf/formats";

const turtle = `@prefix ex: <http://example.org/> .
ex:alice ex:knows ex:bob ; ex:name "Alice"@en .
ex:bob ex:knows [ ex:name "Carol" ] .
`;

const jsonLd = JSON.stringify({
  "@context": { ex: "http://example.org/" },
  "@id": "ex:alice",
  "ex:name": { "@value": "Alice", "@language": "en" },
});

describe("RDF formats inside workerd", () => {
  it("parses and serializes in several requests in a row", async () => {
    for (let request = 0; request < 4; request++) {
      const quads = await parseRdf(turtle, "text/turtle");
      expect(quads).toHaveLength(4);
      const ntriples = await serializeRdf(quads, "application/n-triples");
      const again = await parseRdf(ntriples, "application/n-triples");
      // Document blank-node labels are kept behind a per-parse prefix, so a re-parse adds one more `b_`.
      expect(await serializeRdf(again, "application/n-triples")).toBe(ntriples.replaceAll("_:", "_:b_"));
      // Yield to the event loop between "requests", where a leaked polyfill timer would stall.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  });

  it("parses JSON-LD without network access", async () => {
    const quads = await parseRdf(jsonLd, "application/ld+json");
    expect(await serializeRdf(quads, "application/n-quads")).toBe(
      '<http://example.org/alice> <http://example.org/name> "Alice"@en .\n',
    );
    await expect(
      parseRdf('{"@context": "https://schema.org/", "name": "x"}', "application/ld+json"),
    ).rejects.toMatchObject({
      name: "RemoteContextRefusedError",
    });
  });

  it("serializes Turtle and JSON-LD", async () => {
    const quads = await parseRdf(turtle, "text/turtle");
    expect(await serializeRdf(quads, "text/turtle", { prefixes: { ex: "http://example.org/" } })).toContain(
      'ex:alice ex:knows ex:bob;\n    ex:name "Alice"@en.',
    );
    const document = JSON.parse(await serializeRdf(quads, "application/ld+json"));
    expect(Array.isArray(document)).toBe(true);
  });
});
