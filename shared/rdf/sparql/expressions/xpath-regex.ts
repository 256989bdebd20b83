import type { RE2JS } from "re2js";
import {
  ASCII_DIGITS,
  ASCII_WORD,
  type CodePointRanges,
  complementRanges,
  JS_WHITESPACE,
  normalizeRanges,
  rangesToClass,
  rangesToClassBody,
  subtractRanges,
} from "../../../regex/code-point-ranges";
import { compileLinearRegex, meteredMatcher, RegexWorkMeter } from "../../../regex/linear-regex";
import { RegexNotSupportedError } from "../../../regex/regex-errors";
import { ExpressionError } from "./errors";

// XPath regular expressions (fn:matches, fn:replace: SPARQL REGEX/REPLACE, SHACL sh:pattern) with
// the flags s, m, i, x, q, rewritten into RE2 syntax and run on the linear-time engine. Character
// sets keep the meaning they had on JavaScript's engine (`\s`, `.`, `\d`, `\w`); class subtraction
// is computed on code point ranges.

/** Regex work per SPARQL query step (a query step stands for about half a microsecond of evaluation). */
export const REGEX_WORK_PER_QUERY_STEP = 32;

const NAME_START: CodePointRanges = [
  [0x3a, 0x3a],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
  [0xc0, 0xd6],
  [0xd8, 0xf6],
  [0xf8, 0x2ff],
  [0x370, 0x37d],
  [0x37f, 0x1fff],
  [0x200c, 0x200d],
  [0x2070, 0x218f],
  [0x2c00, 0x2fef],
  [0x3001, 0xd7ff],
  [0xf900, 0xfdcf],
  [0xfdf0, 0xfffd],
];
const NAME_CHAR: CodePointRanges = [
  ...NAME_START,
  [0x2d, 0x2e],
  [0x30, 0x39],
  [0xb7, 0xb7],
  [0x300, 0x36f],
  [0x203f, 0x2040],
];

/** XML Schema block escapes (\p{IsBasicLatin}) as code point ranges. */
const BLOCKS: Record<string, [number, number]> = {
  BasicLatin: [0x0, 0x7f],
  "Latin-1Supplement": [0x80, 0xff],
  "LatinExtended-A": [0x100, 0x17f],
  "LatinExtended-B": [0x180, 0x24f],
  IPAExtensions: [0x250, 0x2af],
  CombiningDiacriticalMarks: [0x300, 0x36f],
  Greek: [0x370, 0x3ff],
  Cyrillic: [0x400, 0x4ff],
  Armenian: [0x530, 0x58f],
  Hebrew: [0x590, 0x5ff],
  Arabic: [0x600, 0x6ff],
  Devanagari: [0x900, 0x97f],
  Thai: [0xe00, 0xe7f],
  Hangul: [0xac00, 0xd7af],
  HangulSyllables: [0xac00, 0xd7af],
  Hiragana: [0x3040, 0x309f],
  Katakana: [0x30a0, 0x30ff],
  CJKUnifiedIdeographs: [0x4e00, 0x9fff],
  GeneralPunctuation: [0x2000, 0x206f],
  CurrencySymbols: [0x20a0, 0x20cf],
  Arrows: [0x2190, 0x21ff],
  MathematicalOperators: [0x2200, 0x22ff],
};

const SINGLE_CHAR_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9 };
const SINGLE_CHAR_ESCAPABLE = "\\|.?*+(){}-[]^$";
const NOT_LINE_TERMINATOR = "[^\\n\\r\\x{2028}\\x{2029}]";

/** A set of characters: ranges plus RE2 class items (`\p{Lu}`, `\D`) and, as written, maybe negated. */
interface CharacterSet {
  ranges: CodePointRanges;
  items: string[];
  negated: boolean;
}

const rangeSet = (ranges: CodePointRanges): CharacterSet => ({ ranges, items: [], negated: false });
const itemSet = (item: string): CharacterSet => ({ ranges: [], items: [item], negated: false });

// \D and \W stay RE2's own (a complement written as ranges would gain case variants under the i flag).
const SET_ESCAPES: Record<string, () => CharacterSet> = {
  d: () => rangeSet(ASCII_DIGITS),
  D: () => itemSet("\\D"),
  w: () => rangeSet(ASCII_WORD),
  W: () => itemSet("\\W"),
  s: () => rangeSet(JS_WHITESPACE),
  S: () => rangeSet(complementRanges(JS_WHITESPACE)),
  i: () => rangeSet(NAME_START),
  I: () => rangeSet(complementRanges(NAME_START)),
  c: () => rangeSet(NAME_CHAR),
  C: () => rangeSet(complementRanges(NAME_CHAR)),
};

