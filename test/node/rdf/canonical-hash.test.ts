import { createHash } from "node:crypto";
import { DataFactory } from "n3";
import canonize from "rdf-canonize";
import { describe, expect, it } from "vitest";
import { canonicalHash, canonicalizeQuads } from "../../../shared/rdf/canonical-hash";
import { CanonicalizationLimitError } from "../../../shared/rdf/errors";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { runRdfCanonSuite } from "../../conformance/rdf-canon";

const manifest = new URL("../../../../shared/conformance/rdf-canon/manifest.ttl", import.meta.url).pathname;

const graph = `@prefix ex: <http://example.org/> .
ex:alice ex:knows [ ex:name "Bob" ; ex:knows [ ex:name "Carol" ] ] .
ex:alice ex:age 42 ; ex:tag "x", "y" .
_:shared ex:p _:other . _:other ex:p _:shared .
`;

function clique(size: number): string {
  const lines: string[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) lines.push(`_:e${i} <http://example.com/p> _:e${j} .`);
  return lines.join("\n");
}

describe("canonicalHash", () => {
  it("passes all 86 W3C RDFC-1.0 tests", async () => {
    const report = await runRdfCanonSuite(manifest);
    expect(report.failures).toEqual([]);
    expect({ cases: report.cases, passed: report.passed }).toEqual({ cases: 86, passed: 86 });
  });

  it("gives the same hash for reordered triples and relabeled blank nodes", async () => {
    const quads = parseRdfSync(graph, "text/turtle");
    const reordered = [...quads].reverse();
    const relabeled = quads.map((q) =>
      DataFactory.quad(
        q.subject.termType === "BlankNode" ? DataFactory.blankNode(`renamed_${q.subject.value}`) : q.subject,
        q.predicate,
        q.object.termType === "BlankNode" ? DataFactory.blankNode(`renamed_${q.object.value}`) : q.object,
      ),
    );
    const original = await canonicalHash(quads);
    expect(original.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await canonicalHash(reordered)).hash).toBe(original.hash);
    expect((await canonicalHash(relabeled)).hash).toBe(original.hash);
    expect((await canonicalHash([...quads, ...quads])).hash).toBe(original.hash);
    const changed = parseRdfSync(graph.replace('"Carol"', '"Caroline"'), "text/turtle");
    expect((await canonicalHash(changed)).hash).not.toBe(original.hash);
  });

  it("matches rdf-canonize's own N-Quads pipeline and a Node SHA-256 of the canonical form", async () => {
    const quads = parseRdfSync(graph, "text/turtle");
    const { canonical, hash } = await canonicalHash(quads);
    const nquads = canonize.NQuads.serialize(quads);
    const reference = await canonize.canonize(nquads, {
      algorithm: "RDFC-1.0",
      inputFormat: "application/n-quads",
      maxWorkFactor: 3,
    });
    expect(canonical).toBe(reference);
    expect(hash).toBe(`sha256:${createHash("sha256").update(canonical, "utf8").digest("hex")}`);
  });

  it("takes the no-blank-node fast path with exactly rdf-canonize's output", async () => {
    const literals = [
      '"plain"',
      '"tab\\t and \\"quote\\""',
      '"é ü 日本"@ja',
      '"😀 astral"',
      '"\\u0007 bell"',
      '"ﬀ bmp-high"',
    ];
    const datatypes = ["", "^^<http://www.w3.org/2001/XMLSchema#integer>", "@en-GB"];
    const lines: string[] = [];
    literals.forEach((literal, i) => {
      datatypes.forEach((suffix, j) => {
        const object =
          suffix.startsWith("^^") || suffix.startsWith("@") ? `${literal.replace(/@ja$/, "")}${suffix}` : literal;
        lines.push(`<http://example.org/s${i}> <http://example.org/p${j}> ${object} <http://example.org/g${j % 2}> .`);
        lines.push(`<http://example.org/s${i}> <http://example.org/p${j}> <http://example.org/o${i}${j}> .`);
      });
    });
    const quads = parseRdfSync(lines.join("\n"), "application/n-quads");
    const { canonical, issuedIdentifiers } = await canonicalizeQuads([...quads].reverse());
    expect(issuedIdentifiers.size).toBe(0);
    const reference = await canonize.canonize(canonize.NQuads.serialize(quads), {
      algorithm: "RDFC-1.0",
      inputFormat: "application/n-quads",
    });
    expect(canonical).toBe(reference);
  });

  it("supports SHA-384 as the RDFC-1.0 hash", async () => {
    const quads = parseRdfSync(graph, "text/turtle");
    const { canonical, hash } = await canonicalHash(quads, { hashAlgorithm: "sha384" });
    expect(hash).toBe(`sha384:${createHash("sha384").update(canonical, "utf8").digest("hex")}`);
  });

  it("reports the issued identifiers", async () => {
    const quads = parseRdfSync("_:a <http://example.org/p> _:b .", "application/n-triples");
    const { issuedIdentifiers, canonical } = await canonicalizeQuads(quads);
    expect([...issuedIdentifiers.values()].sort()).toEqual(["c14n0", "c14n1"]);
    expect(canonical).toMatch(/^_:c14n\d <http:\/\/example.org\/p> _:c14n\d \.\n$/);
  });

  it("refuses the poison clique graph with CanonicalizationLimitError", async () => {
    const poison = parseRdfSync(clique(10), "application/n-quads");
    await expect(canonicalHash(poison)).rejects.toBeInstanceOf(CanonicalizationLimitError);
  });

  it("enforces the hash-operation ceiling independently of the work factor", async () => {
    const quads = parseRdfSync(graph, "text/turtle");
    await expect(canonicalHash(quads)).resolves.toMatchObject({ hash: expect.stringMatching(/^sha256:/) });
    await expect(canonicalHash(quads, { maxHashOperations: 10 })).rejects.toBeInstanceOf(CanonicalizationLimitError);
  });
});
