import { NestingTooDeepError } from "./budget-errors";
import { MAX_JSON_DEPTH } from "./json-nesting";
import { sha256Hex } from "./sha256";

/**
 * Deterministic JSON: the RFC 8785 (JCS) serialization. Object keys are sorted by UTF-16 code
 * units at every depth, numbers use the ECMAScript shortest round-trip form (`-0` → `0`,
 * `1e21`, `1.5e-7`), strings are escaped as `JSON.stringify` does, and there is no whitespace.
 *
 * Stricter than JSON.stringify so that two different inputs can never collide silently:
 * object properties whose value is `undefined` are omitted (as JSON.stringify does), but
 * `undefined` inside an array, non-finite numbers, bigints, functions, symbols, lone UTF-16
 * surrogates, cycles and anything that is not a plain object or array (Date, Map, class
 * instances, typed arrays…) throw a CanonicalJsonError naming the JSON path. Values nesting deeper
 * than MAX_JSON_DEPTH throw NestingTooDeepError.
 */
export class CanonicalJsonError extends Error {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`cannot canonicalize ${path}: ${reason}`);
    this.name = "CanonicalJsonError";
    this.path = path;
    this.reason = reason;
  }
}

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeValue(value, "$", parts, new Set(), 0);
  return parts.join("");
}

/** UTF-8 bytes of canonicalJson(value). */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** sha256Hex of the canonical JSON of a value. */
export async function canonicalSha256(value: unknown): Promise<string> {
  return sha256Hex(canonicalJson(value));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function writeString(value: string, path: string, parts: string[]): void {
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(path, "string holds a lone UTF-16 surrogate");
  parts.push(JSON.stringify(value));
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function writeValue(value: unknown, path: string, parts: string[], ancestors: Set<object>, depth: number): void {
  switch (typeof value) {
    case "string":
      writeString(value, path, parts);
      return;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `non-finite number ${value}`);
      // ECMAScript Number::toString is the JCS number form; it already prints -0 as "0".
      parts.push(String(value));
      return;
    case "boolean":
      parts.push(value ? "true" : "false");
      return;
    case "object":
      break;
    default:
      throw new CanonicalJsonError(path, `unsupported ${typeof value}`);
  }
  if (value === null) {
    parts.push("null");
    return;
  }
  if (ancestors.has(value)) throw new CanonicalJsonError(path, "cycle");
  if (depth >= MAX_JSON_DEPTH) throw new NestingTooDeepError("canonical JSON", MAX_JSON_DEPTH);
  ancestors.add(value);
  if (Array.isArray(value)) {
    parts.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(",");
      const item: unknown = value[i];
      if (item === undefined) throw new CanonicalJsonError(`${path}[${i}]`, "undefined array element");
      writeValue(item, `${path}[${i}]`, parts, ancestors, depth + 1);
    }
    parts.push("]");
  } else {
    if (!isPlainObject(value)) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new CanonicalJsonError(path, `not a plain object (${kind})`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalJsonError(path, "symbol keys");
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is exactly the JCS key order.
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    parts.push("{");
    keys.forEach((key, index) => {
      if (index > 0) parts.push(",");
      const childPath = `${path}[${JSON.stringify(key)}]`;
      writeString(key, childPath, parts);
      parts.push(":");
      writeValue(record[key], childPath, parts, ancestors, depth + 1);
    });
    parts.push("}");
  }
  ancestors.delete(value);
}
