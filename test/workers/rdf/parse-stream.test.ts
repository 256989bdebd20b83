import { describe, expect, it } from "vitest";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { quadToNQuadsLine } from "../../../shared/rdf/ntriples";
import { parseRdfStream } from "../../../shared/rdf/parse-stream";

describe("parseRdfStream in workerd", () => {
  it("reads a byte stream delivered in small chunks (readAtLeast pieces) to the same quads", async () => {
    const text = `${Array.from({ length: 5000 }, (_, i) => `<http://e/s${i}> <http://e/p> "v${i} é" .`).join("\n")}\n`;
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    let pulls = 0;
    const body = new ReadableStream({
      type: "bytes",
      pull(controller) {
        pulls += 1;
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 1000));
        offset += 1000;
      },
    });
    const lines: string[] = [];
    const result = await parseRdfStream(body, "application/n-triples", (quad) => lines.push(quadToNQuadsLine(quad)));
    expect(result).toEqual({ quads: 5000, bytes: bytes.length });
    expect(lines).toEqual(parseRdfSync(text, "application/n-triples").map(quadToNQuadsLine));
    expect(pulls).toBeGreaterThan(bytes.length / 1000);
  });
});
