import { MemoryBudgetExceededError, NestingTooDeepError, type WorkBudgetExceededError } from "../core/budget-errors";
import { type BudgetKind, TemplateBudgetError } from "./errors";

export interface TemplateLimits {
  /** Loop iterations, macro/function/filter calls: the work a render may do. */
  maxSteps: number;
  /** Iterations of all loops together (also bounds `range()` lengths). */
  maxLoopIterations: number;
  /** Length (UTF-16 code units) any output buffer or concatenated string may reach. */
  maxOutputBytes: number;
  /** Nesting of macro calls and template roots/blocks on the stack. */
  maxCallDepth: number;
  /** Nesting of include/import/extends. */
  maxIncludeDepth: number;
  /**
   * Bytes of strings and arrays one render may create through methods, filters and globals, all
   * together (a string counts its length, an array 8 bytes per element). Checked before building
   * whenever the size follows from the arguments (`repeat`, `padStart`, `join`, `range`, `batch`…).
   */
  maxAllocatedBytes: number;
  /** Elements any one array built by a render may hold. */
  maxArrayLength: number;
}

export const defaultLimits: TemplateLimits = {
  maxSteps: 5_000_000,
  maxLoopIterations: 1_000_000,
  maxOutputBytes: 16 * 1024 * 1024,
  maxCallDepth: 200,
  maxIncludeDepth: 32,
  maxAllocatedBytes: 64 * 1024 * 1024,
  maxArrayLength: 1_000_000,
};

/** What one array element is counted as in maxAllocatedBytes (a pointer on a 64-bit heap). */
export const BYTES_PER_ARRAY_ELEMENT = 8;

/** Per-render counters; one instance is shared by a render and everything it includes or imports. */
export class RenderBudget {
  steps = 0;
  loops = 0;
  depth = 0;
  allocated = 0;
  /** The first refusal of this render: nunjucks rewraps errors thrown inside a render, this one is reported. */
  exceeded: TemplateBudgetError | MemoryBudgetExceededError | NestingTooDeepError | WorkBudgetExceededError | null =
    null;
  constructor(readonly limits: TemplateLimits) {}

  reset(): void {
    this.steps = 0;
    this.loops = 0;
    this.depth = 0;
    this.allocated = 0;
    this.exceeded = null;
  }

  fail(kind: BudgetKind, limit: number): never {
    const err = new TemplateBudgetError(kind, limit);
    if (!this.exceeded) this.exceeded = err;
    throw err;
  }
  refuse(err: WorkBudgetExceededError): never {
    if (!this.exceeded) this.exceeded = err;
    throw err;
  }
  /** Adds work measured elsewhere (characters a regular expression read); the next step checks the limit. */
  charge(steps: number): void {
    this.steps += steps;
  }
  step(): void {
    if (++this.steps > this.limits.maxSteps) this.fail("steps", this.limits.maxSteps);
  }
  loop(): void {
    if (++this.loops > this.limits.maxLoopIterations) this.fail("loopIterations", this.limits.maxLoopIterations);
    if (++this.steps > this.limits.maxSteps) this.fail("steps", this.limits.maxSteps);
  }
  enter(): void {
    if (++this.depth > this.limits.maxCallDepth) {
      this.depth--;
      this.fail("callDepth", this.limits.maxCallDepth);
    }
  }
  leave(): void {
    this.depth--;
  }
  failMemory(subject: string, limit: number, unit: string): never {
    const err = new MemoryBudgetExceededError(subject, limit, unit);
    if (!this.exceeded) this.exceeded = err;
    throw err;
  }
  failNesting(subject: string, limit: number): never {
    const err = new NestingTooDeepError(subject, limit);
    if (!this.exceeded) this.exceeded = err;
    throw err;
  }
  /** Counts `bytes` more created by the render. */
  allocate(bytes: number, subject: string): void {
    this.allocated += bytes;
    if (this.allocated > this.limits.maxAllocatedBytes)
      this.failMemory(subject, this.limits.maxAllocatedBytes, "bytes created by one render");
  }
  /** A string of `length` code units is about to be (or was just) built. */
  string(length: number, subject: string): void {
    if (length > this.limits.maxOutputBytes) this.failMemory(subject, this.limits.maxOutputBytes, "characters");
    this.allocate(length, subject);
  }
  /** Refuses a string of `length` code units before it is built, without counting it (its result is measured after). */
  stringCap(length: number, subject: string): void {
    if (length > this.limits.maxOutputBytes) this.failMemory(subject, this.limits.maxOutputBytes, "characters");
  }
  /** An array grows to `length` elements by `added`. */
  arrayGrowth(length: number, added: number, subject: string): void {
    if (length > this.limits.maxArrayLength) this.failMemory(subject, this.limits.maxArrayLength, "array elements");
    this.allocate(added * BYTES_PER_ARRAY_ELEMENT, subject);
  }
  /** An array of `length` elements is about to be (or was just) built. */
  array(length: number, subject: string): void {
    if (length > this.limits.maxArrayLength) this.failMemory(subject, this.limits.maxArrayLength, "array elements");
    this.allocate(length * BYTES_PER_ARRAY_ELEMENT, subject);
  }
  checkLength(s: unknown): void {
    if (typeof s === "string" && s.length > this.limits.maxOutputBytes)
      this.fail("outputBytes", this.limits.maxOutputBytes);
  }
}

export const unlimited: TemplateLimits = {
  maxSteps: Number.POSITIVE_INFINITY,
  maxLoopIterations: Number.POSITIVE_INFINITY,
  maxOutputBytes: Number.POSITIVE_INFINITY,
  maxCallDepth: Number.POSITIVE_INFINITY,
  maxIncludeDepth: Number.POSITIVE_INFINITY,
  maxAllocatedBytes: Number.POSITIVE_INFINITY,
  maxArrayLength: Number.POSITIVE_INFINITY,
};
