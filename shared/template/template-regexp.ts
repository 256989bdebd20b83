import type { Matcher, RE2JS } from "re2js";
import { jsPatternToRe2 } from "../regex/js-pattern-to-re2";
import {
  compileLinearRegex,
  MAX_REGEX_WORK_PER_OPERATION,
  meteredMatcher,
  operationBudgetError,
  REGEX_WORK_PER_STEP,
  RegexWorkMeter,
} from "../regex/linear-regex";
import { RegexNotSupportedError } from "../regex/regex-errors";
import type { RenderBudget } from "./budget";

// A template's regular expression: what nunjucks' `r/…/flags` literal builds, with JavaScript's
// RegExp protocol (exec, test, lastIndex and the Symbol.replace/match/matchAll/split/search methods
// String.prototype uses) backed by RE2, so `s.replace(r/(a+)+$/, "x")` cannot backtrack. Its
// compiled program sits in a private field: a template reaches only the RegExp surface.

/** A pattern compiled once per template compilation; instances share it. */
export class CompiledTemplateRegex {
  readonly groupCount: number;
  readonly groupNames: ReadonlyArray<[string, number]> | null;
  /** `^`/`$` with the m flag: RE2 ends lines at \n only, JavaScript also at \r, U+2028, U+2029. */
  readonly lineEndSensitive: boolean;
  /** `.`, `[^…]`, `\S`, `\W`, `\D`: RE2 reads a surrogate pair as one character, JavaScript (without u) as two. */
  readonly astralSensitive: boolean;
  constructor(
    readonly source: string,
    readonly flags: string,
    readonly program: RE2JS,
  ) {
    this.groupCount = program.groupCount();
    const names = Object.entries(program.namedGroups());
    this.groupNames = names.length > 0 ? names : null;
    this.lineEndSensitive = flags.includes("m") && /[$^]/.test(source);
    this.astralSensitive = /\.|\[\^|\\[SWD]/.test(source);
  }

  /** Refuses a text on which this pattern would not mean what it means to JavaScript. */
  checkText(text: string): void {
    if (this.lineEndSensitive && LINE_END_BEYOND_LF.test(text))
      throw new RegexNotSupportedError("multiline ^ or $ on text with \\r, U+2028 or U+2029 line ends");
    if (this.astralSensitive && SURROGATE_PAIR.test(text))
      throw new RegexNotSupportedError("a character set or . on text with characters beyond U+FFFF");
  }
}

const LINE_END_BEYOND_LF = /[\r\u2028\u2029]/;
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;

/** Compiles a pattern JavaScript accepts (nunjucks' lexer allows the flags g, i, m, y). */
export function compileTemplateRegex(source: string, flags: string): CompiledTemplateRegex {
  for (const flag of flags) {
    if (!"gimy".includes(flag)) throw new RegexNotSupportedError(`flag ${flag}`);
  }
  const re2Source = jsPatternToRe2(source);
  const program = compileLinearRegex(
    re2Source,
    { ignoreCase: flags.includes("i"), multiline: flags.includes("m") },
    source.length,
    (reason) => new RegexNotSupportedError(`syntax the linear engine does not read (${reason})`),
  );
  return new CompiledTemplateRegex(source, flags, program);
}

const patternCache = new Map<string, CompiledTemplateRegex>();
const PATTERN_CACHE_LIMIT = 128;

/**
 * What `String.prototype.match/matchAll/search` would turn a non-RegExp argument into
 * (`new RegExp(String(value), flags)`), on the linear engine. Invalid syntax throws JavaScript's
 * own SyntaxError, as the native method would.
 */
export function templateRegexFromValue(value: unknown, flags: string, budget: RenderBudget | null): TemplateRegExp {
  if (value instanceof TemplateRegExp) return value;
  const source = value === undefined ? "(?:)" : String(value);
  const key = `${flags}/${source}`;
  let compiled = patternCache.get(key);
  if (!compiled) {
    // Only parses the pattern (nothing runs), for JavaScript's syntax errors.
    const normalized = new RegExp(source, flags);
    compiled = compileTemplateRegex(normalized.source, normalized.flags);
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.delete(patternCache.keys().next().value as string);
    patternCache.set(key, compiled);
  }
  return new TemplateRegExp(compiled, budget);
}

type ExecResult = Array<string | undefined> & {
  index: number;
  input: string;
  groups: Record<string, string | undefined> | undefined;
};

export class TemplateRegExp {
  lastIndex = 0;
  readonly #compiled: CompiledTemplateRegex;
  readonly #budget: RenderBudget | null;
  /** Where the current operation's matcher stopped after a non-empty match (-1: nowhere to resume). */
  #resumeAt = -1;

