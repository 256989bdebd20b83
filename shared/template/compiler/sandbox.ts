// What a sandboxed template may not reach: denied member and variable names, functions that print as native
// code, methods bound and measured against the render's budget, string patterns on the linear regex engine.
import type { RenderBudget } from "../budget";
import { callMeasured } from "../memory-guard";
import nunjucksModules from "../nunjucks-modules.cjs";
import { templateRegexFromValue } from "../template-regexp";
import type { Activation } from "./activation";
import type { Runtime, SafeStringClass, TemplateValue } from "./nunjucks-types";

const runtimeModule: Runtime = nunjucksModules.runtime;
const SafeString: SafeStringClass = runtimeModule.SafeString;
/** nunjucks' own memberLookup: an engine that wraps it gets the wrapper called instead of the inlined lookups. */
export const originalMemberLookup = runtimeModule.memberLookup;

/** Member and variable names a sandboxed template may never read or write. */
export const deniedKeys: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);
/** Members of functions a sandboxed template may never read. */
export const deniedFunctionKeys: ReadonlySet<unknown> = new Set(["caller", "arguments", "callee"]);
/** Names that only exist on Object.prototype: a sandboxed template reads them only if context or globals define them. */
export const objectProtoKeys: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

const nativeCodeText = "function () { [native code] }";
export const printsAsNativeCode = (): string => nativeCodeText;
/** What a function handed to a sandboxed template prints: never the engine's source. */
export function concealSource<T extends object>(fn: T): T {
  Object.defineProperty(fn, "toString", { value: printsAsNativeCode, enumerable: false });
  return fn;
}

/**
 * A method of a value as a sandboxed template sees it: bound (so it prints as native code, not the
 * engine's source), and for strings and arrays measured against the render's memory budget.
 */
export function methodOf(entry: Activation, obj: TemplateValue, key: TemplateValue): TemplateValue {
  const runtime = entry.runtime;
  if (runtime.memberLookup !== originalMemberLookup) return runtime.memberLookup(obj, key);
  const method = obj[key];
  if (typeof obj === "string" || Array.isArray(obj)) return callMeasured.bind(null, entry.budget, obj, method, key);
  // a SafeString inherits String.prototype: its methods work on its text
  if (obj instanceof SafeString) return callMeasured.bind(null, entry.budget, String(obj), method, key);
  return method.bind(obj);
}

/** String methods that turn a non-RegExp argument into a backtracking RegExp, with the flags they give it. */
export const stringPatternMethods: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [String.prototype.match, ""],
  [String.prototype.matchAll, "g"],
  [String.prototype.search, ""],
]);
export const stringPatternMethodNames: ReadonlySet<string> = new Set(["match", "matchAll", "search"]);

/**
 * `text.match(pattern)` and friends with the pattern on the linear engine; in the sandbox, measured like
 * every other string method. Bound, so the function a template sees prints as native code.
 */
export function linearPatternMethod(
  entry: Activation,
  text: TemplateValue,
  method: (...args: unknown[]) => unknown,
  name: unknown,
  sandbox: boolean,
): (...args: unknown[]) => unknown {
  return callLinearPattern.bind(null, entry.budget, text, method, name, sandbox);
}
function callLinearPattern(
  budget: RenderBudget,
  text: TemplateValue,
  method: (...args: unknown[]) => unknown,
  name: unknown,
  sandbox: boolean,
  pattern: unknown,
  ...rest: unknown[]
): unknown {
  const regex = templateRegexFromValue(pattern, stringPatternMethods.get(method) as string, budget);
  if (!sandbox) return method.call(text, regex, ...rest);
  return callMeasured(budget, text instanceof SafeString ? String(text) : text, method, name, regex, ...rest);
}
