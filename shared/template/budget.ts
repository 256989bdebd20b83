import type { WorkBudgetExceededError } from "../errors/budget-errors";
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
}

export const defaultLimits: TemplateLimits = {
  maxSteps: 5_000_000,
  maxLoopIterations: 1_000_000,
  maxOutputBytes: 16 * 1024 * 1024,
  maxCallDepth: 200,
  maxIncludeDepth: 32,
};

/** Per-render counters; one instance is shared by a render and everything it includes or imports. */
export class RenderBudget {
  steps = 0;
  loops = 0;
  depth = 0;
  /** The first refusal of this render: nunjucks rewraps errors thrown inside a render, this one is reported. */
  exceeded: TemplateBudgetError | WorkBudgetExceededError | null = null;
  constructor(readonly limits: TemplateLimits) {}

  reset(): void {
    this.steps = 0;
    this.loops = 0;
    this.depth = 0;
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
};
