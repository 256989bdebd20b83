// biome-ignore-all lint/suspicious/noExplicitAny: template values are untyped JavaScript.
// biome-ignore-all lint/complexity/noBannedTypes: native methods are plain Functions.
// Sizes of what a template builds, checked against the render's budget before building whenever the
// arguments tell the size (a `repeat(n)` never allocates n copies first), measured after otherwise.

import { MAX_JSON_DEPTH } from "../core/json-nesting";
import type { RenderBudget } from "./budget";

/** Characters String(value) gives at most; stops counting once over `cap`. Arrays nest at most MAX_JSON_DEPTH deep. */
export function textLengthBound(budget: RenderBudget, value: unknown, cap: number, depth = 0): number {
  if (typeof value === "string") return value.length;
  if (value === undefined || value === null) return 0;
  if (!Array.isArray(value)) return typeof value === "object" || typeof value === "function" ? 32 : 24;
  if (depth >= MAX_JSON_DEPTH) budget.failNesting("array", MAX_JSON_DEPTH);
  let total = value.length > 0 ? value.length - 1 : 0;
  for (let i = 0; i < value.length && total <= cap; i++) total += textLengthBound(budget, value[i], cap, depth + 1);
  return total;
}

/** Characters `items.join(separator)` gives at most (elements as String() prints them; nullish as ""). */
export function joinedLengthBound(budget: RenderBudget, items: readonly unknown[], separator: unknown): number {
  const cap = budget.limits.maxOutputBytes;
  const sepLength = separator === undefined ? 1 : textLengthBound(budget, separator, cap);
  let total = items.length > 0 ? (items.length - 1) * sepLength : 0;
  let scalars = 0;
  for (let i = 0; i < items.length && total <= cap; i++) {
    const item = items[i];
    if (typeof item === "string") total += item.length;
    else if (Array.isArray(item)) total += textLengthBound(budget, item, cap, 1);
    else if (item !== undefined && item !== null) {
      total += 24;
      scalars++;
    }
  }
  if (total <= cap || scalars === 0) return total;
  // numbers and objects were counted at their longest: count their real text before refusing
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== "string" && !Array.isArray(item) && item !== undefined && item !== null)
      total += String(item).length - 24;
  }
  return total;
}

/** Counts a value a method or filter just built. */
export function measureResult(budget: RenderBudget, value: unknown, subject: string): void {
  if (typeof value === "string") budget.string(value.length, subject);
  else if (Array.isArray(value)) budget.array(value.length, subject);
}

function integerArgument(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isNaN(n) ? 0 : n;
}

function occurrences(text: string, part: string, limit: number): number {
  if (part === "") return text.length + 1;
  let count = 0;
  for (let at = text.indexOf(part); at !== -1 && count < limit; at = text.indexOf(part, at + part.length)) count++;
  return count;
}

/**
 * Characters `text.replace(pattern, replacement)` (or replaceAll, or nunjucks' replace filter) gives at
 * most. `$` patterns in the replacement may each insert up to the whole text.
 */
function replacedLengthBound(
  text: string,
  pattern: unknown,
  replacement: string,
  all: boolean,
  maxCount: number,
  cap: number,
): number {
  const dollars = replacement.split("$").length - 1;
  const perMatch = replacement.length + dollars * text.length;
  const isPattern = pattern !== null && typeof pattern === "object";
  const global = !isPattern ? all : all || (pattern as { global?: boolean }).global === true;
  // a string pattern's own characters are removed by each match; a regular expression's may match nothing
  const patternLength = isPattern ? 0 : String(pattern).length;
  const size = (count: number) => text.length + count * Math.max(perMatch - patternLength, 0);
  let matches = !global ? 1 : patternLength === 0 ? text.length + 1 : Math.floor(text.length / patternLength);
  if (maxCount >= 0) matches = Math.min(matches, maxCount);
  if (size(matches) <= cap) return size(matches);
  // large enough to matter: count the matches instead of assuming every position matches
  if (!isPattern) matches = occurrences(text, String(pattern), global ? Number.POSITIVE_INFINITY : 1);
  else {
    matches = 0;
    text.replace(pattern as RegExp, () => {
      matches++;
      return "";
    });
  }
  if (maxCount >= 0) matches = Math.min(matches, maxCount);
  return size(matches);
}

