import { KgenFilterError } from "./errors";
import { sortedJson } from "./sorted-json";

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Reads a dotted path (`owner.name`, `predicate.value`): own or inherited properties (RDF/JS
 * terms expose `value` through a getter), never `__proto__`, `constructor` or `prototype`;
 * anything missing gives undefined.
 */
export function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split(".")) {
    if (current === null || current === undefined || FORBIDDEN_KEYS.has(segment)) return undefined;
    if (current instanceof Map) {
      current = current.get(segment);
      continue;
    }
    if (typeof current !== "object" && typeof current !== "string") return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function typeRank(value: unknown): number {
  if (value === undefined || value === null) return 5;
  if (typeof value === "number" || typeof value === "bigint") return Number.isNaN(value) ? 4 : 0;
  if (typeof value === "string") return 1;
  if (typeof value === "boolean") return 2;
  return 3;
}

/**
 * A total, locale-independent order: numbers (numerically), then strings (by UTF-16 code
 * units), then booleans (false first), then other values (by their canonical JSON), then NaN,
 * then null and undefined.
 */
export function compareValues(a: unknown, b: unknown): number {
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  if (rankA === 0) {
    const x = a as number | bigint;
    const y = b as number | bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (rankA === 1 || rankA === 2) {
    const x = a as string | boolean;
    const y = b as string | boolean;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (rankA === 3) {
    const x = sortedJson(a, undefined, "sortBy");
    const y = sortedJson(b, undefined, "sortBy");
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return 0;
}

function toArray(value: unknown, filterName: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  if (value instanceof Set || value instanceof Map) return Array.from(value.values());
  if (typeof value === "string") return Array.from(value);
  throw new KgenFilterError(filterName, `expected an array, got ${typeof value}`);
}

function keyPath(key: unknown, filterName: string): string | undefined {
  if (key === undefined || key === null || key === "") return undefined;
  if (typeof key !== "string") throw new KgenFilterError(filterName, "the key must be a property path string");
  return key;
}

/** A stably sorted copy, by the item itself or by a dotted property path; `reverse` flips the order. */
export function sortBy(items: unknown, key?: unknown, reverse?: unknown): unknown[] {
  const path = keyPath(key, "sortBy");
  const decorated = toArray(items, "sortBy").map((item, index) => ({
    item,
    index,
    sortKey: path === undefined ? item : readPath(item, path),
  }));
  const direction = reverse ? -1 : 1;
  decorated.sort((a, b) => compareValues(a.sortKey, b.sortKey) * direction || a.index - b.index);
  return decorated.map((entry) => entry.item);
}

/**
 * The items in their first-seen order without repeats. Items (or the values at `key`) are the
 * same when they are equal primitives or have the same canonical JSON.
 */
export function unique(items: unknown, key?: unknown): unknown[] {
  const path = keyPath(key, "unique");
  const seen = new Set<string>();
  const result: unknown[] = [];
  for (const item of toArray(items, "unique")) {
    const identity = path === undefined ? item : readPath(item, path);
    const fingerprint =
      identity !== null && typeof identity === "object"
        ? `o${sortedJson(identity, undefined, "unique")}`
        : `${typeof identity}:${String(identity)}`;
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    result.push(item);
  }
  return result;
}
