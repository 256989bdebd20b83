import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/core/canonical-json";
import {
  assertEngineVersionSupported,
  assertParamsMatchLock,
  computeLock,
  deriveBuildTime,
  LockError,
  type LockInput,
  lockHash,
  paramsHash,
  parseLock,
  serializeLock,
} from "../../../shared/generate/lock";
import { ENGINE_VERSION, SUPPORTED_ENGINE_VERSIONS } from "../../../shared/version";
import { problemFromDomainError } from "../../../workers/problems/domain-problems";

const H = (text: string) => createHash("sha256").update(text).digest("hex");

const input: LockInput = {
  graph: { name: "shop", version: 3, hash: H("graph") },
  generator: {
    name: "typescript",
    templates: [
      { path: "types/entity.ts.njk", hash: H("entity") },
      { path: "./docs/readme.md.njk", hash: H("readme") },
    ],
  },
  params: { package: "shop", flags: { b: true, a: [1, 2] } },
  engineVersion: "kgen-edge/0.1.0",
  buildTime: "2026-11-20T10:00:00Z",
};

describe("computeLock", () => {
  it("builds the lock with sorted, normalized template paths and the params hash", async () => {
    const lock = await computeLock(input);
    expect(lock).toEqual({
      graph: { name: "shop", version: 3, hash: H("graph") },
      generator: {
        name: "typescript",
        templates: { "docs/readme.md.njk": H("readme"), "types/entity.ts.njk": H("entity") },
      },
      paramsHash: H('{"flags":{"a":[1,2],"b":true},"package":"shop"}'),
      engineVersion: "kgen-edge/0.1.0",
      buildTime: "2026-11-20T10:00:00Z",
    });
    expect(Object.keys(lock.generator.templates)).toEqual(["docs/readme.md.njk", "types/entity.ts.njk"]);
  });

  it("gives the same lock hash whatever the input order, and another for any change", async () => {
    const reordered: LockInput = {
      ...input,
      generator: {
        name: "typescript",
        templates: { "types/entity.ts.njk": H("entity"), "docs/readme.md.njk": H("readme") },
      },
      params: { flags: { a: [1, 2], b: true }, package: "shop" },
    };
    const base = await lockHash(await computeLock(input));
    expect(await lockHash(await computeLock(reordered))).toBe(base);
    expect(base).toBe(H(serializeLock(await computeLock(input))));
    const changes: LockInput[] = [
      { ...input, params: { package: "shop2", flags: { b: true, a: [1, 2] } } },
      { ...input, graph: { ...input.graph, version: 4 } },
      { ...input, engineVersion: "kgen-edge/0.1.1" },
      { ...input, buildTime: "2026-11-20T10:00:01Z" },
      { ...input, generator: { name: "typescript", templates: [{ path: "types/entity.ts.njk", hash: H("x") }] } },
    ];
    for (const changed of changes) expect(await lockHash(await computeLock(changed))).not.toBe(base);
  });

  it("hashes absent params as {}", async () => {
    expect(await paramsHash(undefined)).toBe(H("{}"));
    const lock = await computeLock({ ...input, params: undefined });
    expect(lock.paramsHash).toBe(H("{}"));
    await assertParamsMatchLock(lock, {});
    await expect(assertParamsMatchLock(lock, { a: 1 })).rejects.toBeInstanceOf(LockError);
  });

  it("rejects duplicate or unsafe template paths, bad hashes and bad build times", async () => {
    await expect(
      computeLock({
        ...input,
        generator: {
          name: "g",
          templates: [
            { path: "a.njk", hash: H("1") },
            { path: "./a.njk", hash: H("2") },
          ],
        },
      }),
    ).rejects.toThrow(/duplicate template path/);
    await expect(
      computeLock({ ...input, generator: { name: "g", templates: [{ path: "../a.njk", hash: H("1") }] } }),
    ).rejects.toThrow(/'\.\.' segment/);
    await expect(
      computeLock({ ...input, generator: { name: "g", templates: [{ path: "a.njk", hash: "ABC" }] } }),
    ).rejects.toBeInstanceOf(LockError);
    await expect(computeLock({ ...input, buildTime: "2026-11-20T10:00:00.000Z" })).rejects.toBeInstanceOf(LockError);
    await expect(computeLock({ ...input, buildTime: "2026-02-30T10:00:00Z" })).rejects.toBeInstanceOf(LockError);
    await expect(computeLock({ ...input, params: { n: Number.NaN } })).rejects.toThrow(/non-finite/);
  });
});

