import { describe, expect, it } from "vitest";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { parseRdfStream } from "../../../shared/rdf/parse-stream";
import { sparqlPrefixDeclarations } from "../../../shared/rdf/sparql-prefix-declarations";

describe("sparqlPrefixDeclarations", () => {
  it("reads every operation's prologue, in order, case-insensitively", () => {
    const update = `PREFIX ex: <http://example.org/>
      prefix : <http://default.example/>
      INSERT DATA { ex:a ex:b 1 } ;
      PREFIX ex: <http://other.example/> DELETE WHERE { ?s ex:gone ?o }`;
    expect(sparqlPrefixDeclarations(update)).toEqual([
      ["ex", "http://example.org/"],
      ["", "http://default.example/"],
      ["ex", "http://other.example/"],
    ]);
  });

  it("skips the word PREFIX inside strings, comments, IRIs, variables and prefixed names", () => {
    const update = `# PREFIX no: <http://comment/>
      PREFIX ex: <http://example.org/>
      INSERT DATA {
        ex:a ex:note "PREFIX s: <http://string/>" , '''PREFIX l: <http://long/>''' , 'it''s' .
        <http://iri/PREFIX> ex:PREFIX ex:b .
      }`;
    expect(sparqlPrefixDeclarations(update)).toEqual([["ex", "http://example.org/"]]);
    expect(sparqlPrefixDeclarations("SELECT ?PREFIX WHERE { ?s ?p ?PREFIX }")).toEqual([]);
  });

  it("leaves out relative namespaces and stays linear on hostile text", () => {
    expect(sparqlPrefixDeclarations("BASE <http://b/> PREFIX rel: <relative/> ASK {}")).toEqual([]);
    const hostile = `${"P".repeat(200_000)}${"<".repeat(200_000)}${"#\n".repeat(100_000)}`;
    const started = performance.now();
    expect(sparqlPrefixDeclarations(hostile)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("prefixes reported by the RDF parsers", () => {
  const turtle = "@prefix ex: <http://example.org/> .\nPREFIX s: <https://schema.org/>\nex:a s:name 'a' .\n";

  it("parseRdfSync reports each declaration", () => {
    const prefixes: [string, string][] = [];
    const quads = parseRdfSync(turtle, "text/turtle", { onPrefix: (prefix, iri) => prefixes.push([prefix, iri]) });
    expect(quads).toHaveLength(1);
    expect(prefixes).toEqual([
      ["ex", "http://example.org/"],
      ["s", "https://schema.org/"],
    ]);
  });

  it("asking for prefixes changes neither the quads nor where a refusal is reported", () => {
    const deep = `<http://e/s> <http://e/p> ${"(".repeat(100)}${")".repeat(100)} .`;
    const refusal = (options: Parameters<typeof parseRdfSync>[2]) => {
      try {
        parseRdfSync(deep, "text/turtle", options);
      } catch (error) {
        return { message: (error as Error).message, position: (error as { position?: unknown }).position };
      }
      throw new Error("expected a refusal");
    };
    expect(refusal({ onPrefix: () => undefined })).toEqual(refusal({}));
    expect(refusal({})).toMatchObject({ position: { line: 1, column: 91 } });
    const redeclared = "@prefix ex: <http://first/> .\n@prefix ex: <http://second/> .\nex:a ex:b ex:c .";
    const prefixes: [string, string][] = [];
    parseRdfSync(redeclared, "text/turtle", { onPrefix: (prefix, iri) => prefixes.push([prefix, iri]) });
    expect(prefixes).toEqual([["ex", "http://second/"]]);
  });

  it("parseRdfStream reports them as the document streams in", async () => {
    const prefixes: [string, string][] = [];
    const bytes = new TextEncoder().encode(turtle);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    await parseRdfStream(body, "text/turtle", () => undefined, {
      onPrefix: (prefix, iri) => prefixes.push([prefix, iri]),
    });
    expect(prefixes).toEqual([
      ["ex", "http://example.org/"],
      ["s", "https://schema.org/"],
    ]);
  });
});
