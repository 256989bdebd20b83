import { type Matcher, MatcherInputBase, RE2JS, RE2JSException, RE2JSSyntaxException } from "re2js";
import { WorkBudgetExceededError } from "../core/budget-errors";
import { RegexNotSupportedError } from "./regex-errors";

// Every regular expression a request supplies (template literals, SPARQL REGEX/REPLACE, SHACL
// sh:pattern) runs on RE2 (re2js): no backtracking, so no exponential time. What remains is
// bounded here: the pattern's size, and the work of one operation, counted as characters the
// engine reads times the program's instructions (the NFA steps every live instruction per
// character; a global replace may rescan the rest of the text after every match).

/** Longest pattern accepted, in UTF-16 code units. */
export const MAX_REGEX_PATTERN_LENGTH = 4096;
/** Largest compiled program accepted, in RE2 instructions. */
export const MAX_REGEX_PROGRAM_SIZE = 10_000;
/** Work one operation (a test, an exec, a whole global replace or split) may do: characters read × instructions. */
export const MAX_REGEX_WORK_PER_OPERATION = 20_000_000;
/** Regex work per unit of a caller's step budget (template steps, SPARQL query steps). */
export const REGEX_WORK_PER_STEP = 8;

export interface LinearRegexFlags {
  ignoreCase?: boolean;
  multiline?: boolean;
  dotAll?: boolean;
}

/**
 * Compiles RE2 syntax. `patternLength` is the length of the pattern as the user wrote it;
 * `invalid` builds the caller's error for a pattern that is not a regular expression at all.
 */
export function compileLinearRegex(
  re2Source: string,
  flags: LinearRegexFlags,
  patternLength: number,
  invalid: (reason: string) => Error,
): RE2JS {
  if (patternLength > MAX_REGEX_PATTERN_LENGTH)
    throw new WorkBudgetExceededError("regular expression pattern", MAX_REGEX_PATTERN_LENGTH, "characters");
  let re2Flags = 0;
  if (flags.ignoreCase) re2Flags |= RE2JS.CASE_INSENSITIVE;
  if (flags.multiline) re2Flags |= RE2JS.MULTILINE;
  if (flags.dotAll) re2Flags |= RE2JS.DOTALL;
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(re2Source, re2Flags);
  } catch (error) {
    if (error instanceof RE2JSSyntaxException) {
      if (error.error === "invalid repeat count" && !hasDescendingRepeat(re2Source))
        throw new RegexNotSupportedError("repetition counts above 1000 (nested counts multiply)");
      if (error.error === "expression too large" || error.error === "expression nests too deeply")
        throw new WorkBudgetExceededError("regular expression program", MAX_REGEX_PROGRAM_SIZE, "instructions");
      throw invalid(error.error);
    }
    if (error instanceof RE2JSException) throw invalid("the pattern cannot be compiled");
    throw error;
  }
  if (compiled.programSize() > MAX_REGEX_PROGRAM_SIZE)
    throw new WorkBudgetExceededError("regular expression program", MAX_REGEX_PROGRAM_SIZE, "instructions");
  return compiled;
}

/** `{5,2}`: a malformed count rather than one beyond the engine's limit. */
function hasDescendingRepeat(source: string): boolean {
  for (const match of source.matchAll(/\{(\d+),(\d+)\}/g)) {
    if (Number(match[1]) > Number(match[2])) return true;
  }
  return false;
}

/** Counts the characters the engine reads during one operation and stops it at its work limit. */
export class RegexWorkMeter {
  reads = 0;
  /** Characters the operation may read. */
  readonly limit: number;
  constructor(
    readonly program: RE2JS,
    workLimit: number,
    readonly exceeded: () => never,
  ) {
    this.limit = Math.floor(Math.max(workLimit, 0) / program.programSize());
  }

  static perOperation(program: RE2JS): RegexWorkMeter {
    return new RegexWorkMeter(program, MAX_REGEX_WORK_PER_OPERATION, operationBudgetExceeded);
  }

  /** Steps of a caller's budget the work so far stands for. */
  steps(): number {
    return Math.ceil((this.reads * this.program.programSize()) / REGEX_WORK_PER_STEP);
  }
}

export function operationBudgetExceeded(): never {
  throw operationBudgetError();
}

export function operationBudgetError(): WorkBudgetExceededError {
  return new WorkBudgetExceededError(
    "regular expression",
    MAX_REGEX_WORK_PER_OPERATION,
    "characters read × instructions",
  );
}

/**
 * The text as re2js reads it (it only needs `length`, `charCodeAt`, `indexOf`, `substring` of its
 * character sequence, and checks it reports itself as a String): every character read is counted
 * against the meter.
 */
class MeteredText {
  readonly [Symbol.toStringTag] = "String";
  constructor(
    readonly text: string,
    readonly meter: RegexWorkMeter,
  ) {}
  get length(): number {
    return this.text.length;
  }
  charCodeAt(index: number): number {
    const meter = this.meter;
    if (++meter.reads > meter.limit) meter.exceeded();
    return this.text.charCodeAt(index);
  }
  indexOf(search: string, from?: number): number {
    const start = from ?? 0;
    const found = this.text.indexOf(search, start);
    const meter = this.meter;
    meter.reads += (found < 0 ? this.text.length : found) - start;
    if (meter.reads > meter.limit) meter.exceeded();
    return found;
  }
  substring(start: number, end?: number): string {
    return this.text.substring(start, end);
  }
  toString(): string {
    return this.text;
  }
}

/** re2js's UTF-16 input over the metered text. */
class MeteredInput extends MatcherInputBase {
  constructor(readonly text: MeteredText) {
    super();
  }
  override isUTF16Encoding(): boolean {
    return true;
  }
  override isUTF8Encoding(): boolean {
    return false;
  }
  override asCharSequence(): string {
    return this.text as unknown as string;
  }
  override asBytes(): never {
    throw new Error("a metered regular expression input is read as UTF-16 only");
  }
  override length(): number {
    return this.text.length;
  }
}

/** A matcher over `text` whose reads count against `meter`. */
export function meteredMatcher(text: string, meter: RegexWorkMeter): Matcher {
  return meter.program.matcher(new MeteredInput(new MeteredText(text, meter)));
}
