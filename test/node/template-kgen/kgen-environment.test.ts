import { createHash } from "node:crypto";
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { sha256HexSync } from "../../../shared/core/sha256";
import {
  camelCase,
  constantCase,
  kebabCase,
  pascalCase,
  snakeCase,
  splitWords,
} from "../../../shared/template/kgen/case";
import { compareValues, sortBy, unique } from "../../../shared/template/kgen/collections";
import { formatInstant, parseInstant } from "../../../shared/template/kgen/date";
import { KgenFilterError } from "../../../shared/template/kgen/errors";
import {
  buildTimeFromSourceDateEpoch,
  createKgenEnvironmentSpec,
  installKgenEnvironment,
  type KgenEnvironmentOptions,
} from "../../../shared/template/kgen/kgen-environment";
import { BUILTIN_PREFIXES, mergePrefixes } from "../../../shared/template/kgen/rdf";
import { deriveRenderSeed, SeededRandom } from "../../../shared/template/kgen/seeded-random";
import { sortedJson } from "../../../shared/template/kgen/sorted-json";
import { indent, quote, slug } from "../../../shared/template/kgen/text";

const OPTIONS: KgenEnvironmentOptions = { buildTime: "2024-05-01T12:34:56.789Z", seed: "seed-a" };

function render(template: string, context: object = {}, options: KgenEnvironmentOptions = OPTIONS): string {
  const env = installKgenEnvironment(
    new nunjucks.Environment(null, { autoescape: false }),
    createKgenEnvironmentSpec(options),
  );
  return env.renderString(template, context);
}

function filters(options: KgenEnvironmentOptions = OPTIONS) {
  return createKgenEnvironmentSpec(options).filters;
}