/** Reads \p{…} / \P{…} at `index` (pointing at p or P). */
function readProperty(pattern: string, index: number): { set: CharacterSet; next: number } {
  const negated = pattern[index] === "P";
  const close = pattern.indexOf("}", index);
  if (pattern[index + 1] !== "{" || close < 0) throw new ExpressionError("invalid \\p escape");
  const name = pattern.slice(index + 2, close);
  if (name.startsWith("Is")) {
    const range = BLOCKS[name.slice(2)];
    if (!range) throw new ExpressionError(`unsupported block escape ${name}`);
    return { set: rangeSet(negated ? complementRanges([range]) : [range]), next: close + 1 };
  }
  if (!/^[A-Za-z_]+$/.test(name)) throw new ExpressionError(`invalid category escape ${name}`);
  return { set: itemSet(`\\${negated ? "P" : "p"}{${name}}`), next: close + 1 };
}

/** Reads one class atom at `index`: a code point (may start a range) or an escape standing for a set. */
function readClassAtom(pattern: string, index: number): { codePoint?: number; set?: CharacterSet; next: number } {
  const char = pattern[index];
  if (char !== "\\") {
    const codePoint = pattern.codePointAt(index) as number;
    return { codePoint, next: index + (codePoint > 0xffff ? 2 : 1) };
  }
  const next = pattern[index + 1];
  if (next === undefined) throw new ExpressionError("invalid regular expression: trailing backslash");
  if (next in SINGLE_CHAR_ESCAPES) return { codePoint: SINGLE_CHAR_ESCAPES[next] as number, next: index + 2 };
  if (SINGLE_CHAR_ESCAPABLE.includes(next)) return { codePoint: next.codePointAt(0) as number, next: index + 2 };
  const setEscape = SET_ESCAPES[next];
  if (setEscape) return { set: setEscape(), next: index + 2 };
  if (next === "p" || next === "P") {
    const property = readProperty(pattern, index + 1);
    return { set: property.set, next: property.next };
  }
  throw new ExpressionError(`unsupported escape \\${next} in a character class`);
}

/** Reads the character class starting at `index` ("["), with XPath's "-[…]" subtraction. */
function readClass(pattern: string, index: number): { set: CharacterSet; next: number } {
  let i = index + 1;
  let negated = false;
  if (pattern[i] === "^") {
    negated = true;
    i++;
  }
  const ranges: CodePointRanges = [];
  const items: string[] = [];
  const finish = (subtracted: CharacterSet | null, next: number): { set: CharacterSet; next: number } => {
    if (subtracted === null) return { set: { ranges, items, negated }, next };
    if (items.length > 0 || subtracted.items.length > 0)
      throw new RegexNotSupportedError("character class subtraction with a category escape");
    const base = negated ? complementRanges(ranges) : ranges;
    const removed = subtracted.negated ? complementRanges(subtracted.ranges) : subtracted.ranges;
    return { set: rangeSet(subtractRanges(base, removed)), next };
  };
  let first = true;
  while (i < pattern.length) {
    const char = pattern[i];
    if (char === "]" && !first) return finish(null, i + 1);
    if (char === "-" && pattern[i + 1] === "[" && !first) {
      const subtracted = readClass(pattern, i + 1);
      if (pattern[subtracted.next] !== "]") throw new ExpressionError("invalid character class subtraction");
      return finish(subtracted.set, subtracted.next + 1);
    }
    first = false;
    const atom = readClassAtom(pattern, i);
    i = atom.next;
    if (atom.set) {
      ranges.push(...atom.set.ranges);
      items.push(...atom.set.items);
      continue;
    }
    const low = atom.codePoint as number;
    if (pattern[i] === "-" && pattern[i + 1] !== "]" && pattern[i + 1] !== "[" && i + 1 < pattern.length) {
      const end = readClassAtom(pattern, i + 1);
      if (end.codePoint === undefined || end.codePoint < low) throw new ExpressionError("invalid character range");
      ranges.push([low, end.codePoint]);
      i = end.next;
    } else ranges.push([low, low]);
  }
  throw new ExpressionError("unterminated character class");
}

