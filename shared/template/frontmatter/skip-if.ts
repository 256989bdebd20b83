import { sortedJson } from "../kgen/sorted-json";

export type SkipIfCondition =
  | { kind: "truthy"; path: readonly string[]; negate: boolean }
  | { kind: "compare"; path: readonly string[]; operator: "==" | "!="; value: string };

const PATH = "[A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*";
const TRUTHY = new RegExp(`^\\s*(!?)\\s*(${PATH})\\s*$`);
const COMPARE = new RegExp(`^\\s*(${PATH})\\s*(==|!=)\\s*((?:[^=\\s].*?)?)\\s*$`, "s");
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** Thrown for a `skipIf` expression outside the grammar `var`, `!var`, `var==value`, `var!=value`. */
export class SkipIfSyntaxError extends Error {
  readonly field = "skipIf";
  constructor(message: string) {
    super(message);
    this.name = "SkipIfSyntaxError";
  }
}

/**
 * Parses `var`, `!var`, `var==value` or `var!=value`; `var` may be a dotted path
 * (`options.skip`), `value` may be quoted with `'` or `"` (quotes are removed, no escapes).
 */
export function parseSkipIf(expression: string): SkipIfCondition {
  if (typeof expression !== "string") throw new SkipIfSyntaxError("skipIf must be a string");
  const compare = COMPARE.exec(expression);
  let condition: SkipIfCondition;
  if (compare !== null) {
    let value = compare[3] ?? "";
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1);
    }
    condition = {
      kind: "compare",
      path: (compare[1] as string).split("."),
      operator: compare[2] as "==" | "!=",
      value,
    };
  } else {
    const truthy = TRUTHY.exec(expression);
    if (truthy === null) {
      throw new SkipIfSyntaxError(
        `skipIf "${expression}" is not one of: var, !var, var==value, var!=value (var is a name or dotted path)`,
      );
    }
    condition = { kind: "truthy", path: (truthy[2] as string).split("."), negate: truthy[1] === "!" };
  }
  const forbidden = condition.path.find((segment) => FORBIDDEN.has(segment));
  if (forbidden !== undefined) throw new SkipIfSyntaxError(`skipIf may not read "${forbidden}"`);
  return condition;
}

function lookup(context: unknown, path: readonly string[]): unknown {
  let current = context;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function asComparable(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return sortedJson(value);
  return String(value);
}

/**
 * Whether a template should be skipped for this context. `var` skips when the value is truthy
 * (JavaScript truthiness, as nunjucks' `{% if var %}`: `0`, `""`, `false`, null and missing are
 * falsy, empty arrays are truthy); `!var` when it is falsy; `var==value` when the value's text
 * (`String(v)`, "" for null or missing, canonical JSON for objects) equals `value`; `var!=value`
 * when it differs. Only own properties are read.
 */
export function evaluateSkipIf(expression: string | SkipIfCondition | undefined, context: unknown): boolean {
  if (expression === undefined || expression === "") return false;
  const condition = typeof expression === "string" ? parseSkipIf(expression) : expression;
  const value = lookup(context, condition.path);
  if (condition.kind === "truthy") return condition.negate ? !value : Boolean(value);
  const equal = asComparable(value) === condition.value;
  return condition.operator === "==" ? equal : !equal;
}
