import type * as RDF from "@rdfjs/types";
import { ExpressionError } from "./errors";
import { isSimpleString, isStringLiteral } from "./vocab";

/** A simple literal, xsd:string or language-tagged string argument; throws otherwise. */
export function requireStringLiteral(term: RDF.Term): RDF.Literal {
  if (!isStringLiteral(term)) throw new ExpressionError("expected a string literal");
  return term;
}

/** A simple literal or xsd:string argument (no language tag); throws otherwise. */
export function requireSimpleString(term: RDF.Term): RDF.Literal {
  if (!isSimpleString(term)) throw new ExpressionError("expected a simple literal or xsd:string");
  return term;
}

/** SPARQL argument compatibility (17.4.3.1.1): returns the language of the result or "" for a simple literal. */
export function requireCompatible(first: RDF.Term, second: RDF.Term): [RDF.Literal, RDF.Literal] {
  const a = requireStringLiteral(first);
  const b = requireStringLiteral(second);
  if (b.language && a.language.toLowerCase() !== b.language.toLowerCase()) {
    throw new ExpressionError("incompatible string arguments");
  }
  return [a, b];
}

export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** fn:substring over code points with XPath rounding (half towards positive infinity). */
export function substring(text: string, start: number, length?: number): string {
  const round = (x: number) => Math.floor(x + 0.5);
  const first = round(start);
  const end = length === undefined ? Number.POSITIVE_INFINITY : first + round(length);
  if (Number.isNaN(first) || Number.isNaN(end)) return "";
  let result = "";
  let position = 1;
  for (const char of text) {
    if (position >= first && position < end) result += char;
    position++;
  }
  return result;
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

export function encodeForUri(text: string): string {
  let result = "";
  for (const char of text) {
    if (UNRESERVED.test(char)) {
      result += char;
      continue;
    }
    for (const byte of new TextEncoder().encode(char)) result += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return result;
}

const NAME_START =
  ":A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD";
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;

/** Rewrites an XPath regular expression into JavaScript syntax (for the `u` flag). */
function translatePattern(pattern: string, extended: boolean): string {
  let result = "";
  let inClass = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new ExpressionError("invalid regular expression: trailing backslash");
      i++;
      switch (next) {
        case "i":
          result += inClass ? NAME_START : `[${NAME_START}]`;
          break;
        case "I":
          result += inClass ? "" : `[^${NAME_START}]`;
          if (inClass) throw new ExpressionError("\\I inside a character class is not supported");
          break;
        case "c":
          result += inClass ? NAME_CHAR : `[${NAME_CHAR}]`;
          break;
        case "C":
          if (inClass) throw new ExpressionError("\\C inside a character class is not supported");
          result += `[^${NAME_CHAR}]`;
          break;
        case "-":
          result += inClass ? "\\-" : "-";
          break;
        default:
          result += `\\${next}`;
      }
      continue;
    }
    if (char === "[") {
      inClass++;
      result += char;
      if (pattern[i + 1] === "^") {
        result += "^";
        i++;
      }
      // A "]" right after "[" or "[^" is not a class terminator in XPath, it is an error; keep JS meaning.
      continue;
    }
    if (char === "]" && inClass) {
      inClass--;
      result += char;
      continue;
    }
    if (extended && !inClass && (char === " " || char === "\t" || char === "\n" || char === "\r")) continue;
    result += char;
  }
  return result;
}

const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_LIMIT = 256;

/** Compiles an XPath regular expression with SPARQL flags (s, m, i, x, q). */
export function compileRegex(pattern: string, flags: string, global = false): RegExp {
  const key = `${global ? "g" : ""}${flags}\u0000${pattern}`;
  const cached = regexCache.get(key);
  if (cached) {
    cached.lastIndex = 0;
    return cached;
  }
  let jsFlags = global ? "g" : "";
  let quote = false;
  let extended = false;
  for (const flag of flags) {
    if (flag === "s" || flag === "m" || flag === "i") {
      if (!jsFlags.includes(flag)) jsFlags += flag;
    } else if (flag === "x") extended = true;
    else if (flag === "q") quote = true;
    else throw new ExpressionError(`invalid regular expression flag ${flag}`);
  }
  const source = quote ? pattern.replace(/[\\^$.*+?()[\]{}|\-/]/g, "\\$&") : translatePattern(pattern, extended);
  let regex: RegExp;
  try {
    regex = new RegExp(source, `${jsFlags}u`);
  } catch {
    try {
      regex = new RegExp(source, jsFlags);
    } catch (error) {
      throw new ExpressionError(`invalid regular expression: ${(error as Error).message}`);
    }
  }
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.delete(regexCache.keys().next().value as string);
  regexCache.set(key, regex);
  return regex;
}

type ReplacementPart = string | number;

/** Parses an XPath replacement string: $N group references, \$ and \\ escapes. */
function parseReplacement(replacement: string, groups: number): ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let literal = "";
  for (let i = 0; i < replacement.length; i++) {
    const char = replacement[i];
    if (char === "\\") {
      const next = replacement[i + 1];
      if (next !== "\\" && next !== "$") throw new ExpressionError("invalid replacement string");
      literal += next;
      i++;
    } else if (char === "$") {
      let digits = replacement[i + 1] ?? "";
      if (!/[0-9]/.test(digits)) throw new ExpressionError("invalid replacement string");
      i++;
      // Take more digits only while they name an existing group.
      while (/[0-9]/.test(replacement[i + 1] ?? "") && Number(digits + replacement[i + 1]) <= groups) {
        digits += replacement[i + 1];
        i++;
      }
      parts.push(literal, Number(digits));
      literal = "";
    } else literal += char;
  }
  parts.push(literal);
  return parts;
}

export function replaceAll(text: string, pattern: string, replacement: string, flags: string): string {
  const regex = compileRegex(pattern, flags, true);
  // An alternative that always matches "" reveals the number of capturing groups.
  const groups = (new RegExp(`(?:${regex.source})|`, regex.flags).exec("")?.length ?? 1) - 1;
  // With the q flag the replacement is literal too (XPath 3.1 fn:replace).
  const parts = flags.includes("q") ? [replacement] : parseReplacement(replacement, groups);
  if (regex.test("")) throw new ExpressionError("the pattern matches the empty string");
  regex.lastIndex = 0;
  return text.replace(regex, (...match: unknown[]) => {
    let result = "";
    for (const part of parts) {
      // $N past the last group is the empty string (the callback's later arguments are offset and input).
      if (typeof part === "number") result += part <= groups ? ((match[part] as string | undefined) ?? "") : "";
      else result += part;
    }
    return result;
  });
}

/** RFC 4647 basic filtering, as SPARQL's langMatches. */
export function languageMatches(tag: string, range: string): boolean {
  if (range === "*") return tag !== "";
  const lowerTag = tag.toLowerCase();
  const lowerRange = range.toLowerCase();
  return lowerTag === lowerRange || (lowerTag.startsWith(lowerRange) && lowerTag[lowerRange.length] === "-");
}

/** BCP 47 shape: a 2–8 letter primary subtag (or the x-/i- private and grandfathered prefixes), then subtags. */
export const LANGUAGE_TAG_RE = /^(?:[a-zA-Z]{2,8}|[xXiI](?=-))(?:-[a-zA-Z0-9]{1,8})*$/;