describe("parseLock", () => {
  it("round-trips a serialized lock and refuses unknown or missing fields", async () => {
    const lock = await computeLock(input);
    expect(parseLock(JSON.parse(serializeLock(lock)))).toEqual(lock);
    expect(() => parseLock({ ...lock, extra: 1 })).toThrow(LockError);
    const { paramsHash: _omitted, ...missing } = lock;
    expect(() => parseLock(missing)).toThrow(/paramsHash/);
    expect(() => parseLock({ ...lock, graph: { ...lock.graph, hash: "content://sha256/zz" } })).toThrow(/graph\.hash/);
    expect(parseLock({ ...lock, graph: { ...lock.graph, hash: `content://sha256/${H("g")}` } }).graph.hash).toBe(
      `content://sha256/${H("g")}`,
    );
  });

  it("serializes canonically", async () => {
    const lock = await computeLock(input);
    expect(serializeLock(lock)).toBe(canonicalJson(JSON.parse(JSON.stringify(lock))));
    expect(serializeLock(lock).startsWith('{"buildTime":"2026-11-20T10:00:00Z","engineVersion"')).toBe(true);
  });
});

describe("assertEngineVersionSupported", () => {
  it("accepts the engine's own version, which is among the supported ones", async () => {
    expect(SUPPORTED_ENGINE_VERSIONS).toContain(ENGINE_VERSION);
    const lock = await computeLock({ ...input, engineVersion: ENGINE_VERSION });
    expect(() => assertEngineVersionSupported(lock)).not.toThrow();
  });

  it.each(["evil", "kgen-edge/0.1.0", "0.1.1", "0.0.9", ` ${ENGINE_VERSION}`, `${ENGINE_VERSION}-beta`])(
    "refuses %j with a LockError that maps to 422 invalid-lock",
    async (engineVersion) => {
      const lock = await computeLock({ ...input, engineVersion });
      let caught: unknown;
      try {
        assertEngineVersionSupported(lock);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LockError);
      expect((caught as LockError).issues[0]).toContain(JSON.stringify(engineVersion));
      const problem = problemFromDomainError(caught);
      expect(problem?.status).toBe(422);
      expect(problem?.type).toBe("invalid-lock");
    },
  );
});

describe("deriveBuildTime", () => {
  it("prefers SOURCE_DATE_EPOCH, then the graph version's creation time, truncated to seconds", () => {
    expect(deriveBuildTime({ sourceDateEpoch: 1700000000, graphVersionCreatedAt: "2020-01-01T00:00:00Z" })).toBe(
      "2023-11-14T22:13:20Z",
    );
    expect(deriveBuildTime({ sourceDateEpoch: "0" })).toBe("1970-01-01T00:00:00Z");
    expect(deriveBuildTime({ graphVersionCreatedAt: "2026-11-20T12:34:56.789+02:00" })).toBe("2026-11-20T10:34:56Z");
    expect(deriveBuildTime({ graphVersionCreatedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 999) })).toBe("2026-01-02T03:04:05Z");
    expect(deriveBuildTime({ graphVersionCreatedAt: new Date("2026-01-02T03:04:05Z") })).toBe("2026-01-02T03:04:05Z");
    // SQLite / D1 CURRENT_TIMESTAMP is UTC without an offset.
    expect(deriveBuildTime({ graphVersionCreatedAt: "2026-01-02 03:04:05" })).toBe("2026-01-02T03:04:05Z");
    expect(deriveBuildTime({ graphVersionCreatedAt: "2026-01-02 03:04:05.900" })).toBe("2026-01-02T03:04:05Z");
  });

  it("never falls back to the clock", () => {
    expect(() => deriveBuildTime({})).toThrow(LockError);
    expect(() => deriveBuildTime({ sourceDateEpoch: "12.5" })).toThrow(LockError);
    expect(() => deriveBuildTime({ sourceDateEpoch: -1 })).toThrow(LockError);
    expect(() => deriveBuildTime({ graphVersionCreatedAt: "2026-11-20T12:34:56" })).toThrow(/UTC offset/);
    expect(() => deriveBuildTime({ graphVersionCreatedAt: "yesterday" })).toThrow(LockError);
    expect(() => deriveBuildTime({ sourceDateEpoch: 1e15 })).toThrow(/out of range/);
  });
});

describe("render options in the lock", () => {
  it("records throwOnUndefined only when it is on, so locks without options hash as before", async () => {
    const plain = await computeLock(input);
    expect(plain).not.toHaveProperty("options");
    expect(await computeLock({ ...input, options: { throwOnUndefined: false } })).toEqual(plain);
    const strict = await computeLock({ ...input, options: { throwOnUndefined: true } });
    expect(strict.options).toEqual({ throwOnUndefined: true });
    expect(canonicalJson(strict)).not.toBe(canonicalJson(plain));
  });

  it("refuses unknown options in a given lock", async () => {
    const plain = await computeLock(input);
    expect(() => parseLock({ ...plain, options: { strict: true } })).toThrow(LockError);
    expect(() => parseLock({ ...plain, options: { throwOnUndefined: "yes" } })).toThrow(LockError);
  });
});