describe("sha256HexSync", () => {
  it("matches node:crypto on edge-length inputs and Unicode", () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const text = "é".repeat(length);
      expect(sha256HexSync(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
    }
    expect(sha256HexSync("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("case filters", () => {
  it("splits identifiers, phrases and acronyms into words", () => {
    expect(splitWords("XMLHttpRequest")).toEqual(["XML", "Http", "Request"]);
    expect(splitWords("user_profile-id v2Api")).toEqual(["user", "profile", "id", "v2", "Api"]);
    expect(splitWords("userID")).toEqual(["user", "ID"]);
    expect(splitWords(null)).toEqual([]);
  });
  it("converts between the five cases", () => {
    const input = "user profile-ID";
    expect(camelCase(input)).toBe("userProfileId");
    expect(pascalCase(input)).toBe("UserProfileId");
    expect(kebabCase(input)).toBe("user-profile-id");
    expect(snakeCase(input)).toBe("user_profile_id");
    expect(constantCase("userProfileId")).toBe("USER_PROFILE_ID");
    expect(pascalCase("élan vital")).toBe("ÉlanVital");
  });
  it("renders through nunjucks", () => {
    expect(render("{{ n | pascalCase }}/{{ n | kebabCase }}/{{ n | constantCase }}", { n: "order line" })).toBe(
      "OrderLine/order-line/ORDER_LINE",
    );
  });
});

describe("hash and json", () => {
  it("hashes strings as UTF-8 and other values as canonical JSON, optionally truncated", () => {
    const f = filters();
    expect(f.hash?.("abc")).toBe(sha256HexSync("abc"));
    expect(f.hash?.({ b: 1, a: 2 })).toBe(sha256HexSync('{"a":2,"b":1}'));
    expect(f.hash?.("abc", 8)).toBe("ba7816bf");
    expect(() => f.hash?.("abc", 0)).toThrow(KgenFilterError);
    expect(() => f.hash?.("abc", 65)).toThrow(/hash: length/);
    expect(render("{{ 'abc' | hash(12) }}")).toBe("ba7816bf8f01");
  });
  it("writes JSON with recursively sorted keys, including integer-like keys", () => {
    expect(sortedJson({ b: 1, 10: 2, 2: 3, a: { z: [{ y: 1, x: 2 }], c: undefined } })).toBe(
      '{"10":2,"2":3,"a":{"z":[{"x":2,"y":1}]},"b":1}',
    );
    expect(sortedJson({ b: [1, undefined], a: 1 }, 2)).toBe('{\n  "a": 1,\n  "b": [\n    1,\n    null\n  ]\n}');
    expect(
      sortedJson(
        new Map<string, unknown>([
          ["b", 1],
          ["a", new Set([2])],
        ]),
      ),
    ).toBe('{"a":[2],"b":1}');
    expect(sortedJson(undefined)).toBe("null");
    expect(sortedJson({ term: { toJSON: () => ({ value: "v", termType: "NamedNode" }) } })).toBe(
      '{"term":{"termType":"NamedNode","value":"v"}}',
    );
    expect(sortedJson({ when: new Date(0), n: Number.NaN })).toBe('{"n":null,"when":"1970-01-01T00:00:00.000Z"}');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => sortedJson(cycle)).toThrow(/circular/);
    expect(() => sortedJson({}, -1)).toThrow(KgenFilterError);
    expect(render("{{ v | json }}|{{ v | json(1) }}", { v: { b: 1, a: [] } })).toBe(
      '{"a":[],"b":1}|{\n "a": [],\n "b": 1\n}',
    );
  });
});

describe("text filters", () => {
  it("indents non-empty lines, first line included by default", () => {
    expect(indent("a\n\nb")).toBe("  a\n\n  b");
    expect(indent("a\nb", 4, false)).toBe("a\n    b");
    expect(indent("a\nb", "\t")).toBe("\ta\n\tb");
    expect(() => indent("a", -1)).toThrow(/indent: width/);
    expect(render("{{ 'x\ny' | indent(3) }}")).toBe("   x\n   y");
  });
  it("quotes with JSON or single-quote escapes", () => {
    expect(quote('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(quote("it's\\", "'")).toBe("'it\\'s\\\\'");
    expect(quote("\u0001", "'")).toBe("'\\u0001'");
    expect(() => quote("x", "`")).toThrow(/quote: style/);
  });
  it("slugs with diacritics removed", () => {
    expect(slug("  Crème Brûlée: 2 ways! ")).toBe("creme-brulee-2-ways");
    expect(slug("A_B", "_")).toBe("a_b");
    expect(() => slug("x", 1)).toThrow(KgenFilterError);
  });
});

describe("sortBy and unique", () => {
  const people = [{ name: "bo", age: 30 }, { name: "al", age: 25 }, { name: "cy", age: 30 }, { name: "dee" }];
  it("sorts stably by a path, with a locale-independent total order", () => {
    expect(sortBy(people, "age").map((p) => (p as { name: string }).name)).toEqual(["al", "bo", "cy", "dee"]);
    expect(sortBy(people, "age", true).map((p) => (p as { name: string }).name)).toEqual(["dee", "bo", "cy", "al"]);
    expect(sortBy(["b", "B", "a", 10, 9, true, null])).toEqual([9, 10, "B", "a", "b", true, null]);
    expect(compareValues({ a: 1 }, { a: 2 })).toBeLessThan(0);
    expect(sortBy([{ k: { __proto__: 1 } }], "k.__proto__")).toHaveLength(1);
    expect(people[0]).toEqual({ name: "bo", age: 30 });
    expect(() => sortBy(5)).toThrow(/sortBy: expected an array/);
    expect(render("{% for p in ps | sortBy('name', true) %}{{ p.name }} {% endfor %}", { ps: people })).toBe(
      "dee cy bo al ",
    );
  });
  it("keeps first occurrences, by value, structure or path", () => {
    expect(unique([1, "1", 1, { a: 1, b: 2 }, { b: 2, a: 1 }])).toEqual([1, "1", { a: 1, b: 2 }]);
    expect(unique(people, "age")).toEqual([people[0], people[1], people[3]]);
    expect(render("{{ xs | unique | join(',') }}", { xs: ["b", "a", "b"] })).toBe("b,a");
  });
});

describe("RDF helpers", () => {
  const f = filters({ ...OPTIONS, prefixes: { ex: "http://example.org/ns#", exd: "http://example.org/ns#data/" } });
  const person = { termType: "NamedNode", value: "http://example.org/ns#Person" };

  it("splits IRIs into namespace and local name", () => {
    expect(f.localName?.("http://example.org/ns#Person")).toBe("Person");
    expect(f.localName?.("http://example.org/people/alice")).toBe("alice");
    expect(f.localName?.(person)).toBe("Person");
    expect(f.namespace?.("<http://example.org/people/alice>")).toBe("http://example.org/people/");
    expect(f.localName?.("urn:isbn:123")).toBe("123");
  });
  it("compacts with the longest namespace and expands known prefixes only", () => {
    expect(f.compact?.("http://www.w3.org/2000/01/rdf-schema#label")).toBe("rdfs:label");
    expect(f.prefixed?.("http://example.org/ns#data/x")).toBe("exd:x");
    expect(f.compact?.("http://example.org/ns#a/b")).toBe("http://example.org/ns#a/b");
    expect(f.compact?.("http://other.org/x")).toBe("http://other.org/x");
    expect(f.compact?.("http://other.org/x", { o: "http://other.org/" })).toBe("o:x");
    expect(f.expand?.("foaf:name")).toBe("http://xmlns.com/foaf/0.1/name");
    expect(f.expand?.("ex:Person")).toBe("http://example.org/ns#Person");
    expect(f.expand?.("unknown:x")).toBe("unknown:x");
    expect(f.expand?.("http://x.org/a")).toBe("http://x.org/a");
    expect(f.expand?.("<http://x.org/a>")).toBe("http://x.org/a");
    expect(f.uri?.("schema:Person")).toBe("<https://schema.org/Person>");
    expect(f.uri?.("_:b1")).toBe("_:b1");
  });
  it("writes Turtle literals with escapes, languages and datatypes", () => {
    expect(f.literal?.('a "b"\n')).toBe('"a \\"b\\"\\n"');
    expect(f.literal?.(42)).toBe('"42"^^xsd:integer');
    expect(f.literal?.(1.5)).toBe('"1.5"^^xsd:double');
    expect(f.literal?.(true)).toBe('"true"^^xsd:boolean');
    expect(f.literal?.("chat", "@fr")).toBe('"chat"@fr');
    expect(f.literal?.("chat", null, "en-GB")).toBe('"chat"@en-GB');
    expect(f.literal?.("2024-01-01", "xsd:date")).toBe('"2024-01-01"^^xsd:date');
    expect(f.literal?.("x", "http://example.org/dt")).toBe('"x"^^<http://example.org/dt>');
    expect(() => f.literal?.("x", "nope:dt")).toThrow(/literal: unknown prefix/);
    expect(() => f.literal?.("x", "@not a tag")).toThrow(/literal: invalid language tag/);
    const typed = {
      termType: "Literal",
      value: "7",
      language: "",
      datatype: { termType: "NamedNode", value: "http://www.w3.org/2001/XMLSchema#int" },
    };
    expect(f.literal?.(typed)).toBe('"7"^^xsd:int');
    expect(f.literal?.({ type: "literal", value: "hi", "xml:lang": "en" })).toBe('"hi"@en');
  });
  it("reads values, term kinds and XSD types", () => {
    expect(f.value?.({ type: "uri", value: "http://x.org/a" })).toBe("http://x.org/a");
    expect(f.value?.(undefined)).toBe("");
    expect(f.rdfType?.(person)).toBe("iri");
    expect(f.rdfType?.("ex:Person")).toBe("iri");
    expect(f.rdfType?.("_:b0")).toBe("bnode");
    expect(f.rdfType?.("hello")).toBe("literal");
    expect(f.rdfType?.({ type: "bnode", value: "b" })).toBe("bnode");
    expect(f.xsdType?.(3)).toBe("xsd:integer");
    expect(f.xsdType?.("2024-01-01")).toBe("xsd:date");
    expect(f.xsdType?.("2024-01-01T00:00:00Z")).toBe("xsd:dateTime");
    expect(f.xsdType?.({ type: "literal", value: "x", "xml:lang": "en" })).toBe("rdf:langString");
    expect(f.xsdType?.("plain")).toBe("xsd:string");
  });
  it("checks prefix maps", () => {
    expect(() => mergePrefixes({ "bad prefix": "http://x/" })).toThrow(KgenFilterError);
    expect(() => mergePrefixes({ ok: "" })).toThrow(/prefix "ok"/);
    expect(mergePrefixes(BUILTIN_PREFIXES, { rdf: "http://changed/" }).rdf).toBe("http://changed/");
  });
  it("renders through nunjucks with the render's prefixes", () => {
    const options = { ...OPTIONS, prefixes: { ex: "http://example.org/ns#" } };
    expect(render("{{ t | compact }} {{ 'ex:a' | uri }} {{ 5 | literal }}", { t: person }, options)).toBe(
      'ex:Person <http://example.org/ns#a> "5"^^xsd:integer',
    );
  });
});

describe("date and now", () => {
  it("parses ISO 8601 as UTC, with offsets, and refuses anything else", () => {
    expect(parseInstant("2024-05-01")).toBe(Date.UTC(2024, 4, 1));
    expect(parseInstant("2024-05-01T10:00:00")).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseInstant("2024-05-01T10:00:00.5+02:00")).toBe(Date.UTC(2024, 4, 1, 8, 0, 0, 500));
    expect(() => parseInstant("May 1, 2024")).toThrow(/not an ISO 8601/);
    expect(() => parseInstant("2024-02-30")).toThrow(/not a valid calendar/);
    expect(() => parseInstant(null)).toThrow(KgenFilterError);
    expect(new Date(parseInstant("0099-12-31T23:59:59Z")).toISOString()).toBe("0099-12-31T23:59:59.000Z");
  });
  it("formats with the documented tokens", () => {
    const t = Date.UTC(2024, 0, 7, 3, 4, 5, 6);
    expect(formatInstant(t)).toBe("2024-01-07T03:04:05.006Z");
    expect(formatInstant(t, "YYYY-MM-DD HH:mm:ss.SSS[Z] Z")).toBe("2024-01-07 03:04:05.006Z Z");
    expect(formatInstant(t, "dddd ddd D MMMM MMM M YY H m s X")).toBe(
      `Sunday Sun 7 January Jan 1 24 3 4 5 ${Math.floor(t / 1000)}`,
    );
    expect(formatInstant(t, "[YYYY] x")).toBe(`YYYY ${t}`);
  });
  it("binds now, date and a null date input to the build time", () => {
    expect(render("{{ now() }}|{{ now('YYYY') }}|{{ date('MM/DD') }}|{{ none | date('HH:mm') }}")).toBe(
      "2024-05-01T12:34:56.789Z|2024|05/01|12:34",
    );
    expect(render("{{ '2020-02-29T23:00:00-01:00' | date('YYYY-MM-DD HH') }}")).toBe("2020-03-01 00");
    expect(buildTimeFromSourceDateEpoch("1700000000")).toBe("2023-11-14T22:13:20.000Z");
    expect(() => buildTimeFromSourceDateEpoch("abc")).toThrow(KgenFilterError);
    expect(() => createKgenEnvironmentSpec({ buildTime: "yesterday", seed: "s" })).toThrow(/buildTime/);
    expect(() => createKgenEnvironmentSpec({ buildTime: "2024-01-01", seed: "" })).toThrow(/seed/);
  });
});

describe("random", () => {
  it("is a fixed sequence per seed", () => {
    const a = new SeededRandom("x");
    const b = new SeededRandom("x");
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(new SeededRandom("y").next()).not.toBe(first[0]);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const bucket = a.nextInt(3);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
  it("derives seeds from the template hash and canonical parameters", () => {
    expect(deriveRenderSeed("t1", { a: 1, b: 2 })).toBe(deriveRenderSeed("t1", { b: 2, a: 1 }));
    expect(deriveRenderSeed("t1", { a: 1 })).not.toBe(deriveRenderSeed("t2", { a: 1 }));
    expect(deriveRenderSeed("t1", { a: 1 })).not.toBe(deriveRenderSeed("t1", { a: 2 }));
  });
  it("checks bounds", () => {
    const g = createKgenEnvironmentSpec(OPTIONS).globals;
    expect(() => g.random?.(1.5)).toThrow(/random: bounds/);
    expect(() => g.random?.(5, 1)).toThrow(KgenFilterError);
    expect(g.random?.(3, 3)).toBe(3);
    expect(() => filters().random?.(5)).toThrow(KgenFilterError);
    expect(filters().random?.([])).toBeUndefined();
  });
});

describe("determinism of a whole render", () => {
  const template = [
    "// {{ name | pascalCase }} generated {{ now('YYYY-MM-DD') }}",
    "{% for f in fields | sortBy('name') %}{{ f.name | camelCase }}: {{ f.type | compact }} = {{ random(1, 1000) }}",
    "{% endfor %}pick={{ ['a','b','c','d'] | random }} r={{ random() }} id={{ name | hash(16) }}",
    "{{ fields | json(2) }}",
  ].join("\n");
  const context = {
    name: "order line",
    fields: [
      { name: "unit_price", type: "http://www.w3.org/2001/XMLSchema#decimal" },
      { name: "line-id", type: "http://www.w3.org/2001/XMLSchema#string" },
    ],
  };

  it("gives the same bytes for the same inputs", () => {
    const seed = deriveRenderSeed(sha256HexSync(template), context);
    const first = render(template, context, { buildTime: "2024-05-01T00:00:00Z", seed });
    const second = render(template, structuredClone(context), { buildTime: "2024-05-01T00:00:00Z", seed });
    expect(second).toBe(first);
    expect(first).toContain("lineId: xsd:string = ");
    expect(first.startsWith("// OrderLine generated 2024-05-01\n")).toBe(true);
  });
  it("changes random output, and only that, when the seed changes", () => {
    const a = render(template, context, { buildTime: "2024-05-01T00:00:00Z", seed: "one" });
    const b = render(template, context, { buildTime: "2024-05-01T00:00:00Z", seed: "two" });
    expect(a).not.toBe(b);
    const withoutRandom = (text: string) => text.replace(/= \d+|pick=\w|r=[\d.e-]+/g, "");
    expect(withoutRandom(a)).toBe(withoutRandom(b));
  });
  it("never consults Math.random or the clock", () => {
    const originalRandom = Math.random;
    const originalNow = Date.now;
    Math.random = () => {
      throw new Error("Math.random called");
    };
    Date.now = () => {
      throw new Error("Date.now called");
    };
    try {
      expect(render(template, context)).toContain("OrderLine");
    } finally {
      Math.random = originalRandom;
      Date.now = originalNow;
    }
  });
});