/**
 * Characters a case mapping (up to 3 per character: "ΐ".toUpperCase()) or a Unicode normalization (up
 * to 18: NFKD of "ﷺ") gives at most; only characters outside ASCII grow.
 */
function expandedLengthBound(text: string, factor: number): number {
  let nonAscii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) nonAscii++;
  return text.length + (factor - 1) * nonAscii;
}

/** Matches of a global regular expression in a text too long to rule out more than maxArrayLength (else 0 or 1). */
function matchCount(budget: RenderBudget, text: string, pattern: unknown): number {
  if (pattern === null || typeof pattern !== "object" || (pattern as { global?: boolean }).global !== true) return 1;
  if (text.length + 1 <= budget.limits.maxArrayLength) return 0;
  let matches = 0;
  text.replace(pattern as RegExp, () => {
    matches++;
    return "";
  });
  return matches;
}

/** Before a string method runs: checks what its arguments make it build. True when the result is already counted. */
function checkStringMethod(budget: RenderBudget, text: string, name: unknown, args: any[]): boolean {
  const cap = budget.limits.maxOutputBytes;
  switch (name) {
    case "repeat": {
      const count = integerArgument(args[0]);
      if (count > 0 && Number.isFinite(count)) budget.string(text.length * count, "repeat()");
      return true;
    }
    case "padStart":
    case "padEnd":
      budget.string(Math.max(text.length, integerArgument(args[0])), `${name}()`);
      return true;
    case "concat": {
      let total = text.length;
      for (const arg of args) total += textLengthBound(budget, arg, cap);
      budget.string(total, "concat()");
      return true;
    }
    case "toUpperCase":
    case "toLowerCase":
    case "toLocaleUpperCase":
    case "toLocaleLowerCase":
      if (text.length * 3 > cap) budget.stringCap(expandedLengthBound(text, 3), `${name}()`);
      return false;
    case "normalize":
      if (text.length * 18 > cap) budget.stringCap(expandedLengthBound(text, 18), "normalize()");
      return false;
    case "match":
      if (matchCount(budget, text, args[0]) > budget.limits.maxArrayLength)
        budget.failMemory("match()", budget.limits.maxArrayLength, "array elements");
      return false;
    case "split":
      // the native limit stops the split one element past the cap, so nothing larger is ever built
      if (args[1] === undefined || integerArgument(args[1]) > budget.limits.maxArrayLength)
        args[1] = budget.limits.maxArrayLength + 1;
      return false;
    case "replace":
    case "replaceAll": {
      const replacement = args[1];
      if (typeof replacement === "function") {
        let added = 0;
        args[1] = function (this: unknown, ...match: unknown[]) {
          const piece = replacement.apply(this, match);
          added += textLengthBound(budget, piece, cap);
          if (text.length + added > cap) budget.string(text.length + added, `${name}()`);
          return piece;
        };
        return false;
      }
      const replacementText = typeof replacement === "string" ? replacement : String(replacement);
      args[1] = replacementText;
      const bound = replacedLengthBound(text, args[0], replacementText, name === "replaceAll", -1, cap);
      if (bound > cap) budget.string(bound, `${name}()`);
      return false;
    }
    default:
      return false;
  }
}

/** Before an array method runs: checks what its arguments make it build. True when the result is already counted. */
function checkArrayMethod(budget: RenderBudget, items: unknown[], name: unknown, args: unknown[]): boolean {
  switch (name) {
    case "concat": {
      let total = items.length;
      for (const arg of args) total += Array.isArray(arg) ? arg.length : 1;
      budget.array(total, "concat()");
      return true;
    }
    case "push":
    case "unshift":
      budget.arrayGrowth(items.length + args.length, args.length, `${name}()`);
      return true;
    case "splice":
      if (args.length > 2) budget.arrayGrowth(items.length + args.length - 2, args.length - 2, "splice()");
      return false;
    case "join":
      budget.string(joinedLengthBound(budget, items, args[0]), "join()");
      return true;
    case "toString":
    case "toLocaleString":
      budget.string(joinedLengthBound(budget, items, ","), `${name}()`);
      return true;
    case "flat": {
      const depth = args[0] === undefined ? 1 : integerArgument(args[0]);
      budget.array(flatLengthBound(budget, items, depth, 0), "flat()");
      return true;
    }
    default:
      return false;
  }
}

