import { DataFactory, type Quad } from "n3";
import canonize from "rdf-canonize";
import { describe, expect, it } from "vitest";
import { pickParser, pickSerializer } from "../../../shared/rdf/content-negotiation";
import {
  QuadLimitExceededError,
  RdfSyntaxError,
  RemoteContextRefusedError,
  UnsupportedMediaTypeError,
} from "../../../shared/rdf/errors";
import { parseRdf, parseRdfSync, serializeRdf, serializeRdfSync } from "../../../shared/rdf/formats";
import { quadToNQuadsLine } from "../../../shared/rdf/ntriples";

const { namedNode, literal, quad, blankNode } = DataFactory;
const EX = "http://example.org/";

const turtle = `@prefix ex: <${EX}> .
ex:alice a ex:Person ; ex:knows ex:bob, ex:carol ; ex:age 42 .
ex:bob ex:name "Bob"@en ; ex:address [ ex:city "Paris" ] .
`;

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

function shuffled<T>(items: T[]): T[] {
  // Deterministic permutation (reverse + rotate): enough to change input order without randomness.
  const reversed = [...items].reverse();
  return [...reversed.slice(2), ...reversed.slice(0, 2)];
}

describe("parseRdf", () => {
  it("parses Turtle, TriG, N-Triples, N-Quads and JSON-LD into RDF/JS quads", async () => {
    expect(await parseRdf(turtle, "text/turtle")).toHaveLength(7);
    const trig = await parseRdf(
      `<${EX}s> <${EX}p> <${EX}o> . <${EX}g> { <${EX}s> <${EX}p> "in g" }`,
      "application/trig",
    );
    expect(trig.map((q) => q.graph.value)).toEqual(["", `${EX}g`]);
    const nt = await parseRdf(`<${EX}s> <${EX}p> "a\\nb" .\n`, "application/n-triples");
    expect(nt[0]?.object.value).toBe("a\nb");
    const nq = await parseRdf(`<${EX}s> <${EX}p> <${EX}o> <${EX}g> .\n`, "application/n-quads; charset=utf-8");
    expect(nq[0]?.graph.equals(namedNode(`${EX}g`))).toBe(true);
    const jsonLd = await parseRdf(
      JSON.stringify({ "@context": { ex: EX }, "@id": "ex:s", "ex:p": [{ "@id": "ex:o" }, 3] }),
      "application/ld+json",
    );
    expect(jsonLd.map(quadToNQuadsLine).sort()).toEqual([
      `<${EX}s> <${EX}p> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .`,
      `<${EX}s> <${EX}p> <${EX}o> .`,
    ]);
  });

  it("resolves relative IRIs against baseIRI", async () => {
    const [first] = await parseRdf("<a> <b> <c> .", "text/turtle", { baseIRI: "http://base.example/dir/" });
    expect(first?.subject.value).toBe("http://base.example/dir/a");
  });

  it("numbers blank nodes per parse, independent of earlier parses", () => {
    const first = serializeRdfSync(parseRdfSync(turtle, "text/turtle"), "application/n-triples");
    const second = serializeRdfSync(parseRdfSync(turtle, "text/turtle"), "application/n-triples");
    expect(second).toBe(first);
    expect(first).toContain("_:n_0");
  });

  it("rejects an unknown media type with UnsupportedMediaTypeError", async () => {
    const error = await thrown(parseRdf("<a> <b> <c> .", "application/rdf+xml"));
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect((error as UnsupportedMediaTypeError).mediaType).toBe("application/rdf+xml");
    expect(() => parseRdfSync("{}", "application/ld+json")).toThrow(UnsupportedMediaTypeError);
  });

  // The expected column is where `offending` first occurs on the reported line (1-based).
  it.each([
    ["grammar error (Turtle)", `@prefix ex: <${EX}> .\nex:a ex:p ex:b ;\n   ex:q ] .`, "text/turtle", 3, "]"],
    ["lexer error (Turtle)", `<${EX}a> <${EX}b> <${EX}c> .\n  <${EX}a> % <${EX}c> .`, "text/turtle", 2, "%"],
    ["unterminated literal (N-Triples)", `<${EX}a> <${EX}b> "open .\n`, "application/n-triples", 1, '"open'],
    ["prefixed name in N-Triples", `<${EX}a> <${EX}b> ex:c .\n`, "application/n-triples", 1, "ex:c"],
    // `<a>` on line 2 is read as the graph label of line 1's quad; the dot is missing before `<b>`.
    [
      "missing dot (N-Quads)",
      `<${EX}a> <${EX}b> <${EX}c>\n<${EX}a> <${EX}b> <${EX}c> .`,
      "application/n-quads",
      2,
      `<${EX}b>`,
    ],
    ["JSON syntax (JSON-LD)", `{\n  "@id": "${EX}a",\n  "${EX}p": }`, "application/ld+json", 3, "}"],
  ])("reports a %s with line and column", async (_name, text, mediaType, line, offending) => {
    const column = (text.split("\n")[line - 1] ?? "").indexOf(offending) + 1;
    expect(column).toBeGreaterThan(0);
    const error = await thrown(parseRdf(text, mediaType));
    expect(error).toBeInstanceOf(RdfSyntaxError);
    expect(error).toMatchObject({ line, column, mediaType });
  });

  it("rejects invalid JSON-LD structure as a syntax error", async () => {
    const error = await thrown(parseRdf('{"@id": 5, "http://example.org/p": 1}', "application/ld+json"));
    expect(error).toBeInstanceOf(RdfSyntaxError);
  });

  it("refuses remote JSON-LD contexts without touching the network", async () => {
    const error = await thrown(parseRdf('{"@context": "https://schema.org/", "name": "x"}', "application/ld+json"));
    expect(error).toBeInstanceOf(RemoteContextRefusedError);
    expect((error as RemoteContextRefusedError).url).toBe("https://schema.org/");
  });

  it("stops with QuadLimitExceededError as soon as maxQuads is passed", async () => {
    await expect(parseRdf(turtle, "text/turtle", { maxQuads: 7 })).resolves.toHaveLength(7);
    const error = await thrown(parseRdf(turtle, "text/turtle", { maxQuads: 6 }));
    expect(error).toBeInstanceOf(QuadLimitExceededError);
    // A syntax error after the limit is never reached: parsing stopped early.
    const lines = Array.from({ length: 10 }, (_, i) => `<${EX}s> <${EX}p> "${i}" .`).join("\n");
    const early = await thrown(parseRdf(`${lines}\n this is not N-Triples`, "application/n-triples", { maxQuads: 3 }));
    expect(early).toBeInstanceOf(QuadLimitExceededError);
    const jsonLd = JSON.stringify({ "@id": `${EX}s`, [`${EX}p`]: [1, 2, 3] });
    expect(await thrown(parseRdf(jsonLd, "application/ld+json", { maxQuads: 2 }))).toBeInstanceOf(
      QuadLimitExceededError,
    );
  });
});

