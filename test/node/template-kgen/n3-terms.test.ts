import { DataFactory } from "n3";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { createKgenEnvironmentSpec, installKgenEnvironment } from "../../../shared/template/kgen";

const { namedNode, literal, blankNode } = DataFactory;

describe("KGEN RDF filters with n3 terms", () => {
  const spec = () =>
    createKgenEnvironmentSpec({ buildTime: "2024-01-01", seed: "n3", prefixes: { ex: "http://example.org/" } });

  it("read NamedNode, Literal and BlankNode through their getters", () => {
    const { filters } = spec();
    expect(filters.compact?.(namedNode("http://example.org/Person"))).toBe("ex:Person");
    expect(filters.localName?.(namedNode("http://example.org/Person"))).toBe("Person");
    expect(filters.literal?.(literal("3", namedNode("http://www.w3.org/2001/XMLSchema#integer")))).toBe(
      '"3"^^xsd:integer',
    );
    expect(filters.literal?.(literal("chat", "fr"))).toBe('"chat"@fr');
    expect(filters.literal?.(literal("plain"))).toBe('"plain"');
    expect(filters.uri?.(blankNode("b0"))).toBe("_:b0");
    expect(filters.rdfType?.(blankNode("b0"))).toBe("bnode");
    expect(filters.xsdType?.(literal("1.5", namedNode("http://www.w3.org/2001/XMLSchema#decimal")))).toBe(
      "xsd:decimal",
    );
    expect(filters.value?.(literal("v"))).toBe("v");
  });

  it("render a Turtle snippet from quads through nunjucks", () => {
    const quads = [
      DataFactory.quad(
        namedNode("http://example.org/alice"),
        namedNode("http://xmlns.com/foaf/0.1/name"),
        literal("Alice", "en"),
      ),
      DataFactory.quad(
        namedNode("http://example.org/alice"),
        namedNode("http://xmlns.com/foaf/0.1/age"),
        literal("42", namedNode("http://www.w3.org/2001/XMLSchema#integer")),
      ),
    ];
    const env = installKgenEnvironment(new nunjucks.Environment(null, { autoescape: false }), spec());
    const output = env.renderString(
      "{% for q in quads | sortBy('predicate.value') %}{{ q.subject | compact }} {{ q.predicate | compact }} {{ q.object | literal }} .\n{% endfor %}",
      { quads },
    );
    expect(output).toBe('ex:alice foaf:age "42"^^xsd:integer .\nex:alice foaf:name "Alice"@en .\n');
  });
});