function flatLengthBound(budget: RenderBudget, items: readonly unknown[], depth: number, level: number): number {
  if (level >= MAX_JSON_DEPTH) budget.failNesting("array", MAX_JSON_DEPTH);
  let total = 0;
  for (let i = 0; i < items.length && total <= budget.limits.maxArrayLength; i++) {
    const item = items[i];
    total += depth > 0 && Array.isArray(item) ? flatLengthBound(budget, item, depth - 1, level + 1) : 1;
  }
  return total;
}

/**
 * Calls a method of a string or an array for a template (bound with Function.prototype.bind, so the
 * function a template sees prints as native code): sizes are checked before, results counted after.
 */
export function callMeasured(
  budget: RenderBudget,
  target: string | unknown[],
  method: Function,
  name: unknown,
  ...args: any[]
): unknown {
  const counted =
    typeof target === "string"
      ? checkStringMethod(budget, target, name, args)
      : checkArrayMethod(budget, target, name, args);
  const result = method.apply(target, args);
  if (name === "split" && Array.isArray(result) && result.length > budget.limits.maxArrayLength)
    budget.failMemory("split()", budget.limits.maxArrayLength, "array elements");
  if (!counted && result !== target) measureResult(budget, result, `${String(name)}()`);
  return result;
}

type FilterCheck = (budget: RenderBudget, args: any[]) => boolean;

/**
 * Refuses a filter that prints `value` when what it builds could pass the string cap: each character
 * other than ASCII letters and digits may become `perSpecial` characters, plus `perPiece` for each run.
 */
function checkTextFilter(
  budget: RenderBudget,
  value: unknown,
  subject: string,
  perSpecial: number,
  perPlain = 1,
  perPiece = 0,
): void {
  const cap = budget.limits.maxOutputBytes;
  const length = textLengthBound(budget, value, cap);
  if (length * Math.max(perSpecial, perPlain) + (length + 1) * perPiece <= cap) return;
  if (typeof value !== "string") {
    budget.stringCap(length * Math.max(perSpecial, perPlain) + (length + 1) * perPiece, subject);
    return;
  }
  let special = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || (c > 0x39 && c < 0x41) || (c > 0x5a && c < 0x61) || c > 0x7a) special++;
  }
  budget.stringCap((length - special) * perPlain + special * perSpecial + (special + 1) * perPiece, subject);
}

/** `dump`/`json`: the JSON text of the value, indented as JSON.stringify indents (at most 10 spaces). */
function checkJsonFilter(budget: RenderBudget, [value, spaces]: any[], subject: string): boolean {
  const indentWidth = typeof spaces === "string" ? spaces.length : integerArgument(spaces);
  const cap = budget.limits.maxOutputBytes;
  budget.stringCap(jsonLengthBound(budget, value, Math.min(Math.max(indentWidth, 0), 10), cap, 0), subject);
  return false;
}

