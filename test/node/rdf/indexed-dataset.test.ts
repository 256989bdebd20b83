import { DataFactory } from "n3";
import { describe, expect, it } from "vitest";
import { IndexedDataset } from "../../../shared/rdf/indexed-dataset";

const { namedNode, literal, quad, blankNode, defaultGraph } = DataFactory;
const p = namedNode("http://example.org/p");
const a = namedNode("http://example.org/a");
const b = namedNode("http://example.org/b");

describe("IndexedDataset", () => {
  it("deduplicates, matches on any combination of positions and keeps insertion order", () => {
    const dataset = new IndexedDataset([
      quad(a, p, literal("1")),
      quad(b, p, literal("1")),
      quad(a, p, literal("1")),
      quad(a, p, literal("1", "en")),
      quad(a, p, blankNode("x"), namedNode("http://example.org/g")),
    ]);
    expect(dataset.size).toBe(4);
    expect([...dataset.match(a)].map((q) => q.object.value)).toEqual(["1", "1", "x"]);
    expect(dataset.match(null, null, literal("1")).size).toBe(2);
    expect(dataset.match(a, p, literal("1", "en")).size).toBe(1);
    expect(dataset.match(null, null, null, defaultGraph()).size).toBe(3);
    expect(dataset.match(b, null, blankNode("x")).size).toBe(0);
    expect(dataset.has(quad(b, p, literal("1")))).toBe(true);
  });

  it("keeps match results independent of later changes on either side", () => {
    const dataset = new IndexedDataset([quad(a, p, literal("1"))]);
    const all = dataset.match();
    const ofA = dataset.match(a);
    dataset.add(quad(a, p, literal("2")));
    expect(all.size).toBe(1);
    expect(ofA.size).toBe(1);
    expect(dataset.match(a).size).toBe(2);
    ofA.add(quad(a, p, literal("3")));
    expect(dataset.match(a).size).toBe(2);
    dataset.delete(quad(a, p, literal("1")));
    expect([...dataset].map((q) => q.object.value)).toEqual(["2"]);
    expect(ofA.size).toBe(2);
  });
});