  constructor(compiled: CompiledTemplateRegex, budget: RenderBudget | null) {
    this.#compiled = compiled;
    this.#budget = budget;
  }

  get source(): string {
    return this.#compiled.source;
  }
  get flags(): string {
    return this.#compiled.flags;
  }
  get global(): boolean {
    return this.#compiled.flags.includes("g");
  }
  get ignoreCase(): boolean {
    return this.#compiled.flags.includes("i");
  }
  get multiline(): boolean {
    return this.#compiled.flags.includes("m");
  }
  get sticky(): boolean {
    return this.#compiled.flags.includes("y");
  }
  get dotAll(): boolean {
    return false;
  }
  get unicode(): boolean {
    return false;
  }
  get hasIndices(): boolean {
    return false;
  }
  toString(): string {
    return `/${this.source}/${this.flags}`;
  }

  exec(input: unknown): ExecResult | null {
    const text = String(input);
    return this.#operation(text, (matcher) => this.#exec(matcher, text));
  }

  test(input: unknown): boolean {
    return this.exec(input) !== null;
  }

  [Symbol.match](input: unknown): string[] | ExecResult | null {
    const text = String(input);
    if (!this.global) return this.exec(text);
    this.lastIndex = 0;
    return this.#operation(text, (matcher) => {
      const matches: string[] = [];
      for (;;) {
        const result = this.#exec(matcher, text);
        if (result === null) return matches.length > 0 ? matches : null;
        matches.push(result[0] as string);
        if (result[0] === "") this.lastIndex++;
      }
    });
  }

  [Symbol.matchAll](input: unknown): IterableIterator<ExecResult> {
    const text = String(input);
    const clone = new TemplateRegExp(this.#compiled, this.#budget);
    clone.lastIndex = this.lastIndex;
    const results = clone.#operation(text, (matcher) => clone.#all(matcher, text));
    return results[Symbol.iterator]();
  }

  [Symbol.search](input: unknown): number {
    const text = String(input);
    const previous = this.lastIndex;
    this.lastIndex = 0;
    const result = this.exec(text);
    this.lastIndex = previous;
    return result === null ? -1 : result.index;
  }

  [Symbol.replace](input: unknown, replaceValue: unknown): string {
    const text = String(input);
    const replacer = typeof replaceValue === "function" ? (replaceValue as (...args: unknown[]) => unknown) : null;
    const replacement = replacer ? "" : String(replaceValue);
    if (this.global) this.lastIndex = 0;
    const results = this.#operation(text, (matcher) => this.#all(matcher, text));
    let output = "";
    let nextPosition = 0;
    for (const result of results) {
      const matched = result[0] as string;
      const position = Math.max(Math.min(result.index, text.length), 0);
      const captures = result.slice(1);
      let substitution: string;
      if (replacer) {
        const args: unknown[] = [matched, ...captures, position, text];
        if (result.groups !== undefined) args.push(result.groups);
        substitution = String(replacer(...args));
      } else substitution = expandReplacement(replacement, matched, text, position, captures, result.groups);
      if (position >= nextPosition) {
        output += text.slice(nextPosition, position) + substitution;
        nextPosition = position + matched.length;
      }
      this.#budget?.stringCap(output.length, "replace()");
    }
    return nextPosition >= text.length ? output : output + text.slice(nextPosition);
  }

  [Symbol.split](input: unknown, limit?: unknown): string[] {
    const text = String(input);
    const max = limit === undefined ? 2 ** 32 - 1 : Number(limit) >>> 0;
    if (max === 0) return [];
    return this.#operation(text, (matcher) => {
      if (text.length === 0) return matcher.find(0) ? [] : [text];
      const parts: Array<string | undefined> = [];
      let lastEnd = 0;
      let from = 0;
      while (from < text.length && matcher.find(from)) {
        const start = matcher.start();
        if (start >= text.length) break;
        const end = Math.min(matcher.end(), text.length);
        if (end === lastEnd) {
          from = start + 1;
          continue;
        }
        parts.push(text.slice(lastEnd, start));
        if (parts.length === max) return parts as string[];
        lastEnd = end;
        for (let group = 1; group <= this.#compiled.groupCount; group++) {
          parts.push(matcher.group(group) ?? undefined);
          if (parts.length === max) return parts as string[];
        }
        from = lastEnd;
      }
      parts.push(text.slice(lastEnd));
      return parts as string[];
    });
  }

  /** Every match a replace would use: one, or all from lastIndex 0 with the global flag. */
  #all(matcher: Matcher, text: string): ExecResult[] {
    const results: ExecResult[] = [];
    for (;;) {
      const result = this.#exec(matcher, text);
      if (result === null) break;
      results.push(result);
      if (!this.global) break;
      if (result[0] === "") this.lastIndex++;
    }
    return results;
  }

  /** RegExpBuiltinExec: lastIndex is read and written with the global or sticky flag only. */
  #exec(matcher: Matcher, text: string): ExecResult | null {
    const tracksIndex = this.global || this.sticky;
    const start = tracksIndex ? toLength(this.lastIndex) : 0;
    // find() resumes the matcher's own scan: about twice as fast as find(start), which resets it
    const found = start === this.#resumeAt ? matcher.find() : start <= text.length && matcher.find(start);
    if (!found || (this.sticky && matcher.start() !== start)) {
      this.#resumeAt = -1;
      if (tracksIndex) this.lastIndex = 0;
      return null;
    }
    this.#resumeAt = matcher.end() > matcher.start() ? matcher.end() : -1;
    if (tracksIndex) this.lastIndex = matcher.end();
    const compiled = this.#compiled;
    const result = [] as unknown as ExecResult;
    for (let group = 0; group <= compiled.groupCount; group++) result.push(matcher.group(group) ?? undefined);
    result.index = matcher.start();
    result.input = text;
    if (compiled.groupNames) {
      const groups: Record<string, string | undefined> = Object.create(null);
      for (const [name, index] of compiled.groupNames) groups[name] = result[index];
      result.groups = groups;
    } else result.groups = undefined;
    return result;
  }

  /** Runs one operation over `text`, its regex work counted against the render's steps. */
  #operation<T>(text: string, run: (matcher: Matcher) => T): T {
    this.#compiled.checkText(text);
    this.#resumeAt = -1;
    const program = this.#compiled.program;
    const budget = this.#budget;
    if (!budget) return run(meteredMatcher(text, RegexWorkMeter.perOperation(program)));
    const remainingWork = (budget.limits.maxSteps - budget.steps) * REGEX_WORK_PER_STEP;
    const meter =
      remainingWork < MAX_REGEX_WORK_PER_OPERATION
        ? new RegexWorkMeter(program, remainingWork, () => budget.fail("steps", budget.limits.maxSteps))
        : new RegexWorkMeter(program, MAX_REGEX_WORK_PER_OPERATION, () => budget.refuse(operationBudgetError()));
    try {
      return run(meteredMatcher(text, meter));
    } finally {
      budget.charge(meter.steps());
    }
  }
}

