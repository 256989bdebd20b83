import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type * as RDF from "@rdfjs/types";
import { DataFactory } from "n3";
import canonize from "rdf-canonize";
import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { CanonicalizationLimitError } from "../../../shared/rdf/errors";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { hashCanonicalLines } from "../../../shared/rdf/store/canonical-triples";
import {
  codeUnitOrderKeyHex,
  sortsAsUtf8,
  utf8FromCodeUnitOrderKey,
} from "../../../shared/rdf/store/code-unit-order-key";
import {
  ExternalCanonicalDocument,
  externalCanonicalDocument,
} from "../../../shared/rdf/store/external-canonical-document";
import { QuadStore, type QuadStoreOptions } from "../../../shared/rdf/store/quad-store";
import { quadStoreSchema } from "../../../shared/rdf/store/quad-store-schema";
import { termKey } from "../../../shared/rdf/store/term-key";
import { applySchemaMigrations } from "../../../shared/sql/migrations";
import { readRdfCanonManifest } from "../../conformance/rdf-canon";
import { nodeSha256 } from "../../support/node-sha256";
import { randomDataset } from "../../support/random-rdf-dataset";
import { uploadTriples } from "../../support/sparql-store";

const manifest = new URL("../../../../shared/conformance/rdf-canon/manifest.ttl", import.meta.url).pathname;
const CREATED = "2026-01-01T00:00:00Z";

/** Two stores over one database: one hashing in the heap, one always sorting in SQLite with tiny pages. */
function storePair(pageRows = 3, extra: QuadStoreOptions["canonical"] = {}) {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, [quadStoreSchema]);
  return {
    db,
    inMemory: new QuadStore(db),
    external: new QuadStore(db, { canonical: { inMemoryTriples: 0, pageRows, ...extra } }),
  };
}

const lineRows = (db: ReturnType<typeof nodeSqlDatabase>) =>
  Number(db.all("SELECT count(*) FROM rdf_canonical_line")[0]?.[0]);

async function bytesOf(pieces: Iterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for (const piece of pieces) chunks.push(Buffer.from(piece));
  return Buffer.concat(chunks).toString("utf8");
}

/** rdf-canonize's canonical N-Quads of a set of triples, hashed by Node: the reference. */
async function referenceHash(quads: RDF.Quad[]): Promise<string> {
  const unique = [
    ...new Map(quads.map((q) => [[q.subject, q.predicate, q.object].map(termKey).join(" "), q])).values(),
  ];
  const canonical = await canonize.canonize(unique, { algorithm: "RDFC-1.0", maxWorkFactor: 3 });
  return `sha256:${createHash("sha256").update(canonical, "utf8").digest("hex")}`;
}

describe("code-unit order keys", () => {
  it("sort as UTF-16 code units under byte comparison and turn back into the UTF-8 bytes", () => {
    const alphabet = [
      "a",
      "z",
      "\u007F",
      "é",
      "\u07FF",
      "\u0800",
      "\uD7FF",
      "\uE000",
      "\uFFFD",
      "\uFFFF",
      "😀",
      "\u{10FFFF}",
      "\u{10000}",
    ];
    const strings: string[] = [];
    let state = 7;
    for (let i = 0; i < 400; i++) {
      let text = "";
      const length = i % 5;
      for (let j = 0; j < length; j++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        text += alphabet[state % alphabet.length];
      }
      strings.push(text);
    }
    const keyOf = (text: string) => Buffer.from(codeUnitOrderKeyHex(text), "hex");
    const byKeys = [...strings].sort((a, b) => Buffer.compare(keyOf(a), keyOf(b)));
    const byCodeUnits = [...strings].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(byKeys).toEqual(byCodeUnits);
    // UTF-8 alone gets it wrong: a supplementary character sorts after U+E000 as bytes, before it as code units.
    expect(Buffer.compare(Buffer.from("😀"), Buffer.from("\uE000"))).toBe(1);
    expect("😀" < "\uE000").toBe(true);
    for (const text of strings) {
      expect(Buffer.from(utf8FromCodeUnitOrderKey(new Uint8Array(keyOf(text)))).toString("utf8")).toBe(text);
      if (sortsAsUtf8(text)) expect(keyOf(text)).toEqual(Buffer.from(text, "utf8"));
    }
  });
});

