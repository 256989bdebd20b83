import { DataFactory } from "n3";
import { describe, expect, it } from "vitest";
import { RDF_LANG_STRING, XSD, XSD_NS, XSD_STRING } from "../../../shared/core/rdf-vocabulary";
import { createGraphGlobals, LABEL_PREDICATES } from "../../../shared/generate/graph-globals";
import {
  lexicalValueOf,
  type RowTerm,
  rowSemanticsOf,
  rowTermOf,
  templateRows,
  templateValueOf,
} from "../../../shared/generate/row-values";
import { createKgenEngine } from "../../../shared/template/kgen-engine";
import { ENGINE_VERSION } from "../../../shared/version";

const literal = (value: string, datatype: string): RowTerm => ({ termType: "Literal", value, datatype, language: "" });

describe("row values", () => {
  it.each([
    ["true", XSD.boolean, true],
    ["1", XSD.boolean, true],
    ["false", XSD.boolean, false],
    ["0", XSD.boolean, false],
    ["yes", XSD.boolean, "yes"],
    ["42", XSD.integer, 42],
    ["+042", XSD.integer, 42],
    ["-7", `${XSD_NS}int`, -7],
    ["7", `${XSD_NS}nonNegativeInteger`, 7],
    ["255", `${XSD_NS}unsignedByte`, 255],
    ["9007199254740993", XSD.integer, "9007199254740993"],
    ["12345678901234567890", XSD.integer, "12345678901234567890"],
    ["4.2", XSD.integer, "4.2"],
    ["1.50", XSD.decimal, 1.5],
    ["0.1", XSD.decimal, 0.1],
    [".5", XSD.decimal, 0.5],
    ["1e3", XSD.decimal, "1e3"],
    ["0.12345678901234567890123", XSD.decimal, "0.12345678901234567890123"],
    ["2.5E0", XSD.double, 2.5],
    ["1e400", XSD.double, "1e400"],
    ["INF", XSD.double, "INF"],
    ["NaN", XSD.double, "NaN"],
    ["0.1", XSD.float, 0.1],
    ["abc", XSD.double, "abc"],
    ["42", XSD_STRING, "42"],
    ["2026-01-01", XSD.date, "2026-01-01"],
  ])("%s^^%s → %j", (value, datatype, expected) => {
    expect(templateValueOf(literal(value, datatype))).toBe(expected);
  });

  it("gives IRIs and blank nodes their value", () => {
    expect(templateValueOf({ termType: "NamedNode", value: "http://example.org/a" })).toBe("http://example.org/a");
    expect(templateValueOf({ termType: "BlankNode", value: "b0" })).toBe("b0");
  });

  it("keeps the terms under $terms in typed rows, and only lexical strings in lexical rows", () => {
    const row = {
      n: literal("42", XSD.integer),
      name: { termType: "Literal" as const, value: "pear", datatype: RDF_LANG_STRING, language: "en" },
      s: { termType: "NamedNode" as const, value: "http://example.org/pear" },
    };
    const [typed] = templateRows([row], "typed");
    expect(typed).toEqual({
      n: 42,
      name: "pear",
      s: "http://example.org/pear",
      $terms: row,
    });
    const [lexical] = templateRows([row], "lexical");
    expect(lexical).toEqual({ n: "42", name: "pear", s: "http://example.org/pear" });
    expect(lexicalValueOf(typed as Record<string, unknown>, "n")).toBe("42");
    expect(lexicalValueOf(lexical as Record<string, unknown>, "n")).toBe("42");
    expect(lexicalValueOf(typed as Record<string, unknown>, "missing")).toBeUndefined();
  });

  it("defines a variable named __proto__ as a value, not as the prototype", () => {
    const [typed] = templateRows([JSON.parse('{"__proto__": {"termType": "NamedNode", "value": "x"}}')], "typed");
    expect(Object.getPrototypeOf(typed)).toBe(Object.prototype);
    expect(Object.keys(typed as object)).toEqual(["__proto__", "$terms"]);
  });

  it("reads RDF/JS terms as plain data", () => {
    const { literal: lit, namedNode } = DataFactory;
    expect(rowTermOf(lit("1", namedNode(XSD.integer)))).toEqual(literal("1", XSD.integer));
    expect(rowTermOf(lit("hi", "en"))).toEqual({
      termType: "Literal",
      value: "hi",
      datatype: RDF_LANG_STRING,
      language: "en",
    });
    expect(rowTermOf(namedNode("http://example.org/a"))).toEqual({
      termType: "NamedNode",
      value: "http://example.org/a",
    });
  });

  it("replays engine 0.1.0 with lexical rows and types rows from this engine on", () => {
    expect(rowSemanticsOf("0.1.0")).toBe("lexical");
    expect(rowSemanticsOf(ENGINE_VERSION)).toBe("typed");
  });

  it("lets label() pick a typed label by its lexical form", () => {
    const rows = templateRows(
      [
        { p: { termType: "NamedNode", value: LABEL_PREDICATES[0] }, label: literal("10", XSD.integer) },
        { p: { termType: "NamedNode", value: LABEL_PREDICATES[0] }, label: literal("9", XSD.integer) },
      ],
      "typed",
    );
    expect(createGraphGlobals(() => rows).label("http://example.org/x")).toBe("10");
  });

  it("gives the RDF helpers the terms under $terms with their datatype and language", () => {
    const [row] = templateRows(
      [
        {
          n: literal("42", XSD.integer),
          name: { termType: "Literal", value: "pear", datatype: RDF_LANG_STRING, language: "en" },
          s: { termType: "NamedNode", value: "http://example.org/pear" },
        },
      ],
      "typed",
    );
    const engine = createKgenEngine({ buildTime: "2026-01-01T00:00:00Z", seed: "s" });
    const out = engine.renderString(
      "{{ row.$terms.n | literal }} {{ row.$terms.n | xsdType }} {{ row.$terms.name | literal }} {{ row.$terms.s | rdfType }}",
      { row },
    );
    expect(out).toBe('"42"^^xsd:integer xsd:integer "pear"@en iri');
  });
});
