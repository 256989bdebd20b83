import type { Quad } from "@rdfjs/types";
import { describe, expect, it } from "vitest";
import { DocumentTooLargeError, QuadLimitExceededError, RdfSyntaxError } from "../../../shared/rdf/errors";
import { parseRdf, parseRdfSync } from "../../../shared/rdf/formats";
import { quadToNQuadsLine } from "../../../shared/rdf/ntriples";
import { parseRdfStream } from "../../../shared/rdf/parse-stream";
import { pieces } from "../../support/byte-pieces";

async function streamed(text: string, mediaType: string, size: number, options = {}): Promise<string[]> {
  const quads: Quad[] = [];
  await parseRdfStream(pieces(text, size), mediaType, (quad) => quads.push(quad), options);
  return quads.map(quadToNQuadsLine);
}

const TURTLE = `@prefix ex: <http://example.org/> .
@base <http://base.example/> .
ex:a ex:name "Zoë ☃ 😀"@en ; ex:knows [ ex:name "anon" ], _:named ;
  ex:n 42, 4.5e1, true ; ex:rel <relative> .
_:named ex:list ( 1 2 ) .
ex:b ex:long """multi
line""" .
`;

const DOCUMENTS: [string, string][] = [
  ["text/turtle", TURTLE],
  ["application/n-triples", '<http://a> <http://p> "x\\u00e9\\n" .\n_:b1 <http://p> <http://c> .\n'],
  ["application/trig", "@prefix ex: <http://example.org/> . ex:g { ex:a ex:p ex:b . } ex:c ex:p ex:d ."],
  ["application/n-quads", '<http://a> <http://p> <http://b> <http://g> .\n<http://a> <http://p> "é" .\n'],
  ["application/ld+json", JSON.stringify({ "@id": "http://a", "http://p": [{ "@value": "Zoë" }, { "@id": "_:x" }] })],
];

describe("parseRdfStream", () => {
  it("yields exactly the quads of the whole-document parser, whatever the piece size", async () => {
    for (const [mediaType, text] of DOCUMENTS) {
      const whole = (await parseRdf(text, mediaType)).map(quadToNQuadsLine);
      expect(whole.length).toBeGreaterThan(0);
      for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
        expect(await streamed(text, mediaType, size), `${mediaType} in ${size}-byte pieces`).toEqual(whole);
      }
    }
  });

  it("reports a syntax error on the line and column the whole-document parser gives", async () => {
    const lines = Array.from({ length: 6000 }, (_, i) => `<http://e/s${i}> <http://e/p> "v${i}" .`);
    lines.push('<http://e/s> <http://e/p> "unterminated .');
    const text = `${lines.join("\n")}\n`;
    let expected: RdfSyntaxError | undefined;
    try {
      parseRdfSync(text, "application/n-triples");
    } catch (error) {
      expected = error as RdfSyntaxError;
    }
    expect(expected).toBeInstanceOf(RdfSyntaxError);
    for (const size of [5, 4096]) {
      const error = await streamed(text, "application/n-triples", size).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RdfSyntaxError);
      expect({ line: (error as RdfSyntaxError).line, column: (error as RdfSyntaxError).column }).toEqual({
        line: expected?.line,
        column: expected?.column,
      });
      expect((error as RdfSyntaxError).line).toBe(6001);
    }
  });

  it("stops at the byte limit, at the quad limit, and at the first error of the consumer", async () => {
    const text = Array.from({ length: 100 }, (_, i) => `<http://e/s${i}> <http://e/p> ${i} .`).join("\n");
    await expect(streamed(text, "text/turtle", 100, { maxBytes: 1000 })).rejects.toBeInstanceOf(DocumentTooLargeError);
    await expect(streamed(text, "application/ld+json", 100, { maxBytes: 1000 })).rejects.toBeInstanceOf(
      DocumentTooLargeError,
    );
    await expect(streamed(text, "text/turtle", 100, { maxQuads: 50 })).rejects.toBeInstanceOf(QuadLimitExceededError);
    let seen = 0;
    const stop = new RangeError("enough");
    const result = parseRdfStream(pieces(text, 100), "text/turtle", () => {
      seen += 1;
      if (seen === 10) throw stop;
    });
    await expect(result).rejects.toBe(stop);
    expect(seen).toBe(10);
  });

  it("reads a missing body as an empty document and reports bytes and quads", async () => {
    expect(await parseRdfStream(null, "text/turtle", () => undefined)).toEqual({ quads: 0, bytes: 0 });
    const text = "<http://a> <http://p> <http://b> .";
    expect(await parseRdfStream(pieces(text, 3), "application/n-triples", () => undefined)).toEqual({
      quads: 1,
      bytes: text.length,
    });
  });
});
