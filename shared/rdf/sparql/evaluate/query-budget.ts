import { MemoryBudgetExceededError } from "../../../core/budget-errors";
import { QueryBudgetExceededError } from "../errors";

/**
 * Characters the string functions of one query may build in all (CONCAT, SUBSTR, UCASE/LCASE,
 * ENCODE_FOR_URI, REPLACE output, GROUP_CONCAT), counted as each string is built.
 */
export const MAX_QUERY_STRING_CHARS = 16 * 1024 * 1024;

/** Estimated bytes one set of solutions held at once may take (store scans, joins, unions, groups, sorts). */
export const MAX_HELD_ROWS_BYTES = 64 * 1024 * 1024;

/** Estimated heap bytes of one solution row, plus BINDING_BYTES per bound variable (a Map entry and its term). */
export const ROW_BYTES = 80;
export const BINDING_BYTES = 40;

export interface QueryBudgetLimits {
  /** Evaluation steps: rows read from the store, rows joined, compared or sorted, path edges followed. */
  maxSteps?: number;
  maxStringChars?: number;
  maxHeldRowsBytes?: number;
  /** Called every few thousand steps; return true to stop the query (deadline passed). */
  shouldStop?: () => boolean;
}

/**
 * The work and memory one query may use. Steps are counted, not timed: Date.now() does not advance
 * during CPU work in Workers, and a store scan (a SQLite statement) cannot be interrupted, so every
 * scan is given a row limit derived from what is left.
 */
export class QueryBudget {
  private steps = 0;
  private stringChars = 0;
  private readonly maxSteps: number;
  private readonly maxStringChars: number;
  private readonly maxHeldRowsBytes: number;
  private readonly shouldStop: () => boolean;

  constructor(limits: QueryBudgetLimits = {}) {
    this.maxSteps = limits.maxSteps ?? Number.POSITIVE_INFINITY;
    this.maxStringChars = limits.maxStringChars ?? MAX_QUERY_STRING_CHARS;
    this.maxHeldRowsBytes = limits.maxHeldRowsBytes ?? MAX_HELD_ROWS_BYTES;
    this.shouldStop = limits.shouldStop ?? (() => false);
  }

  tick(count = 1): void {
    const before = this.steps;
    this.steps += count;
    if (this.steps > this.maxSteps) throw new QueryBudgetExceededError("steps");
    // The caller's deadline is asked every 4096 steps.
    if (before >>> 12 !== this.steps >>> 12 && this.shouldStop()) throw new QueryBudgetExceededError("deadline");
  }

  /** Asks the caller's deadline before a store scan (a scan itself cannot be interrupted). */
  checkDeadline(): void {
    if (this.shouldStop()) throw new QueryBudgetExceededError("deadline");
  }

  /** Counts a string about to be (or just) built by a function or aggregate. */
  chargeString(length: number): void {
    this.stringChars += length;
    if (this.stringChars > this.maxStringChars) {
      throw new MemoryBudgetExceededError("SPARQL string functions", this.maxStringChars, "characters");
    }
  }

  /** Most rows of `width` bound variables one held set may have. */
  heldRowLimit(width: number): number {
    return Math.floor(this.maxHeldRowsBytes / (ROW_BYTES + BINDING_BYTES * width));
  }

  /** Refuses a set of `count` rows of `width` variables that would pass the memory bound. */
  holdRows(count: number, width: number): void {
    if (count > this.heldRowLimit(width)) this.heldRowsExceeded();
  }

  heldRowsExceeded(): never {
    throw new MemoryBudgetExceededError("SPARQL intermediate results", this.maxHeldRowsBytes, "bytes");
  }

  /** Steps left before the budget is exhausted. */
  get remainingSteps(): number {
    return this.maxSteps - this.steps;
  }

  /**
   * The row limit of a store scan whose `width`-column rows are read and (when `held`) kept in memory:
   * one more row than the budget allows, so reading that row proves the budget would be exceeded.
   */
  scanRowLimit(width: number, held: boolean): number {
    const steps = this.remainingSteps;
    return Math.max(0, Math.min(steps, held ? this.heldRowLimit(width) : steps)) + 1;
  }

  /** After a scan limited by scanRowLimit returned `count` rows: refuses when the limit was reached. */
  checkScanRows(count: number, width: number, held: boolean): void {
    if (count < this.scanRowLimit(width, held)) return;
    if (held && count > this.heldRowLimit(width)) this.heldRowsExceeded();
    throw new QueryBudgetExceededError("steps");
  }
}
