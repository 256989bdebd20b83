import type { Quad } from "@rdfjs/types";
import { describe, expect, it } from "vitest";
import { NestingTooDeepError } from "../../../shared/core/budget-errors";
import { jsonNestingOverflowOffset, MAX_JSON_DEPTH } from "../../../shared/core/json-nesting";
import { lineAndColumn } from "../../../shared/core/text-position";
import { JsonLdDocumentError, RdfSyntaxError, RelativeIriError } from "../../../shared/rdf/errors";
import { MAX_RDF_NESTING_DEPTH, parseRdf, parseRdfSync } from "../../../shared/rdf/formats";
import { parseRdfStream } from "../../../shared/rdf/parse-stream";
import { checkQueryNesting } from "../../../shared/rdf/sparql/parse/query-nesting";
import { pieces } from "../../support/byte-pieces";

/** A small deterministic generator, so a failing random shape can be reproduced from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const OPENERS = [
  ["(", ")"],
  ["[ <urn:p> ", " ]"],
  ["( <urn:a> ", " <urn:b> )"],
  ["[ <urn:q> 1 ; <urn:p> ", " ]"],
] as const;

/** An object nested exactly `depth` levels with a random mix of collections and blank-node property lists. */
function randomNesting(depth: number, next: () => number): string {
  let open = "";
  let close = "";
  for (let level = 0; level < depth; level++) {
    const [opener, closer] = OPENERS[Math.floor(next() * OPENERS.length)] as readonly [string, string];
    open += opener;
    close = closer + close;
  }
  return `<urn:s> <urn:p>\n ${open}"leaf"${close} .\n`;
}

async function streamError(text: string, mediaType: string, size: number): Promise<unknown> {
  try {
    await parseRdfStream(pieces(text, size), mediaType, () => undefined);
  } catch (error) {
    return error;
  }
  throw new Error("expected the stream parse to fail");
}

function syncError(text: string, mediaType: string): unknown {
  try {
    parseRdfSync(text, mediaType);
  } catch (error) {
    return error;
  }
  throw new Error("expected the parse to fail");
}

describe("RDF nesting limit", () => {
  it("names the line and column of the bracket that opens one level too many", () => {
    const document = `<urn:s> <urn:p> ${"(".repeat(50_000)}<urn:x>${")".repeat(50_000)} .`;
    const error = syncError(document, "text/turtle");
    expect(error).toBeInstanceOf(NestingTooDeepError);
    expect(error).toMatchObject({
      limit: MAX_RDF_NESTING_DEPTH,
      position: { line: 1, column: 17 + MAX_RDF_NESTING_DEPTH },
    });
  });

  it("accepts random shapes at the limit and refuses them one level deeper, whole or streamed in small pieces", async () => {
    const next = random(42);
    for (let round = 0; round < 40; round++) {
      const atLimit = randomNesting(MAX_RDF_NESTING_DEPTH, next);
      expect(parseRdfSync(atLimit, "text/turtle").length, `round ${round}`).toBeGreaterThan(MAX_RDF_NESTING_DEPTH);
      const over = randomNesting(MAX_RDF_NESTING_DEPTH + 1 + Math.floor(next() * 2000), next);
      const whole = syncError(over, "text/turtle") as NestingTooDeepError;
      expect(whole, `round ${round}`).toBeInstanceOf(NestingTooDeepError);
      expect(whole.position.line).toBe(2);
      const streamed = (await streamError(over, "text/turtle", 1 + Math.floor(next() * 64))) as NestingTooDeepError;
      expect(streamed).toBeInstanceOf(NestingTooDeepError);
      expect(streamed.position).toEqual(whole.position);
    }
  });

  it("counts nesting inside TriG graphs and as a subject, and refuses it in every syntax n3 parses", async () => {
    const deep = "(".repeat(MAX_RDF_NESTING_DEPTH + 1) + ")".repeat(MAX_RDF_NESTING_DEPTH + 1);
    expect(syncError(`<urn:g> { <urn:s> <urn:p> ${deep} }`, "application/trig")).toBeInstanceOf(NestingTooDeepError);
    expect(syncError(`${deep} <urn:p> 1 .`, "text/turtle")).toBeInstanceOf(NestingTooDeepError);
    expect(await streamError(`<urn:g> { ${deep} <urn:p> 1 }`, "application/trig", 7)).toBeInstanceOf(
      NestingTooDeepError,
    );
  });

  it("keeps syntax errors in deep documents as syntax errors", () => {
    expect(syncError(`<urn:s> <urn:p> ${"(".repeat(10)} .`, "text/turtle")).toBeInstanceOf(RdfSyntaxError);
  });
});