describe("canonical documents sorted by SQLite", () => {
  it("hash 200 random datasets exactly as rdf-canonize and the in-memory path do, and stream the same bytes", async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { db, inMemory, external } = storePair(1 + (seed % 4));
      const quads = randomDataset(seed, 1 + (seed % 40));
      inMemory.applyPatch("g", { add: quads }, { createdAt: CREATED });
      const reference = await referenceHash(quads);
      expect(await external.versionHash("g", 1), `seed ${seed}`).toBe(reference);
      expect(await inMemory.versionHash("g", 1), `seed ${seed}`).toBe(reference);
      const streamed = await external.versionDocument("g", 1);
      expect(streamed).toBeInstanceOf(ExternalCanonicalDocument);
      expect(await bytesOf(streamed), `seed ${seed}`).toBe(await bytesOf(await inMemory.versionDocument("g", 1)));
      expect(lineRows(db)).toBe(0);
    }
  }, 60_000);

  it("order lines as code units where UTF-8 bytes would not (supplementary characters before U+E000)", async () => {
    const { db, inMemory, external } = storePair(2);
    const lexicals = ["a\uFFFF", "a\u{10000}", "a\uE000", "a😀", "a\uD7FF", "a", "a\u{10FFFF}"];
    const quads = lexicals.map((lexical) =>
      DataFactory.quad(
        DataFactory.namedNode("http://s"),
        DataFactory.namedNode("http://p"),
        DataFactory.literal(lexical),
      ),
    );
    inMemory.applyPatch("g", { add: quads }, { createdAt: CREATED });
    const document = await bytesOf(await external.versionDocument("g", 1));
    const expected = [...lexicals].sort().map((lexical) => `<http://s> <http://p> "${lexical}" .\n`);
    expect(document).toBe(expected.join(""));
    expect(document).toBe(await bytesOf(await inMemory.versionDocument("g", 1)));
    expect(await external.versionHash("g", 1)).toBe(await referenceHash(quads));
    expect(lineRows(db)).toBe(0);
  });

  it("split a page's lines into inserts under the bound-value limit when escapes make them long", async () => {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, [quadStoreSchema]);
    const store = new QuadStore(db, { canonical: { inMemoryTriples: 0 } });
    const heap = new QuadStore(db);
    const inserts: number[] = [];
    const run = db.run.bind(db);
    db.run = (sql, params) => {
      if (sql.includes("INSERT OR IGNORE INTO rdf_canonical_line")) inserts.push(String(params?.[1]).length);
      return run(sql, params);
    };
    // Each control character is 6 characters of JSON: 300 such lines are about 5 MB of parameters.
    const quads = Array.from({ length: 300 }, (_, i) =>
      DataFactory.quad(
        DataFactory.namedNode(`http://ex.org/s${i}`),
        DataFactory.namedNode("http://ex.org/p"),
        DataFactory.literal(`${i}${"\u0001".repeat(3000)}`),
      ),
    );
    heap.applyPatch("g", { add: quads }, { createdAt: CREATED });
    expect(await store.versionHash("g", 1)).toBe(await heap.versionHash("g", 1));
    expect(inserts.length).toBeGreaterThan(2);
    expect(Math.max(...inserts)).toBeLessThan(1_000_000);
  });

  it("pass the W3C RDFC-1.0 tests on default-graph SHA-256 inputs, relabeling stored blank nodes", async () => {
    let ran = 0;
    for (const testCase of readRdfCanonManifest(manifest)) {
      if (testCase.type === "map" || testCase.hashAlgorithm !== "sha256") continue;
      const input = parseRdfSync(readFileSync(testCase.action, "utf8"), "application/n-quads");
      if (input.some((quad) => quad.graph.termType !== "DefaultGraph")) continue;
      const { external } = storePair(2);
      external.applyPatch("g", { add: input }, { createdAt: CREATED });
      if (testCase.type === "negative") {
        await expect(external.versionHash("g", 1), testCase.id).rejects.toBeInstanceOf(CanonicalizationLimitError);
      } else {
        const expected = readFileSync(testCase.result as string, "utf8");
        const hash = `sha256:${createHash("sha256").update(expected, "utf8").digest("hex")}`;
        expect(await external.versionHash("g", 1), testCase.id).toBe(hash);
      }
      ran += 1;
    }
    expect(ran).toBeGreaterThan(50);
  }, 60_000);

  it("never hold more than a page of rows: the whole graph is not in memory at once", async () => {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, [quadStoreSchema]);
    const store = new QuadStore(db);
    const quads = Array.from({ length: 1000 }, (_, i) =>
      DataFactory.quad(
        DataFactory.namedNode(`http://ex.org/s${i % 97}`),
        DataFactory.namedNode(`http://ex.org/p${i % 7}`),
        i % 50 === 0 ? DataFactory.blankNode(`b${i}`) : DataFactory.literal(`value ${i} \u{1F600}\uE000`),
      ),
    );
    store.applyPatch("g", { add: quads }, { createdAt: CREATED });
    const graphId = store.graphId("g") as number;
    const document = await externalCanonicalDocument(db, { graphId, version: 1 }, 1, { pageRows: 10 });
    expect(document.usage.blankNodeTriples).toBe(20);
    expect(lineRows(db)).toBe(1000);
    const { hash, triples } = await hashCanonicalLines(document, nodeSha256);
    expect(triples).toBe(1000);
    expect(document.usage.mostRowsHeld).toBe(10);
    expect(document.usage.triplePages).toBe(100);
    expect(document.usage.linePages).toBe(100);
    expect(hash).toBe(await referenceHash(quads));
    expect(lineRows(db)).toBe(0);
  });

  it("refuse a version whose blank-node part is over the budget (422 canonicalization-limit), leaving nothing", async () => {
    const { db, external } = storePair(2, { maxBlankNodeTriples: 2 });
    const quads = parseRdfSync(
      "_:a <http://p> _:b . _:b <http://p> _:c . <http://s> <http://p> _:c . <http://s> <http://p> <http://o> .",
      "application/n-triples",
    );
    external.applyPatch("g", { add: quads }, { createdAt: CREATED });
    await expect(external.versionHash("g", 1)).rejects.toThrow(/More than 2 triples with blank nodes/);
    await expect(external.versionHash("g", 1)).rejects.toBeInstanceOf(CanonicalizationLimitError);
    expect(lineRows(db)).toBe(0);
    // Stored labels that already are canonical need no labeling, hence no budget.
    expect((await bytesOf(await external.versionDocument("g", 1))).split("\n")).toHaveLength(5);
  });

  it("keep documents read at the same time apart, and release a cancelled stream's lines", async () => {
    const { db, inMemory, external } = storePair(2);
    inMemory.applyPatch("a", { add: randomDataset(3, 30) }, { createdAt: CREATED });
    inMemory.applyPatch("b", { add: randomDataset(4, 30) }, { createdAt: CREATED });
    const first = await external.versionDocument("a", 1);
    const second = await external.versionDocument("b", 1);
    const cancelled = await external.versionDocument("a", 1);
    expect(await bytesOf(second)).toBe(await bytesOf(await inMemory.versionDocument("b", 1)));
    expect(await bytesOf(first)).toBe(await bytesOf(await inMemory.versionDocument("a", 1)));
    expect(lineRows(db)).toBeGreaterThan(0);
    const reader = cancelled.stream().getReader();
    await reader.read();
    await reader.cancel();
    expect(lineRows(db)).toBe(0);
    // Lines an evicted object left behind go when the store next starts.
    await external.versionDocument("a", 1);
    expect(lineRows(db)).toBeGreaterThan(0);
    external.discardInterruptedWrites();
    expect(lineRows(db)).toBe(0);
  });

  it("hash uploads from their stored rows, new graphs and replacements alike, as the in-memory path does", async () => {
    const { db, inMemory, external } = storePair(4);
    const first = [...randomDataset(11, 40), ...randomDataset(12, 40)];
    const second = [...randomDataset(12, 40), ...randomDataset(13, 40)];
    for (const [name, store] of [
      ["heap", inMemory],
      ["sqlite", external],
    ] as const) {
      const one = await uploadTriples(store, name, first, { createdAt: CREATED, hash: nodeSha256 });
      const two = await uploadTriples(store, name, second, { createdAt: CREATED, hash: nodeSha256 });
      expect([one.created, two.created]).toEqual([true, true]);
    }
    expect(external.latestVersion("sqlite")?.hash).toBe(inMemory.latestVersion("heap")?.hash);
    expect(external.getVersion("sqlite", 1)?.hash).toBe(inMemory.getVersion("heap", 1)?.hash);
    expect(external.latestVersion("sqlite")?.hash).toBe(await referenceHash(second));
    expect(lineRows(db)).toBe(0);
  });
});