describe("serializeRdf", () => {
  const quads: Quad[] = [
    quad(namedNode(`${EX}b`), namedNode(`${EX}p`), literal('tab\there "quoted" \\ \u0001 é')),
    quad(namedNode(`${EX}a`), namedNode(`${EX}p`), literal("chat", "fr")),
    quad(namedNode(`${EX}a`), namedNode(`${EX}p`), blankNode("x")),
    quad(blankNode("x"), namedNode(`${EX}q`), literal("1", namedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    quad(namedNode(`${EX}a`), namedNode(`${EX}p`), namedNode(`${EX}c`), namedNode(`${EX}g`)),
    quad(namedNode(`${EX}a`), namedNode(`${EX}p`), literal("chat", "fr")),
  ];

  it.each(["application/n-triples", "application/n-quads", "text/turtle", "application/trig", "application/ld+json"])(
    "is deterministic and order-independent for %s",
    async (mediaType) => {
      const first = await serializeRdf(quads, mediaType, { prefixes: { ex: EX } });
      expect(await serializeRdf(shuffled(quads), mediaType, { prefixes: { ex: EX } })).toBe(first);
      const reparsed = await parseRdf(first, mediaType);
      // 6 quads with one duplicate; triple formats merge the named-graph quad into the default graph (still 5).
      expect(reparsed).toHaveLength(5);
    },
  );

  it("writes sorted, deduplicated canonical N-Quads lines (same escaping as rdf-canonize)", () => {
    const nquads = serializeRdfSync(quads, "application/n-quads");
    const reference = [...new Set(quads.map((q) => canonize.NQuads.serializeQuad(q)))].sort().join("");
    expect(nquads).toBe(reference);
  });

  it("drops graph names for triple formats and keeps them for TriG", async () => {
    const nt = await serializeRdf(quads, "application/n-triples");
    expect(nt).not.toContain(`<${EX}g>`);
    const trig = await serializeRdf(quads, "application/trig", { prefixes: { ex: EX } });
    expect(trig).toContain("ex:g {");
    const turtleOut = await serializeRdf(quads, "text/turtle", { prefixes: { ex: EX } });
    expect(turtleOut.startsWith("@prefix ex: <http://example.org/>.")).toBe(true);
  });

  it("compacts JSON-LD with the prefixes as context", async () => {
    const document = JSON.parse(await serializeRdf(quads, "application/ld+json", { prefixes: { ex: EX } }));
    expect(document["@context"]).toEqual({ ex: EX });
    expect(JSON.stringify(document)).toContain('"ex:p"');
  });
});

describe("content negotiation", () => {
  it("picks the parser from Content-Type, parameters and case ignored", () => {
    expect(pickParser("text/turtle; charset=UTF-8")).toBe("text/turtle");
    expect(pickParser("Application/LD+JSON")).toBe("application/ld+json");
    expect(pickParser("application/x-turtle")).toBe("text/turtle");
    expect(() => pickParser("text/html")).toThrow(UnsupportedMediaTypeError);
    expect(() => pickParser(undefined)).toThrow(UnsupportedMediaTypeError);
  });

  it.each([
    [undefined, "text/turtle"],
    ["", "text/turtle"],
    ["*/*", "text/turtle"],
    ["application/n-triples", "application/n-triples"],
    ["application/ld+json;q=0.5, application/n-quads;q=0.9", "application/n-quads"],
    ["text/html, application/*;q=0.8", "application/trig"],
    ["application/*;q=0.8, application/ld+json", "application/ld+json"],
    ["text/turtle;q=0, */*;q=0.1", "application/trig"],
    ["application/n-quads, application/trig", "application/n-quads"],
    ["text/x-nquads", "application/n-quads"],
    ["text/html, image/png", null],
    ["text/turtle;q=0", null],
  ])("Accept %j → %s", (accept, expected) => {
    expect(pickSerializer(accept)).toBe(expected);
  });

  it("respects the server's list of available types", () => {
    expect(pickSerializer("*/*", ["application/n-triples", "text/turtle"])).toBe("application/n-triples");
    expect(pickSerializer("application/trig", ["text/turtle"])).toBeNull();
  });
});