function toLength(value: unknown): number {
  const number = Math.trunc(Number(value));
  return Number.isNaN(number) || number < 0 ? 0 : Math.min(number, Number.MAX_SAFE_INTEGER);
}

/** GetSubstitution: $$, $&, $`, $', $n, $nn and $<name> in a replacement string. */
function expandReplacement(
  replacement: string,
  matched: string,
  text: string,
  position: number,
  captures: Array<string | undefined>,
  groups: Record<string, string | undefined> | undefined,
): string {
  if (!replacement.includes("$")) return replacement;
  let result = "";
  let i = 0;
  while (i < replacement.length) {
    const char = replacement[i] as string;
    const next = replacement[i + 1];
    if (char !== "$" || next === undefined) {
      result += char;
      i++;
      continue;
    }
    if (next === "$") {
      result += "$";
      i += 2;
    } else if (next === "&") {
      result += matched;
      i += 2;
    } else if (next === "`") {
      result += text.slice(0, position);
      i += 2;
    } else if (next === "'") {
      result += text.slice(Math.min(position + matched.length, text.length));
      i += 2;
    } else if (next >= "0" && next <= "9") {
      const twoDigits = replacement[i + 2];
      const both = twoDigits !== undefined && twoDigits >= "0" && twoDigits <= "9" ? Number(next + twoDigits) : 0;
      if (both >= 1 && both <= captures.length) {
        result += captures[both - 1] ?? "";
        i += 3;
      } else if (Number(next) >= 1 && Number(next) <= captures.length) {
        result += captures[Number(next) - 1] ?? "";
        i += 2;
      } else {
        result += "$";
        i++;
      }
    } else if (next === "<" && groups !== undefined) {
      const close = replacement.indexOf(">", i + 2);
      if (close < 0) {
        result += "$<";
        i += 2;
      } else {
        result += groups[replacement.slice(i + 2, close)] ?? "";
        i = close + 1;
      }
    } else {
      result += "$";
      i++;
    }
  }
  return result;
}