function setToRe2(set: CharacterSet): string {
  if (!set.negated && set.items.length === 0) return rangesToClass(set.ranges);
  if (!set.negated && set.ranges.length === 0 && set.items.length === 1) return set.items[0] as string;
  return `[${set.negated ? "^" : ""}${rangesToClassBody(normalizeRanges(set.ranges))}${set.items.join("")}]`;
}

/** Rewrites an XPath regular expression (with JavaScript's escapes it used to accept) into RE2 syntax. */
function translatePattern(pattern: string, extended: boolean, dotAll: boolean): string {
  let source = "";
  let i = 0;
  while (i < pattern.length) {
    const char = pattern[i] as string;
    if (char === "[") {
      const translated = readClass(pattern, i);
      source += setToRe2(translated.set);
      i = translated.next;
      continue;
    }
    if (char === "\\") {
      const escaped = translateEscape(pattern, i);
      source += escaped.text;
      i = escaped.next;
      continue;
    }
    if (char === "(" && pattern[i + 1] === "?") {
      const group = translateGroupOpening(pattern, i);
      source += group.text;
      i = group.next;
      continue;
    }
    i++;
    if (extended && (char === " " || char === "\t" || char === "\n" || char === "\r")) continue;
    if (char === ".") source += dotAll ? "." : NOT_LINE_TERMINATOR;
    else source += char;
  }
  return source;
}

function translateEscape(pattern: string, index: number): { text: string; next: number } {
  const next = pattern[index + 1];
  if (next === undefined) throw new ExpressionError("invalid regular expression: trailing backslash");
  if (next === "p" || next === "P") {
    const property = readProperty(pattern, index + 1);
    return { text: setToRe2(property.set), next: property.next };
  }
  const setEscape = SET_ESCAPES[next];
  if (setEscape) return { text: setToRe2(setEscape()), next: index + 2 };
  if (next === "-") return { text: "-", next: index + 2 };
  if (next >= "1" && next <= "9") throw new RegexNotSupportedError("back-reference");
  if (next === "k" && pattern[index + 2] === "<") throw new RegexNotSupportedError("back-reference");
  if (next === "0") return { text: "\\x{0}", next: index + 2 };
  if (next === "u") {
    const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(index + 2, index + 10));
    if (braced) return { text: `\\x{${braced[1]}}`, next: index + 2 + (braced[0] as string).length };
    const digits = pattern.slice(index + 2, index + 6);
    if (/^[0-9a-fA-F]{4}$/.test(digits)) return { text: `\\x{${digits}}`, next: index + 6 };
    throw new ExpressionError("invalid regular expression: invalid unicode escape");
  }
  if (next === "c" && /[A-Za-z]/.test(pattern[index + 2] ?? "")) {
    return { text: `\\x{${((pattern.codePointAt(index + 2) as number) % 32).toString(16)}}`, next: index + 3 };
  }
  return { text: `\\${next}`, next: index + 2 };
}

/** `(?:` and `(?<name>` translate; lookaround has no linear-time equivalent; anything else is invalid. */
function translateGroupOpening(pattern: string, index: number): { text: string; next: number } {
  const after = pattern.slice(index + 2, index + 4);
  if (after.startsWith(":")) return { text: "(?:", next: index + 3 };
  if (after.startsWith("=") || after.startsWith("!")) throw new RegexNotSupportedError("lookahead");
  if (after === "<=" || after === "<!") throw new RegexNotSupportedError("lookbehind");
  const named = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(index + 2, index + 260));
  if (named) return { text: `(?P<${named[1]}>`, next: index + 2 + (named[0] as string).length };
  throw new ExpressionError("invalid regular expression: invalid group");
}

const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_LIMIT = 256;