describe("relative IRIs", () => {
  it("are refused without a base, with the IRI's line and column, whole or streamed", async () => {
    const document = "<urn:s> <urn:p> <urn:o> .\n<urn:s>  <p> <urn:o> .\n";
    const whole = syncError(document, "text/turtle");
    expect(whole).toBeInstanceOf(RelativeIriError);
    expect(whole).toMatchObject({ line: 2, column: 10 });
    for (const size of [1, 3, 17])
      expect(await streamError(document, "text/turtle", size)).toMatchObject(whole as object);
  });

  it("resolve against baseIRI or a declared base, as before", () => {
    const [viaOption] = parseRdfSync("<a> <b> <c> .", "text/turtle", { baseIRI: "http://x/" }) as Quad[];
    expect(viaOption?.subject.value).toBe("http://x/a");
    const [viaBase] = parseRdfSync("@base <http://y/> . <a> <b> <#c> .", "text/turtle") as Quad[];
    expect(viaBase?.object.value).toBe("http://y/#c");
  });

  it("stay syntax errors in N-Triples", () => {
    expect(syncError("<a> <http://b> <http://c> .", "application/n-triples")).toBeInstanceOf(RdfSyntaxError);
  });
});

describe("JSON-LD documents", () => {
  it("must be an object or an array", async () => {
    for (const document of ["42", '"x"', "null", "false"]) {
      await expect(parseRdf(document, "application/ld+json")).rejects.toBeInstanceOf(JsonLdDocumentError);
    }
    await expect(parseRdf("[]", "application/ld+json")).resolves.toEqual([]);
  });

  it("are refused past the JSON nesting limit before expansion, accepted at it", async () => {
    const nested = (depth: number) => `${'{"urn:p":'.repeat(depth - 1)}{"@id":"urn:x"}${"}".repeat(depth - 1)}`;
    await expect(parseRdf(nested(MAX_JSON_DEPTH), "application/ld+json")).resolves.toHaveLength(MAX_JSON_DEPTH - 1);
    const error = await parseRdf(nested(MAX_JSON_DEPTH + 1), "application/ld+json").catch((e) => e);
    expect(error).toBeInstanceOf(NestingTooDeepError);
    expect(error).toMatchObject({ position: { line: 1, column: 9 * MAX_JSON_DEPTH + 1 } });
  });
});

describe("bracket scanners", () => {
  it("JSON: ignore brackets in strings (with escaped quotes) and find the first bracket past the limit", () => {
    expect(jsonNestingOverflowOffset('["[[[\\"[[", [1]]', 2)).toBe(-1);
    expect(jsonNestingOverflowOffset('["[[[\\"[[", [[1]]]', 2)).toBe(13);
    const next = random(7);
    for (let round = 0; round < 100; round++) {
      const depth = 1 + Math.floor(next() * 300);
      const text = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      expect(jsonNestingOverflowOffset(text, depth)).toBe(-1);
      expect(jsonNestingOverflowOffset(text, depth - 1)).toBe(depth - 1);
    }
  });

  it("SPARQL: ignore brackets in strings, long strings, IRIs and comments; `<` as an operator is not an IRI", () => {
    const text = `INSERT { <urn:s> <urn:p> "(((" , '''[[[\n''' , <urn:a(b)> } # {{{{
WHERE { FILTER (1 < 2 && (3 > 2)) }`;
    expect(() => checkQueryNesting(text, "sparql update", 3)).not.toThrow();
    const refusal = (() => {
      try {
        checkQueryNesting(text, "sparql update", 2);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toMatchObject({
      subject: "sparql update",
      limit: 2,
      position: lineAndColumn(text, text.indexOf("(3")),
    });
  });
});
