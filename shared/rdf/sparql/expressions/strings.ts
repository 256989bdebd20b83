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

/** XML Schema block escapes (\p{IsBasicLatin}) that JavaScript lacks, as code point ranges. */
const BLOCKS: Record<string, string> = {
  BasicLatin: "\\u{0}-\\u{7F}",
  "Latin-1Supplement": "\\u{80}-\\u{FF}",
  "LatinExtended-A": "\\u{100}-\\u{17F}",
  "LatinExtended-B": "\\u{180}-\\u{24F}",
  IPAExtensions: "\\u{250}-\\u{2AF}",
  CombiningDiacriticalMarks: "\\u{300}-\\u{36F}",
  Greek: "\\u{370}-\\u{3FF}",
  Cyrillic: "\\u{400}-\\u{4FF}",
  Armenian: "\\u{530}-\\u{58F}",
  Hebrew: "\\u{590}-\\u{5FF}",
  Arabic: "\\u{600}-\\u{6FF}",
  Devanagari: "\\u{900}-\\u{97F}",
  Thai: "\\u{E00}-\\u{E7F}",
  Hangul: "\\u{AC00}-\\u{D7AF}",
  HangulSyllables: "\\u{AC00}-\\u{D7AF}",
  Hiragana: "\\u{3040}-\\u{309F}",
  Katakana: "\\u{30A0}-\\u{30FF}",
  CJKUnifiedIdeographs: "\\u{4E00}-\\u{9FFF}",
  GeneralPunctuation: "\\u{2000}-\\u{206F}",
  CurrencySymbols: "\\u{20A0}-\\u{20CF}",
  Arrows: "\\u{2190}-\\u{21FF}",
  MathematicalOperators: "\\u{2200}-\\u{22FF}",
};

const SINGLE_CHAR_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9 };
const SINGLE_CHAR_ESCAPABLE = "\\|.?*+(){}-[]^$";

interface RegexTranslation {
  source: string;
  /** Character class subtraction needs the `v` flag. */
  needsV: boolean;
}

/** One atom inside a character class: a code point (may start a range) or an escape standing for a set. */
type ClassAtom = { codePoint: number } | { set: string };

function codePointEscape(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}

/** Reads \p{…} / \P{…} at `index` (pointing at p or P); returns the JS set text and the next index. */
function readProperty(pattern: string, index: number, inClass: boolean): { text: string; next: number } {
  const negated = pattern[index] === "P";
  const close = pattern.indexOf("}", index);
  if (pattern[index + 1] !== "{" || close < 0) throw new ExpressionError("invalid \\p escape");
  const name = pattern.slice(index + 2, close);
  if (name.startsWith("Is")) {
    const range = BLOCKS[name.slice(2)];
    if (!range) throw new ExpressionError(`unsupported block escape ${name}`);
    if (inClass && negated) throw new ExpressionError("a negated block escape inside a class is not supported");
    return { text: inClass ? range : `[${negated ? "^" : ""}${range}]`, next: close + 1 };
  }
  return { text: `\\${negated ? "P" : "p"}{${name}}`, next: close + 1 };
}

/** Reads one class atom at `index`; returns it and the next index. */
function readClassAtom(pattern: string, index: number): { atom: ClassAtom; next: number } {
  const char = pattern[index];
  if (char !== "\\") {
    const codePoint = pattern.codePointAt(index) as number;
    return { atom: { codePoint }, next: index + (codePoint > 0xffff ? 2 : 1) };
  }
  const next = pattern[index + 1];
  if (next === undefined) throw new ExpressionError("invalid regular expression: trailing backslash");
  if (next in SINGLE_CHAR_ESCAPES) return { atom: { codePoint: SINGLE_CHAR_ESCAPES[next] as number }, next: index + 2 };
  if (SINGLE_CHAR_ESCAPABLE.includes(next))
    return { atom: { codePoint: next.codePointAt(0) as number }, next: index + 2 };
  if ("dDwWsS".includes(next)) return { atom: { set: `\\${next}` }, next: index + 2 };
  if (next === "i") return { atom: { set: NAME_START }, next: index + 2 };
  if (next === "c") return { atom: { set: NAME_CHAR }, next: index + 2 };
  if (next === "p" || next === "P") {
    const property = readProperty(pattern, index + 1, true);
    return { atom: { set: property.text }, next: property.next };
  }
  throw new ExpressionError(`unsupported escape \\${next} in a character class`);
}

/** Translates the character class starting at `index` ("["), with XPath's "-[…]" subtraction. */
function translateClass(pattern: string, index: number): { source: string; next: number; needsV: boolean } {
  let i = index + 1;
  let negation = "";
  let body = "";
  if (pattern[i] === "^") {
    negation = "^";
    i++;
  }
  let first = true;
  while (i < pattern.length) {
    const char = pattern[i];
    if (char === "]" && !first) return { source: `[${negation}${body}]`, next: i + 1, needsV: false };
    if (char === "-" && pattern[i + 1] === "[" && !first) {
      const subtracted = translateClass(pattern, i + 1);
      if (pattern[subtracted.next] !== "]") throw new ExpressionError("invalid character class subtraction");
      // v-flag set difference takes nested classes as operands: [[^a-z]--[aeiou]].
      return { source: `[[${negation}${body}]--${subtracted.source}]`, next: subtracted.next + 1, needsV: true };
    }
    first = false;
    const { atom, next } = readClassAtom(pattern, i);
    i = next;
    if ("set" in atom) {
      body += atom.set;
      continue;
    }
    if (pattern[i] === "-" && pattern[i + 1] !== "]" && pattern[i + 1] !== "[" && i + 1 < pattern.length) {
      const end = readClassAtom(pattern, i + 1);
      if (!("codePoint" in end.atom) || end.atom.codePoint < atom.codePoint) {
        throw new ExpressionError("invalid character range");
      }
      body += `${codePointEscape(atom.codePoint)}-${codePointEscape(end.atom.codePoint)}`;
      i = end.next;
    } else body += codePointEscape(atom.codePoint);
  }
  throw new ExpressionError("unterminated character class");
}

/** Rewrites an XPath regular expression into JavaScript syntax (for the `u` or, with subtraction, `v` flag). */
function translatePattern(pattern: string, extended: boolean): RegexTranslation {
  let source = "";
  let needsV = false;
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i] as string;
    if (char === "[") {
      const translated = translateClass(pattern, i);
      source += translated.source;
      needsV ||= translated.needsV;
      i = translated.next;
      continue;
    }
    if (char === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new ExpressionError("invalid regular expression: trailing backslash");
      if (next === "p" || next === "P") {
        const property = readProperty(pattern, i + 1, false);
        source += property.text;
        i = property.next;
        continue;
      }
      i += 2;
      if (next === "i") source += `[${NAME_START}]`;
      else if (next === "I") source += `[^${NAME_START}]`;
      else if (next === "c") source += `[${NAME_CHAR}]`;
      else if (next === "C") source += `[^${NAME_CHAR}]`;
      else if (next === "-") source += "-";
      else source += `\\${next}`;
      continue;
    }
    i++;
    if (extended && (char === " " || char === "\t" || char === "\n" || char === "\r")) continue;
    source += char;
  }
  return { source, needsV };
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
  const { source, needsV } = quote
    ? { source: pattern.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&"), needsV: false }
    : translatePattern(pattern, extended);
  let regex: RegExp;
  try {
    regex = new RegExp(source, `${jsFlags}${needsV ? "v" : "u"}`);
  } catch (error) {
    throw new ExpressionError(`invalid regular expression: ${(error as Error).message}`);
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