/** Compiles an XPath regular expression with SPARQL flags (s, m, i, x, q) for the linear-time engine. */
export function compileXPathRegex(pattern: string, flags: string): RE2JS {
  const key = `${flags}\u0000${pattern}`;
  const cached = regexCache.get(key);
  if (cached) return cached;
  let quote = false;
  let extended = false;
  for (const flag of flags) {
    if (flag === "x") extended = true;
    else if (flag === "q") quote = true;
    else if (flag !== "s" && flag !== "m" && flag !== "i")
      throw new ExpressionError(`invalid regular expression flag ${flag}`);
  }
  const dotAll = flags.includes("s");
  const source = quote ? quoteLiteral(pattern) : translatePattern(pattern, extended, dotAll);
  const program = compileLinearRegex(
    source,
    { ignoreCase: flags.includes("i"), multiline: flags.includes("m"), dotAll },
    pattern.length,
    (reason) => new ExpressionError(`invalid regular expression: ${reason}`),
  );
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.delete(regexCache.keys().next().value as string);
  regexCache.set(key, program);
  return program;
}

function quoteLiteral(pattern: string): string {
  let source = "";
  for (const char of pattern) source += `\\x{${(char.codePointAt(0) as number).toString(16)}}`;
  return source;
}

/** Adds regex work (in query steps) to the caller's budget. */
export type ChargeWork = (steps: number) => void;

function charge(meter: RegexWorkMeter, chargeWork: ChargeWork | undefined): void {
  if (!chargeWork) return;
  const steps = Math.ceil((meter.reads * meter.program.programSize()) / REGEX_WORK_PER_QUERY_STEP);
  if (steps > 0) chargeWork(steps);
}

const XPATH_METACHARACTERS = /[\\^$.|?*+()[\]{}]/;

/**
 * The text a pattern matches when it is a plain literal (no metacharacter, or the q flag) under flags that
 * cannot change what a literal matches: then a substring search answers, in linear time, without the
 * regex engine (whose per-character cost is far higher on long texts). Undefined otherwise.
 */
function literalOf(pattern: string, flags: string): string | undefined {
  if (flags.includes("i") || pattern === "") return undefined;
  if (flags.includes("q")) return pattern;
  if (flags.includes("x") || XPATH_METACHARACTERS.test(pattern)) return undefined;
  return pattern;
}

/** A substring search reads each character of the text about once: charged like one regex instruction per character. */
function chargeLiteral(text: string, chargeWork: ChargeWork | undefined): void {
  if (chargeWork && text.length > 0) chargeWork(Math.ceil(text.length / REGEX_WORK_PER_QUERY_STEP));
}

/** fn:matches: does the pattern match anywhere in `text`? */
export function regexMatches(text: string, pattern: string, flags: string, chargeWork?: ChargeWork): boolean {
  const literal = literalOf(pattern, flags);
  if (literal !== undefined) {
    compileXPathRegex(pattern, flags); // the same validation of flags as every pattern
    chargeLiteral(text, chargeWork);
    return text.includes(literal);
  }
  const meter = RegexWorkMeter.perOperation(compileXPathRegex(pattern, flags));
  const found = meteredMatcher(text, meter).find();
  charge(meter, chargeWork);
  return found;
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

/** fn:replace: every match of the pattern in `text` replaced. */
export function replaceAll(
  text: string,
  pattern: string,
  replacement: string,
  flags: string,
  chargeWork?: ChargeWork,
): string {
  const program = compileXPathRegex(pattern, flags);
  const groups = program.groupCount();
  // With the q flag the replacement is literal too (XPath 3.1 fn:replace).
  const parts = flags.includes("q") ? [replacement] : parseReplacement(replacement, groups);
  if (program.test("")) throw new ExpressionError("the pattern matches the empty string");
  const literal = literalOf(pattern, flags);
  if (literal !== undefined) {
    chargeLiteral(text, chargeWork);
    // Every match is the literal itself: $0 is the literal, any other group the empty string.
    const substitution = parts.map((part) => (typeof part === "number" ? (part === 0 ? literal : "") : part)).join("");
    let result = "";
    let copied = 0;
    for (let at = text.indexOf(literal); at !== -1; at = text.indexOf(literal, copied)) {
      result += text.slice(copied, at) + substitution;
      copied = at + literal.length;
    }
    return result + text.slice(copied);
  }
  const meter = RegexWorkMeter.perOperation(program);
  const matcher = meteredMatcher(text, meter);
  let result = "";
  let copied = 0;
  while (matcher.find()) {
    result += text.slice(copied, matcher.start());
    for (const part of parts) {
      // $N past the last group is the empty string.
      if (typeof part === "number") result += part <= groups ? (matcher.group(part) ?? "") : "";
      else result += part;
    }
    copied = matcher.end();
  }
  charge(meter, chargeWork);
  return result + text.slice(copied);
}
