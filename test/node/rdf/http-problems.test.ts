import { describe, expect, it } from "vitest";
import { canonicalHash } from "../../../shared/rdf/canonical-hash";
import { parseRdf } from "../../../shared/rdf/formats";
import { validateShacl } from "../../../shared/rdf/shacl";
import { HttpError } from "../../../workers/problems/http-error";
import { rdfErrorToHttpError } from "../../../workers/problems/rdf-problems";

async function problemFor(action: () => Promise<unknown>, options?: Parameters<typeof rdfErrorToHttpError>[1]) {
  try {
    await action();
  } catch (error) {
    return rdfErrorToHttpError(error, options);
  }
  throw new Error("expected the action to fail");
}

describe("rdfErrorToHttpError", () => {
  it("maps an unknown media type to 415", async () => {
    const problem = await problemFor(() => parseRdf("", "text/html"));
    expect(problem).toMatchObject({ status: 415, type: "unsupported-media-type" });
  });

  it("maps a syntax error to 400 with line and column", async () => {
    const problem = await problemFor(() => parseRdf("<http://a> <http://b> .\n", "text/turtle"));
    expect(problem).toMatchObject({ status: 400, type: "rdf-syntax-error", extensions: { line: 1, column: 23 } });
  });

  it("maps the quad limit to 403 quota-exceeded, or 413 for a payload limit", async () => {
    const doc = "<http://a> <http://b> <http://c> . <http://a> <http://b> <http://d> .";
    expect(await problemFor(() => parseRdf(doc, "text/turtle", { maxQuads: 1 }))).toMatchObject({
      status: 403,
      type: "quota-exceeded",
      extensions: { limit: 1 },
    });
    expect(
      await problemFor(() => parseRdf(doc, "text/turtle", { maxQuads: 1 }), { quadLimit: "payload" }),
    ).toMatchObject({
      status: 413,
      type: "payload-too-large",
    });
  });

  it("maps refused JSON-LD contexts, canonicalization limits and unusable shapes", async () => {
    expect(
      await problemFor(() => parseRdf('{"@context": "https://schema.org/"}', "application/ld+json")),
    ).toMatchObject({ status: 400, type: "jsonld-remote-context" });
    const blankNodes = await parseRdf("_:a <http://p> _:b . _:b <http://p> _:a .", "text/turtle");
    expect(await problemFor(() => canonicalHash(blankNodes, { maxHashOperations: 1 }))).toMatchObject({
      status: 422,
      type: "canonicalization-limit",
    });
    const sparqlShapes = '<http://s> <http://www.w3.org/ns/shacl#sparql> "x" .';
    expect(await problemFor(() => validateShacl([], sparqlShapes))).toMatchObject({
      status: 400,
      type: "invalid-shapes",
    });
  });

  it("leaves other errors alone", () => {
    expect(rdfErrorToHttpError(new Error("boom"))).toBeNull();
    expect(rdfErrorToHttpError(new HttpError(500, "x", "y"))).toBeNull();
  });
});
