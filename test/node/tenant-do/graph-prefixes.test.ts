import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import {
  GraphPrefixes,
  graphPrefixesSchema,
  MAX_PREFIX_NAMESPACE_CHARS,
  MAX_PREFIXES_PER_VERSION,
  mergePrefixes,
} from "../../../durable-objects/tenant/graph-prefixes";
import { applySchemaMigrations } from "../../../shared/sql/migrations";

function prefixStore(): GraphPrefixes {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, [graphPrefixesSchema]);
  return new GraphPrefixes(db);
}

describe("mergePrefixes", () => {
  it("keeps the inherited prefixes, lets a later declaration win, and adds new ones", () => {
    expect(
      mergePrefixes({ ex: "http://example.org/", s: "https://schema.org/" }, [
        ["ex", "http://first/"],
        ["dc", "http://purl.org/dc/terms/"],
        ["ex", "http://second/"],
      ]),
    ).toEqual({ ex: "http://second/", s: "https://schema.org/", dc: "http://purl.org/dc/terms/" });
  });

  it("bounds how many prefixes a version keeps and how long a namespace may be", () => {
    const many = Array.from({ length: MAX_PREFIXES_PER_VERSION + 50 }, (_, i) => [`p${i}`, `http://e/${i}/`] as const);
    const merged = mergePrefixes({}, many);
    expect(Object.keys(merged)).toHaveLength(MAX_PREFIXES_PER_VERSION);
    expect(merged.p0).toBe("http://e/0/");
    // A full map still takes new namespaces for prefixes it already has.
    expect(mergePrefixes(merged, [["p0", "http://changed/"]]).p0).toBe("http://changed/");
    expect(mergePrefixes({}, [["long", `http://e/${"x".repeat(MAX_PREFIX_NAMESPACE_CHARS)}`]])).toEqual({});
  });
});

describe("GraphPrefixes", () => {
  it("stores each version's prefixes apart, replaces a version's on a new record, and forgets a deleted graph", () => {
    const prefixes = prefixStore();
    prefixes.record("shop", 1, { ex: "http://example.org/" });
    prefixes.record("shop", 2, { ex: "http://example.org/", s: "https://schema.org/" });
    prefixes.record("other", 1, { o: "http://other/" });
    expect(prefixes.of("shop", 1)).toEqual({ ex: "http://example.org/" });
    expect(prefixes.of("shop", 2)).toEqual({ ex: "http://example.org/", s: "https://schema.org/" });
    expect(prefixes.of("shop", 3)).toEqual({});

    prefixes.record("shop", 2, {});
    expect(prefixes.of("shop", 2)).toEqual({});
    prefixes.forget("shop");
    expect(prefixes.of("shop", 1)).toEqual({});
    expect(prefixes.of("other", 1)).toEqual({ o: "http://other/" });
  });
});
