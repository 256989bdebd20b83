import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { DataFactory } from "n3";
import { describe, expect, it } from "vitest";
import { sqlDatabaseFromStorage } from "../../../durable-objects/durable-object-sql-database";
import { ExternalCanonicalDocument } from "../../../shared/rdf/store/external-canonical-document";
import { QuadStore } from "../../../shared/rdf/store/quad-store";

const { namedNode, literal, blankNode, quad } = DataFactory;

async function text(pieces: Iterable<Uint8Array>): Promise<string> {
  let document = "";
  const decoder = new TextDecoder();
  for (const piece of pieces) document += decoder.decode(piece, { stream: true });
  return document + decoder.decode();
}

describe("canonical documents sorted by Durable Object SQLite", () => {
  it("give the in-memory path's hash and bytes, blobs and supplementary characters included", async () => {
    const stub = env.TENANT.get(env.TENANT.idFromName("external-canonical-document"));
    await runInDurableObject(stub, async (_instance, state) => {
      const db = sqlDatabaseFromStorage(state.storage);
      const inMemory = new QuadStore(db);
      const external = new QuadStore(db, { canonical: { inMemoryTriples: 0, pageRows: 3 } });
      const lexicals = ["a\uFFFF", "a\u{10000}", "a\uE000", "a😀", "a", 'quote " and \\ and \n', "é"];
      const triples = [
        ...lexicals.map((lexical, i) =>
          quad(namedNode(`http://ex.org/s${i % 3}`), namedNode("http://p"), literal(lexical)),
        ),
        quad(blankNode("x"), namedNode("http://p"), blankNode("y")),
        quad(blankNode("y"), namedNode("http://p"), literal("y", "en")),
      ];
      inMemory.applyPatch("g", { add: triples }, { createdAt: "2026-01-01T00:00:00Z" });
      const expectedHash = await inMemory.versionHash("g", 1);
      expect(await external.versionHash("g", 1)).toBe(expectedHash);
      const document = await external.versionDocument("g", 1);
      expect(document).toBeInstanceOf(ExternalCanonicalDocument);
      const streamed = await text(document);
      expect(streamed).toBe(await text(await inMemory.versionDocument("g", 1)));
      expect(streamed.split("\n")).toHaveLength(triples.length + 1);
      expect((document as ExternalCanonicalDocument).usage.mostRowsHeld).toBe(3);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM rdf_canonical_line").one().n).toBe(0);
    });
  });
});
