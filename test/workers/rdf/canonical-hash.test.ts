import { describe, expect, it } from "vitest";
import { canonicalHash } from "../../../shared/rdf/canonical-hash";
import { CanonicalizationLimitError } from "../../../shared/rdf/errors";
import { parseRdf } from "../../../shared/rdf/formats";

// Two symmetric blank nodes; the expected form is what rdf-canonize 5 gives in Node for the same N-Quads.
const input = `_:e0 <http://example.com/#p1> _:e1 .
_:e1 <http://example.com/#p2> "Foo" .
_:e0 <http://example.com/#p1> _:e2 .
_:e2 <http://example.com/#p2> "Foo" .
`;
const reordered = input.split("\n").reverse().join("\n").replaceAll("_:e", "_:other");

describe("canonical hashing inside workerd", () => {
  it("hashes with Web Crypto and ignores order and blank-node labels", async () => {
    const first = await canonicalHash(await parseRdf(input, "application/n-quads"));
    expect(first.canonical).toBe(
      [
        "_:c14n0 <http://example.com/#p1> _:c14n1 .",
        "_:c14n0 <http://example.com/#p1> _:c14n2 .",
        '_:c14n1 <http://example.com/#p2> "Foo" .',
        '_:c14n2 <http://example.com/#p2> "Foo" .',
        "",
      ].join("\n"),
    );
    expect(first.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const second = await canonicalHash(await parseRdf(reordered, "application/n-quads"));
    expect(second.hash).toBe(first.hash);
  });

  it("refuses a pathological blank-node clique with a typed error", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) lines.push(`_:e${i} <http://example.com/p> _:e${j} .`);
    const poison = await parseRdf(lines.join("\n"), "application/n-quads");
    await expect(canonicalHash(poison)).rejects.toBeInstanceOf(CanonicalizationLimitError);
  });
});
