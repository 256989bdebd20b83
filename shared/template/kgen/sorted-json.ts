import { NestingTooDeepError } from "../../core/budget-errors";
import { MAX_JSON_DEPTH } from "../../core/json-nesting";
import { KgenFilterError } from "./errors";

/**
 * JSON with object keys sorted recursively by UTF-16 code units (the RFC 8785 key order), so
 * the same data always serialises to the same bytes whatever order its keys were inserted in.
 * Maps become objects (keys stringified), Sets become arrays, Dates their ISO string, objects
 * with a `toJSON` method (RDF/JS terms of n3, for one) what it returns;
 * `undefined`, functions and symbols are dropped from objects and become `null` in arrays and
 * at the top level; non-finite numbers become `null`; bigints are written as integers.
 * `indent` is a number of spaces (0–10) or a string (at most 10 characters), as in JSON.stringify.
 * Values nesting deeper than MAX_JSON_DEPTH throw NestingTooDeepError.
 */
export function sortedJson(value: unknown, indent?: number | string, filterName = "json"): string {
  const unit = indentUnit(indent, filterName);
  return serialize(value, unit, "", new Set(), filterName, 0) ?? "null";
}

function indentUnit(indent: number | string | undefined, filterName: string): string {
  if (indent === undefined || indent === null) return "";
  if (typeof indent === "number") {
    if (!Number.isInteger(indent) || indent < 0) {
      throw new KgenFilterError(filterName, `indent must be a non-negative integer, got ${String(indent)}`);
    }
    return " ".repeat(Math.min(indent, 10));
  }
  if (typeof indent === "string") return indent.slice(0, 10);
  throw new KgenFilterError(filterName, `indent must be a number or a string, got ${typeof indent}`);
}

function serialize(
  value: unknown,
  unit: string,
  currentIndent: string,
  ancestors: Set<object>,
  filterName: string,
  depth: number,
): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const object = value as object;
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? "null" : JSON.stringify(object.toISOString());
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === "function" && !ancestors.has(object)) {
    ancestors.add(object);
    try {
      return serialize((object as { toJSON(): unknown }).toJSON(), unit, currentIndent, ancestors, filterName, depth);
    } finally {
      ancestors.delete(object);
    }
  }
  if (ancestors.has(object)) throw new KgenFilterError(filterName, "cannot serialise a circular structure");
  if (depth >= MAX_JSON_DEPTH) throw new NestingTooDeepError(`${filterName} filter`, MAX_JSON_DEPTH);
  ancestors.add(object);
  try {
    const innerIndent = currentIndent + unit;
    const open = unit ? `\n${innerIndent}` : "";
    const close = unit ? `\n${currentIndent}` : "";
    const separator = unit ? `,\n${innerIndent}` : ",";
    if (Array.isArray(object) || object instanceof Set) {
      const items = Array.from(object as Iterable<unknown>, (item) => {
        return serialize(item, unit, innerIndent, ancestors, filterName, depth + 1) ?? "null";
      });
      return items.length === 0 ? "[]" : `[${open}${items.join(separator)}${close}]`;
    }
    const entries: Array<[string, unknown]> =
      object instanceof Map
        ? Array.from(object.entries(), ([key, entryValue]) => [String(key), entryValue] as [string, unknown])
        : Object.keys(object).map((key) => [key, (object as Record<string, unknown>)[key]]);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const members: string[] = [];
    for (const [key, memberValue] of entries) {
      const serialized = serialize(memberValue, unit, innerIndent, ancestors, filterName, depth + 1);
      if (serialized !== undefined) members.push(`${JSON.stringify(key)}:${unit ? " " : ""}${serialized}`);
    }
    return members.length === 0 ? "{}" : `{${open}${members.join(separator)}${close}}`;
  } finally {
    ancestors.delete(object);
  }
}