/** Filters whose output size follows from their arguments; keyed by name, looked up once when a template compiles. */
const FILTER_CHECKS: Record<string, FilterCheck> = {
  join(budget, args) {
    const items = args[0];
    const attribute = args[2];
    if (!Array.isArray(items)) return false;
    const values = attribute === undefined ? items : items.map((item: any) => item?.[attribute]);
    budget.string(joinedLengthBound(budget, values, args[1] ?? ""), "join filter");
    return true;
  },
  list(budget, args) {
    const value = args[0];
    if (typeof value === "string") budget.array(value.length, "list filter");
    return typeof value === "string";
  },
  batch(budget, args) {
    if (args[2] !== undefined) budget.array(integerArgument(args[1]), "batch filter");
    return false;
  },
  slice(budget, args) {
    budget.array(integerArgument(args[1]), "slice filter");
    return false;
  },
  indent(budget, args) {
    const value = args[0];
    const width = args[1];
    const cap = budget.limits.maxOutputBytes;
    const text = typeof value === "string" ? value : undefined;
    const length = text === undefined ? textLengthBound(budget, value, cap) : text.length;
    const unit = typeof width === "string" ? width.length : width === undefined ? 4 : integerArgument(width);
    // a width past the cap on its own is the output budget's to refuse (the engine guards center and indent)
    if (unit > cap) return false;
    const lines = text === undefined ? length + 1 : occurrences(text, "\n", Number.POSITIVE_INFINITY) + 1;
    budget.stringCap(length + lines * Math.max(unit, 0), "indent filter");
    return false;
  },
  replace(budget, args) {
    const value = args[0];
    const replacement = args[2];
    const maxCount = args[3];
    if (typeof value !== "string") return false;
    const cap = budget.limits.maxOutputBytes;
    const text = replacement === undefined || replacement === null ? "" : String(replacement);
    const pattern = args[1];
    // nunjucks replaces every occurrence of a string (ignoring maxCount for ""), a regular expression as its flags say
    const isString = pattern === null || typeof pattern !== "object";
    const limit = maxCount === undefined || pattern === "" ? -1 : integerArgument(maxCount);
    budget.stringCap(replacedLengthBound(value, pattern, text, isString, limit, cap), "replace filter");
    return false;
  },
  dump: (budget, args) => checkJsonFilter(budget, args, "dump filter"),
  json: (budget, args) => checkJsonFilter(budget, args, "json filter"),
  urlencode(budget, args) {
    const value = args[0];
    checkTextFilter(budget, value, "urlencode filter", 9);
    return false;
  },
  escape(budget, args) {
    const value = args[0];
    checkTextFilter(budget, value, "escape filter", 6);
    return false;
  },
  forceescape(budget, args) {
    const value = args[0];
    checkTextFilter(budget, value, "forceescape filter", 6);
    return false;
  },
  urlize(budget, args) {
    const value = args[0];
    // a link repeats its text inside `<a href="…" rel="nofollow">…</a>`
    checkTextFilter(budget, value, "urlize filter", 2, 2, 64);
    return false;
  },
};
FILTER_CHECKS.e = FILTER_CHECKS.escape as FilterCheck;

/** Filters that print their input: an array given to them is joined first. */
const PRINTING_FILTERS = new Set([
  "abs",
  "int",
  "float",
  "round",
  "upper",
  "lower",
  "capitalize",
  "title",
  "trim",
  "string",
  "safe",
  "striptags",
  "truncate",
  "wordcount",
  "nl2br",
]);

/** The size check of a filter, or undefined when its result is only measured. */
export function filterCheck(name: string): FilterCheck | undefined {
  return Object.hasOwn(FILTER_CHECKS, name) ? FILTER_CHECKS[name] : undefined;
}

/** Whether a filter prints its input (see checkTextInput). */
export function filterPrintsInput(name: string): boolean {
  return PRINTING_FILTERS.has(name);
}

/**
 * Before a filter that prints its input runs on an array (joined first) or a string long enough that
 * case mapping could take it past the string cap.
 */
export function checkTextInput(budget: RenderBudget, value: unknown, subject: string): void {
  if (Array.isArray(value)) checkCoercion(budget, value);
  else if (typeof value === "string") budget.stringCap(expandedLengthBound(value, 3), subject);
}

/**
 * Characters JSON.stringify(value, null, indent) gives at most (strings counted with their quotes,
 * not their escapes); stops once over `cap`. Deeper than MAX_JSON_DEPTH is refused: the native
 * serializer would run out of stack.
 */
function jsonLengthBound(budget: RenderBudget, value: unknown, indent: number, cap: number, depth: number): number {
  if (typeof value === "string") return value.length + 2;
  if (value === null || typeof value !== "object") return 24;
  if (depth >= MAX_JSON_DEPTH) budget.failNesting("dump", MAX_JSON_DEPTH);
  const lineStart = indent > 0 ? 1 + indent * (depth + 1) : 0;
  let total = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && total <= cap; i++)
      total += 1 + lineStart + jsonLengthBound(budget, value[i], indent, cap, depth + 1);
    return total;
  }
  for (const key in value) {
    if (total > cap) break;
    if (!Object.hasOwn(value, key)) continue;
    total += key.length + 4 + lineStart + jsonLengthBound(budget, (value as any)[key], indent, cap, depth + 1);
  }
  return total;
}

/**
 * Before an operator or a print turns an array into text (ToPrimitive joins it): refuses one whose
 * text would pass the string cap. Called only for operands that are objects.
 */
export function checkCoercion(budget: RenderBudget, x: unknown, y?: unknown): void {
  if (Array.isArray(x)) budget.stringCap(joinedLengthBound(budget, x, ","), "array as text");
  if (Array.isArray(y)) budget.stringCap(joinedLengthBound(budget, y, ","), "array as text");
}
