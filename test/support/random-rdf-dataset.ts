import type * as RDF from "@rdfjs/types";
import { DataFactory } from "n3";

// Deterministic pseudo-random datasets that stress token boundaries: labels that prefix each other, literals
// with escapes, quotes, spaces, tabs, astral and private-use characters, language tags and datatypes.
export function randomDataset(seed: number, size: number): RDF.Quad[] {
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const lexicals = ["a", "a b", 'a"b', "a\\b", "a\nb", "a\tb", "", "ab", "a\u{1F600}", "a\uE000", "é", "a\rb"];
  const iri = () => DataFactory.namedNode(`http://ex.org/${["a", "ab", "a/b", "a#b", "b", "A"][next(6)]}`);
  const blank = () => DataFactory.blankNode(`b${next(5)}`);
  const literal = () => {
    const lexical = lexicals[next(lexicals.length)] as string;
    switch (next(4)) {
      case 0:
        return DataFactory.literal(lexical);
      case 1:
        return DataFactory.literal(lexical, ["en", "en-us", "de"][next(3)]);
      case 2:
        return DataFactory.literal(lexical, DataFactory.namedNode("http://www.w3.org/2001/XMLSchema#integer"));
      default:
        return DataFactory.literal(lexical, DataFactory.namedNode("http://ex.org/dt"));
    }
  };
  const quads: RDF.Quad[] = [];
  for (let i = 0; i < size; i++) {
    const subject = next(3) === 0 ? blank() : iri();
    const kind = next(3);
    const object = kind === 0 ? blank() : kind === 1 ? iri() : literal();
    quads.push(DataFactory.quad(subject, iri(), object));
  }
  return quads;
}
