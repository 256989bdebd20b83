import { describe, expect, it } from "vitest";
import { NestingTooDeepError } from "../../../shared/core/budget-errors";
import { assertJsonDepth, jsonHeight, MAX_JSON_DEPTH } from "../../../shared/core/json-nesting";

function nestedArrays(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}
function nestedObjects(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = { a: value, b: i };
  return value;
}

/** Reference depth, recursive: fine for the shallow random shapes below. */
function recursiveHeight(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(recursiveHeight));
}

function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}
function randomShape(rnd: () => number, depth: number): unknown {
  if (depth === 0 || rnd() < 0.2) return rnd() < 0.5 ? 1 : "x";
  const n = Math.floor(rnd() * 4);
  const items = Array.from({ length: n }, () => randomShape(rnd, depth - 1));
  return rnd() < 0.5 ? items : Object.fromEntries(items.map((item, i) => [`k${i}`, item]));
}

describe("jsonHeight and assertJsonDepth", () => {
  it("counts containers: scalars 0, [] 1, nested arrays and objects their depth", () => {
    expect(jsonHeight(1)).toBe(0);
    expect(jsonHeight(null)).toBe(0);
    expect(jsonHeight([])).toBe(1);
    expect(jsonHeight({ a: [1, { b: [] }] })).toBe(4);
    expect(jsonHeight(nestedArrays(50))).toBe(50);
    expect(jsonHeight(nestedObjects(50))).toBe(50);
  });

  it("accepts the limit and refuses one level more, for arrays and objects", () => {
    for (const build of [nestedArrays, nestedObjects]) {
      expect(() => assertJsonDepth(build(MAX_JSON_DEPTH - 1), "json")).not.toThrow();
      expect(() => assertJsonDepth(build(MAX_JSON_DEPTH), "json")).not.toThrow();
      expect(() => assertJsonDepth(build(MAX_JSON_DEPTH + 1), "json")).toThrow(NestingTooDeepError);
    }
  });

  it("measures 100,000 levels without recursion", () => {
    for (const build of [nestedArrays, nestedObjects]) {
      const started = performance.now();
      let error: unknown;
      try {
        assertJsonDepth(build(100_000), "render context");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NestingTooDeepError);
      expect((error as NestingTooDeepError).limit).toBe(MAX_JSON_DEPTH);
      expect((error as NestingTooDeepError).subject).toBe("render context");
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it("agrees with a recursive measure on 500 random shapes", () => {
    const rnd = prng(20261206);
    for (let i = 0; i < 500; i++) {
      const shape = randomShape(rnd, 1 + Math.floor(rnd() * 8));
      const expected = recursiveHeight(shape);
      expect(jsonHeight(shape)).toBe(expected);
      expect(jsonHeight(shape, 3)).toBe(Math.min(expected, 4));
    }
  });

  it("measures shared values once, at their deepest use, and reports cycles as infinite", () => {
    const shared = nestedArrays(10) as unknown[];
    expect(jsonHeight([shared, [[shared]]])).toBe(13);
    let dag: unknown = [1];
    for (let i = 0; i < 200; i++) dag = [dag, dag];
    expect(jsonHeight(dag, 1_000)).toBe(201);
    const cyclic: unknown[] = [];
    cyclic.push([cyclic]);
    expect(jsonHeight(cyclic)).toBe(Number.POSITIVE_INFINITY);
    expect(() => assertJsonDepth(cyclic, "yaml")).toThrow(NestingTooDeepError);
  });
});
