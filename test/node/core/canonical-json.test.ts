import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { NestingTooDeepError } from "../../../shared/core/budget-errors";
import {
  CanonicalJsonError,
  canonicalJson,
  canonicalJsonBytes,
  canonicalSha256,
} from "../../../shared/core/canonical-json";
import { MAX_JSON_DEPTH } from "../../../shared/core/json-nesting";
import { sha256Hex } from "../../../shared/core/sha256";
import { sortedJson as kgenCanonicalJson } from "../../../shared/template/kgen/sorted-json";

// Small seeded PRNG (mulberry32) so the differential corpus is the same on every run.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", "Z", "é", "€", "\u0000", "\n", '"', "\\", "\u2028", "😀", "\uFB33", "1", "_", " "];

function randomString(rand: () => number): string {
  const length = Math.floor(rand() * 6);
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return out;
}

function randomNumber(rand: () => number): number {
  const pick = Math.floor(rand() * 6);
  const buffer = new DataView(new ArrayBuffer(8));
  switch (pick) {
    case 0:
      return Math.floor(rand() * 2000) - 1000;
    case 1:
      return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    case 2:
      return -0;
    case 3:
      buffer.setUint32(0, Math.floor(rand() * 2 ** 32));
      buffer.setUint32(4, Math.floor(rand() * 2 ** 32));
      return Number.isFinite(buffer.getFloat64(0)) ? buffer.getFloat64(0) : 1;
    case 4:
      return 1e21 * rand();
    default:
      return rand() / 1e6;
  }
}

function randomValue(rand: () => number, depth: number): unknown {
  const kind = Math.floor(rand() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0:
      return randomString(rand);
    case 1:
      return randomNumber(rand);
    case 2:
      return rand() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      const size = Math.floor(rand() * 5);
      for (let i = 0; i < size; i++) object[randomString(rand)] = randomValue(rand, depth + 1);
      return object;
    }
  }
}

describe("canonicalJson", () => {
  it("sorts keys recursively and drops undefined properties", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("is independent of key insertion order", () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  it("formats numbers as RFC 8785 specifies", () => {
    // Values from RFC 8785 appendix B.
    const cases: Array<[number, string]> = [
      [0, "0"],
      [-0, "0"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [9007199254740992, "9007199254740992"],
      [1e21, "1e+21"],
      [999999999999999900000, "999999999999999900000"],
      [0.000001, "0.000001"],
      [1e-7, "1e-7"],
      [333333333.3333333, "333333333.3333333"],
    ];
    for (const [value, text] of cases) expect(canonicalJson(value)).toBe(text);
  });

  it("orders keys by UTF-16 code units as RFC 8785 does", () => {
    const object = { "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew", "1": "One", "😀": "Emoji" };
    expect(canonicalJson(object)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u20ac":"Euro Sign","😀":"Emoji","\ufb33":"Hebrew"}',
    );
  });

  it("agrees with the RFC 8785 reference implementation on a random corpus", () => {
    const rand = prng(20261126);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(rand, 0);
      expect(canonicalJson(value)).toBe(canonicalize(value));
    }
  });

  it("rejects values that have no single canonical form", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: Array<[unknown, string]> = [
      [Number.NaN, "$"],
      [{ a: [1, Number.POSITIVE_INFINITY] }, '$["a"][1]'],
      [[1, undefined], "$[1]"],
      [{ when: new Date(0) }, '$["when"]'],
      [new Map(), "$"],
      [10n, "$"],
      [() => 1, "$"],
      [{ s: "\uD800" }, '$["s"]'],
      [cyclic, '$["self"]'],
      [undefined, "$"],
    ];
    for (const [value, path] of bad) {
      let caught: unknown;
      try {
        canonicalJson(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CanonicalJsonError);
      expect((caught as CanonicalJsonError).path).toBe(path);
    }
  });

  it("accepts MAX_JSON_DEPTH levels and refuses deeper values (5,000 and 100,000) without overflowing the stack", () => {
    const nested = (depth: number, object: boolean) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = object ? { a: value } : [value];
      return value;
    };
    for (const object of [false, true]) {
      for (const serialize of [canonicalJson, (v: unknown) => kgenCanonicalJson(v)]) {
        expect(serialize(nested(MAX_JSON_DEPTH, object))).toHaveLength(MAX_JSON_DEPTH * (object ? 6 : 2) + 1);
        for (const depth of [MAX_JSON_DEPTH + 1, 5_000, 100_000])
          expect(() => serialize(nested(depth, object))).toThrow(NestingTooDeepError);
      }
    }
  });

  it("accepts shared (non-cyclic) references and null-prototype objects", () => {
    const shared = { k: 1 };
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2;
    bare.a = 1;
    expect(canonicalJson({ x: shared, y: shared, z: bare })).toBe('{"x":{"k":1},"y":{"k":1},"z":{"a":1,"b":2}}');
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 vector and node:crypto", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    expect(await sha256Hex(bytes)).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(await sha256Hex("é€😀")).toBe(createHash("sha256").update("é€😀", "utf8").digest("hex"));
  });

  it("hashes the canonical form", async () => {
    expect(await canonicalSha256({ b: 1, a: 2 })).toBe(await sha256Hex('{"a":2,"b":1}'));
    expect(new TextDecoder().decode(canonicalJsonBytes({ b: "é" }))).toBe('{"b":"é"}');
  });
});
