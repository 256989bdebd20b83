// biome-ignore-all lint/suspicious/noExplicitAny: nunjucks' AST and runtime are untyped JavaScript.
// biome-ignore-all lint/complexity/useArrowFunction: generated-code signatures need `function`.
// Closure compiler: turns nunjucks' AST into a tree of closures that behave like the JavaScript text
// nunjucks' compiler.js would generate (see ../shared/notes/nunjucks-semantics.md), without eval.

import { RenderBudget, unlimited } from "./budget";
import { TemplateSecurityError } from "./errors";
import {
  callMeasured,
  checkCoercion,
  checkTextInput,
  filterCheck,
  filterPrintsInput,
  measureResult,
} from "./memory-guard";
import nunjucksModules from "./nunjucks-modules.cjs";
import { compileTemplateRegex, TemplateRegExp, templateRegexFromValue } from "./template-regexp";

const { lib, nodes, parser, transformer, runtime: runtimeModule } = nunjucksModules;
const { Frame, SafeString } = runtimeModule;
const origContextOrFrameLookup = runtimeModule.contextOrFrameLookup;
const origMemberLookup = runtimeModule.memberLookup;
const hasOwn = Object.prototype.hasOwnProperty;
const libEscape: (s: string) => string = lib.escape;
const needsEscape = /[&"'<>\\]/;
/** lib.escape, skipped when the string holds none of the characters it replaces (same result, much cheaper). */
function escapeHtml(s: string): string {
  return needsEscape.test(s) ? libEscape(s) : s;
}

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
const deniedFunctionKeys = new Set(["caller", "arguments", "callee"]);
const nativeCodeText = "function () { [native code] }";
const printsAsNativeCode = () => nativeCodeText;
/** What a function handed to a sandboxed template prints: never the engine's source. */
export function concealSource<T extends object>(fn: T): T {
  Object.defineProperty(fn, "toString", { value: printsAsNativeCode, enumerable: false });
  return fn;
}
/**
 * A method of a value as a sandboxed template sees it: bound (so it prints as native code, not the
 * engine's source), and for strings and arrays measured against the render's memory budget.
 */
function methodOf(f: Act, obj: any, k: any): any {
  const rt = f.runtime;
  if (rt.memberLookup !== origMemberLookup) return rt.memberLookup(obj, k);
  const method = obj[k];
  if (typeof obj === "string" || Array.isArray(obj)) return callMeasured.bind(null, f.budget, obj, method, k);
  // a SafeString inherits String.prototype: its methods work on its text
  if (obj instanceof SafeString) return callMeasured.bind(null, f.budget, String(obj), method, k);
  return method.bind(obj);
}
const objectProtoKeys = new Set(Object.getOwnPropertyNames(Object.prototype));

/** String methods that turn a non-RegExp argument into a backtracking RegExp, with the flags they give it. */
const stringPatternMethods: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [String.prototype.match, ""],
  [String.prototype.matchAll, "g"],
  [String.prototype.search, ""],
]);
const stringPatternMethodNames = new Set(["match", "matchAll", "search"]);

/**
 * `text.match(pattern)` and friends with the pattern on the linear engine; in the sandbox, measured like
 * every other string method. Bound, so the function a template sees prints as native code.
 */
function linearPatternMethod(
  f: Act,
  text: any,
  method: any,
  name: unknown,
  sandbox: boolean,
): (...args: any[]) => unknown {
  return callLinearPattern.bind(null, f.budget, text, method, name, sandbox);
}
function callLinearPattern(
  budget: RenderBudget,
  text: any,
  method: any,
  name: unknown,
  sandbox: boolean,
  pattern: unknown,
  ...rest: unknown[]
): unknown {
  const regex = templateRegexFromValue(pattern, stringPatternMethods.get(method) as string, budget);
  if (!sandbox) return method.call(text, regex, ...rest);
  return callMeasured(budget, text instanceof SafeString ? String(text) : text, method, name, regex, ...rest);
}

export interface CompileOptions {
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  tags?: unknown;
  sandbox: boolean;
}

type Fn = (a: Act) => any;
type Run = (a: Act) => void;

/** Compile-time description of one JavaScript function of the generated code (owner of `var` slots). */
class FnDesc {
  n = 0;
  constructor(readonly parent: FnDesc | null) {}
  alloc(): Slot {
    return { fn: this, i: this.n++ };
  }
}
interface Slot {
  fn: FnDesc;
  i: number;
}

/**
 * One activation of a JavaScript function of the generated code: its `var`s (`s`), its `cb`, and `f`, the
 * activation of the enclosing root or b_<block> function, which alone fills the fields after `cb` (that
 * function's `frame`, `lineno`, `colno`, `parentTemplate`…). One class for both keeps property access monomorphic.
 */
export class Act {
  // Plain assignments in the constructor, not class-field initialisers: V8 allocates these faster.
  declare readonly s: any[];
  declare readonly p: Act | null;
  declare f: Act;
  declare cb: any;
  declare env: any;
  declare context: any;
  declare frame: any;
  declare runtime: any;
  declare inst: Instance;
  declare lineno: number;
  declare colno: number;
  declare parentTemplate: any;
  declare budget: RenderBudget;
  /** budget.limits.maxOutputBytes, read on every buffer append. */
  declare maxOut: number;
  constructor(n: number, p: Act | null, f: Act | null, cb: any) {
    const s = new Array(n);
    for (let i = 0; i < n; i++) s[i] = undefined;
    (this as any).s = s;
    (this as any).p = p;
    this.f = f ?? this;
    this.cb = cb;
    this.env = null;
    this.context = null;
    this.frame = null;
    this.runtime = null;
    this.inst = null as unknown as Instance;
    this.lineno = 0;
    this.colno = 0;
    this.parentTemplate = null;
    this.budget = null as unknown as RenderBudget;
    this.maxOut = 0;
  }
}
export type FnState = Act;

function rootActivation(
  n: number,
  cb: any,
  env: any,
  context: any,
  frame: any,
  runtime: any,
  inst: Instance,
  lineno: number,
  colno: number,
): Act {
  const a = new Act(n, null, null, cb);
  a.env = env;
  a.context = context;
  a.frame = frame;
  a.runtime = runtime;
  a.inst = inst;
  a.lineno = lineno;
  a.colno = colno;
  const budget: RenderBudget = context.kgenBudget ?? fallbackBudget();
  a.budget = budget;
  a.maxOut = budget.limits.maxOutputBytes;
  return a;
}

let sharedUnlimited: RenderBudget | null = null;
function fallbackBudget(): RenderBudget {
  if (!sharedUnlimited) sharedUnlimited = new RenderBudget(unlimited);
  return sharedUnlimited;
}

/** Per-Template instance: template name and its own block functions (identity matters for `super`). */
export interface Instance {
  name: string | undefined;
  blocks: Record<string, any>;
}

export interface Program {
  instantiate(name: string | undefined): Record<string, any>;
}

function jsSyntaxError(message: string): SyntaxError {
  return new SyntaxError(message);
}

const SKIP = Symbol("skip");

function depthTo(target: FnDesc, cur: FnDesc): number {
  let d = 0;
  for (let f: FnDesc | null = cur; f; f = f.parent, d++) if (f === target) return d;
  return -1;
}

function actAt(a: Act, d: number): Act {
  let x: Act = a;
  for (let k = 0; k < d; k++) x = x.p as Act;
  return x;
}

const LIT_EMPTY = { typename: "__const", value: "" };
const LIT_TRUE = { typename: "__const", value: true };

/** Node types whose emitted JavaScript is an operator expression (see tokens()). */
const operatorTypes = new Set([
  "Or",
  "And",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Mod",
  "Concat",
  "Compare",
  "Not",
  "Neg",
  "Pos",
  "Is",
]);
const compareOps = new Set(["==", "===", "!=", "!==", "<", ">", "<=", ">="]);
const binPrec: Record<string, number> = {
  "||": 3,
  "&&": 4,
  "==": 8,
  "!=": 8,
  "===": 8,
  "!==": 8,
  "<": 9,
  ">": 9,
  "<=": 9,
  ">=": 9,
  "+": 11,
  "-": 11,
  "*": 12,
  "/": 12,
  "%": 12,
};

type Tok = { t: 0; node: any } | { t: 1; op: string } | { t: 2; op: string };

const expressionTypes = [
  "Literal",
  "Symbol",
  "Group",
  "Array",
  "Dict",
  "FunCall",
  "Caller",
  "Filter",
  "LookupVal",
  "Compare",
  "InlineIf",
  "In",
  "Is",
  "And",
  "Or",
  "Not",
  "Add",
  "Concat",
  "Sub",
  "Mul",
  "Div",
  "FloorDiv",
  "Mod",
  "Pow",
  "Neg",
  "Pos",
  "NodeList",
];

const expressionCtorOk = new WeakSet<object>();

const asyncPointTypes = new Set([
  "FilterAsync",
  "IfAsync",
  "AsyncEach",
  "AsyncAll",
  "CallExtensionAsync",
  "Import",
  "FromImport",
  "Include",
  "Extends",
  "Block",
  "Super",
]);

function fail(msg: string, lineno?: number, colno?: number): never {
  throw new lib.TemplateError(
    msg,
    lineno === undefined ? undefined : lineno + 1,
    colno === undefined ? undefined : colno + 1,
  );
}

class ClosureCompiler {
  cur: FnDesc = new FnDesc(null);
  buffer: Slot | null = null;
  inBlock = false;
  /** Set when compiling an untransformed AST: async nodes then abort to the exact (transformer) path. */
  optimisticAsyncFilters: string[] | null = null;
  sawBlock = false;
  constructor(readonly opts: CompileOptions) {}

  // ---- helpers ----
  assertType(node: any, ...names: string[]): void {
    if (node && node.typename === "Slice") return;
    for (const n of names) if (node instanceof nodes[n]) return;
    fail(`assertType: invalid type: ${node.typename}`, node.lineno, node.colno);
  }
  /** assertType(node, ...expressionTypes), memoised per node class. */
  assertExpression(node: any): void {
    const ctor = node?.constructor;
    if (ctor && expressionCtorOk.has(ctor)) return;
    this.assertType(node, ...expressionTypes);
    if (ctor) expressionCtorOk.add(ctor);
  }
  deny(name: unknown): void {
    if (this.opts.sandbox && typeof name === "string" && deniedKeys.has(name)) throw new TemplateSecurityError(name);
  }
  getter(slot: Slot): Fn {
    const d = depthTo(slot.fn, this.cur);
    const i = slot.i;
    if (d === 0) return (a) => a.s[i];
    if (d === 1) return (a) => (a.p as Act).s[i];
    if (d < 0)
      return () => {
        throw new ReferenceError(`t_${i} is not defined`);
      };
    return (a) => actAt(a, d).s[i];
  }
  setter(slot: Slot): (a: Act, v: any) => void {
    const d = depthTo(slot.fn, this.cur);
    const i = slot.i;
    if (d === 0)
      return (a, v) => {
        a.s[i] = v;
      };
    if (d < 0)
      return () => {
        throw new ReferenceError(`t_${i} is not defined`);
      };
    return (a, v) => {
      actAt(a, d).s[i] = v;
    };
  }
  /** `buffer += v` on the current buffer variable, with the output budget. */
  appender(): (a: Act, v: any) => void {
    const slot = this.buffer as Slot;
    const d = depthTo(slot.fn, this.cur);
    const i = slot.i;
    if (d === 0)
      return (a, v) => {
        const s = a.s;
        const r = s[i] + v;
        if (r.length > a.f.maxOut) a.f.budget.checkLength(r);
        s[i] = r;
      };
    return (a, v) => {
      const s = actAt(a, d).s;
      const r = s[i] + v;
      if (r.length > a.f.maxOut) a.f.budget.checkLength(r);
      s[i] = r;
    };
  }
  withFn<T>(body: () => T): { fn: FnDesc; result: T } {
    const saved = this.cur;
    const fn = new FnDesc(saved);
    this.cur = fn;
    try {
      return { fn, result: body() };
    } finally {
      this.cur = saved;
    }
  }

  // ---- regions (the code between a `{` and its scope closers) ----
  flatten(list: any[], out: any[] = []): any[] {
    for (const n of list) {
      if (n && n.typename === "NodeList") this.flatten(n.children, out);
      else out.push(n);
    }
    return out;
  }
  hasAsyncPoint(children: any[]): boolean {
    return this.flatten(children).some((n) => asyncPointTypes.has(n.typename));
  }
  region(children: any[], frame: any, tail?: () => Run): Run {
    return this.seq(this.flatten(children), 0, frame, tail);
  }
  /** A body compiled without _withScopedSyntax: an async point there breaks the generated JavaScript. */
  unscoped(children: any[], frame: any, breakAfter = false): Run {
    const flat = this.flatten(children);
    if (flat.some((n) => asyncPointTypes.has(n.typename)))
      throw jsSyntaxError(breakAfter ? "Illegal break statement" : "missing ) after argument list");
    return this.seq(flat, 0, frame);
  }
  seq(list: any[], start: number, frame: any, tail?: () => Run): Run {
    const ops: Run[] = [];
    for (let j = start; j < list.length; j++) {
      const node = list[j];
      if (asyncPointTypes.has(node.typename)) {
        ops.push(this.asyncPoint(node, frame, () => this.seq(list, j + 1, frame, tail)));
        return runAll(ops);
      }
      if (node.typename === "Output" && !this.opts.throwOnUndefined) {
        // consecutive Output nodes become one closure appending every part in order
        const parts: any[] = [];
        let k = j;
        while (k < list.length && list[k].typename === "Output") parts.push(...list[k++].children);
        j = k - 1;
        const fused = this.fusedOutput(parts, frame);
        if (fused) ops.push(fused);
        continue;
      }
      const op = this.stmt(node, frame);
      if (op !== SKIP) ops.push(op as Run);
    }
    if (tail) ops.push(tail());
    return runAll(ops);
  }
  /** `function(err, res) { if (err) { cb(err); return; } …rest }`: the rest of the region runs in the callback. */
  callback(resultBind: ((slot: Slot) => void) | null, rest: () => Run): (a: Act) => (err: any, res?: any) => void {
    const { fn, result } = this.withFn(() => {
      const slot = this.cur.alloc();
      if (resultBind) resultBind(slot);
      return { slot, run: rest() };
    });
    const n = fn.n;
    const ri = result.slot.i;
    const run = result.run;
    return (a) =>
      function (err: any, res?: any) {
        if (err) {
          a.cb(err);
          return;
        }
        const b = new Act(n, a, a.f, a.cb);
        b.s[ri] = res;
        run(b);
      };
  }

  // ---- statements ----
  stmt(node: any, frame: any): Run | typeof SKIP {
    switch (node.typename) {
      case "Output":
        return this.output(node, frame);
      case "Set":
        return this.set(node, frame);
      case "Switch":
        return this.switch(node, frame);
      case "If":
        return this.if(node, frame);
      case "For":
        return this.for(node, frame);
      case "Macro":
        return this.macroStmt(node, frame);
      case "CallExtension":
        return this.callExtension(node, frame);
      case "TemplateData": {
        if (!node.value) return SKIP;
        const v = node.value;
        const app = this.appender();
        return (a) => app(a, v);
      }
      default:
        if (expressionTypes.includes(node.typename)) {
          const ev = this.expr(node, frame);
          return (a) => {
            ev(a);
          };
        }
        return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
    }
  }

  asyncPoint(node: any, frame: any, rest: () => Run): Run {
    if (this.optimisticAsyncFilters && untransformedAsync.has(node.typename)) throw NEEDS_TRANSFORM;
    switch (node.typename) {
      case "FilterAsync":
        return this.filterAsync(node, frame, rest);
      case "IfAsync":
        return this.ifAsync(node, frame, rest);
      case "AsyncEach":
        return this.asyncLoop(node, frame, false, rest);
      case "AsyncAll":
        return this.asyncLoop(node, frame, true, rest);
      case "CallExtensionAsync":
        return this.callExtensionAsync(node, frame, rest);
      case "Import":
        return this.import(node, frame, rest);
      case "FromImport":
        return this.fromImport(node, frame, rest);
      case "Include":
        return this.include(node, frame, rest);
      case "Extends":
        return this.extends(node, frame, rest);
      case "Block":
        return this.block(node, rest);
      case "Super":
        return this.super(node, frame, rest);
      default:
        return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
    }
  }

  /** Output children (TemplateData constants and expressions) appended by one closure: same order, same values. */
  fusedOutput(children: any[], frame: any): Run | null {
    const consts: (string | null)[] = [];
    const evs: (Fn | null)[] = [];
    const syms: Record<number, string> = {};
    for (const child of children) {
      if (child instanceof nodes.TemplateData) {
        if (!child.value) continue;
        const last = consts.length - 1;
        if (last >= 0 && consts[last] !== null) consts[last] += child.value;
        else {
          consts.push(child.value);
          evs.push(null);
        }
      } else if (
        child.typename === "Symbol" &&
        !frame.lookup(child.value) &&
        !(this.opts.sandbox && (deniedKeys.has(child.value) || objectProtoKeys.has(child.value)))
      ) {
        // `{{ name }}`: the context/frame lookup is inlined below instead of calling a symbol closure
        consts.push(null);
        evs.push(null);
        syms[consts.length - 1] = child.value;
      } else {
        consts.push(null);
        evs.push(this.expr(child, frame));
      }
    }
    const n = consts.length;
    if (n === 0) return null;
    const symNames: (string | null)[] = consts.map((_, k) => syms[k] ?? null);
    const slot = this.buffer as Slot;
    const d = depthTo(slot.fn, this.cur);
    const bi = slot.i;
    if (n === 1 && consts[0] !== null) {
      const c = consts[0];
      return (a) => {
        const s = d === 0 ? a.s : actAt(a, d).s;
        const r = s[bi] + c;
        if (r.length > a.f.maxOut) a.f.budget.checkLength(r);
        s[bi] = r;
      };
    }
    // No expression can append to this buffer while the parts are evaluated (macros, captures and content
    // arguments have their own), so the parts are concatenated locally and stored once.
    return (a) => {
      const f = a.f;
      const s = d === 0 ? a.s : actAt(a, d).s;
      let out = s[bi];
      for (let k = 0; k < n; k++) {
        const c = consts[k];
        if (c !== null) out += c;
        else {
          const ev = evs[k] as Fn | null;
          let v: any;
          if (ev !== null) v = ev(a);
          else {
            const name = symNames[k] as string;
            const rt = f.runtime;
            if (rt.contextOrFrameLookup === origContextOrFrameLookup) {
              for (let fr = f.frame; fr; fr = fr.parent) {
                v = fr.variables[name];
                if (v !== undefined) break;
              }
              if (v === undefined) {
                const context = f.context;
                const vars = context.ctx;
                const globals = context.env.globals;
                v = name in globals && !(name in vars) ? globals[name] : vars[name];
              }
            } else v = rt.contextOrFrameLookup(f.context, f.frame, name);
          }
          if (v === undefined || v === null) v = "";
          else if (typeof v === "object") checkCoercion(f.budget, v);
          if (f.env.opts.autoescape && !(v instanceof SafeString)) v = escapeHtml(v.toString());
          out += v;
        }
      }
      if (out.length > f.maxOut) f.budget.checkLength(out);
      s[bi] = out;
    };
  }

  output(node: any, frame: any): Run {
    const ops: Run[] = [];
    for (const child of node.children) {
      if (child instanceof nodes.TemplateData) {
        if (child.value) {
          const v = child.value;
          const app = this.appender();
          ops.push((a) => app(a, v));
        }
        continue;
      }
      const ev = this.expr(child, frame);
      const app = this.appender();
      const slot = this.buffer as Slot;
      if (!this.opts.throwOnUndefined && depthTo(slot.fn, this.cur) === 0) {
        // the common case, with the buffer append inlined
        const bi = slot.i;
        ops.push((a) => {
          let v = ev(a);
          const f = a.f;
          if (v === undefined || v === null) v = "";
          else if (typeof v === "object") checkCoercion(f.budget, v);
          if (f.env.opts.autoescape && !(v instanceof SafeString)) v = escapeHtml(v.toString());
          const s = a.s;
          const r = s[bi] + v;
          if (r.length > f.maxOut) f.budget.checkLength(r);
          s[bi] = r;
        });
        continue;
      }
      if (this.opts.throwOnUndefined) {
        const ln = node.lineno;
        const cn = node.colno;
        ops.push((a) => {
          let v = a.f.runtime.ensureDefined(ev(a), ln, cn);
          v = v !== undefined && v !== null ? v : "";
          if (typeof v === "object") checkCoercion(a.f.budget, v);
          if (a.f.env.opts.autoescape && !(v instanceof SafeString)) v = escapeHtml(v.toString());
          app(a, v);
        });
      } else {
        ops.push((a) => {
          let v = ev(a);
          if (v === undefined || v === null) v = "";
          else if (typeof v === "object") checkCoercion(a.f.budget, v);
          if (a.f.env.opts.autoescape && !(v instanceof SafeString)) v = escapeHtml(v.toString());
          app(a, v);
        });
      }
    }
    return runAll(ops);
  }

  set(node: any, frame: any): Run {
    const slots: Slot[] = [];
    const names: string[] = [];
    for (const target of node.targets) {
      const name = target.value;
      this.deny(name);
      let id = frame.lookup(name);
      if (id === null || id === undefined) id = this.cur.alloc();
      slots.push(id);
      names.push(name);
    }
    const value = node.value ? this.expression(node.value, frame) : this.expr(node.body, frame);
    const setters = slots.map((s) => this.setter(s));
    const getters = slots.map((s) => this.getter(s));
    return (a) => {
      const v = value(a);
      for (let k = setters.length - 1; k >= 0; k--) (setters[k] as any)(a, v);
      for (let k = 0; k < names.length; k++) {
        const name = names[k] as string;
        const id = (getters[k] as Fn)(a);
        const f = a.f;
        f.frame.set(name, id, true);
        if (f.frame.topLevel) f.context.setVariable(name, id);
        if (name.charAt(0) !== "_") {
          if (f.frame.topLevel) f.context.addExport(name, id);
        }
      }
    };
  }

  switch(node: any, frame: any): Run {
    const subject = this.expr(node.expr, frame);
    const cases = node.cases.map((c: any) => ({
      cond: this.expr(c.cond, frame),
      body: this.unscoped(c.body.children, frame, c.body.children.length > 0),
      brk: c.body.children.length > 0,
    }));
    const dflt = node.default ? this.unscoped([node.default], frame) : null;
    return (a) => {
      const v = subject(a);
      let start = -1;
      for (let k = 0; k < cases.length; k++) {
        if (cases[k].cond(a) === v) {
          start = k;
          break;
        }
      }
      if (start === -1) {
        if (dflt) dflt(a);
        return;
      }
      for (let k = start; k < cases.length; k++) {
        cases[k].body(a);
        if (cases[k].brk) return;
      }
      if (dflt) dflt(a);
    };
  }

  if(node: any, frame: any): Run {
    const cond = this.expression(node.cond, frame);
    const body = this.region([node.body], frame);
    const els = node.else_ ? this.region([node.else_], frame) : null;
    return (a) => {
      if (cond(a)) body(a);
      else if (els) els(a);
    };
  }

  /** The seven `frame.set("loop.x", …)` of _emitLoopBindings, without re-splitting the names. */
  loopBindings(a: Act, i: any, len: any): void {
    const vars = a.f.frame.variables;
    let loop = vars.loop;
    if (!loop) loop = vars.loop = {};
    loop.index = i + 1;
    loop.index0 = i;
    loop.revindex = len - i;
    loop.revindex0 = len - i - 1;
    loop.first = i === 0;
    loop.last = i === len - 1;
    loop.length = len;
  }

  for(node: any, outerFrame: any): Run {
    const sI = this.cur.alloc();
    const sLen = this.cur.alloc();
    const sArr = this.cur.alloc();
    const frame = outerFrame.push();
    const arrExpr = this.expression(node.arr, frame);
    const getLen = this.getter(sLen);
    const lenI = sLen.i;
    const iI = sI.i;
    const arrI = sArr.i;
    const bindings = this.loopBindings;
    let loopRun: Run;
    if (node.name instanceof nodes.Array) {
      const tids = node.name.children.map((child: any) => {
        this.deny(child.value);
        const tid = this.cur.alloc();
        frame.set(child.value, tid);
        return tid.i;
      });
      const arrBody = this.region([node.body], frame);
      const key = node.name.children[0];
      const val = node.name.children[1];
      const sK = this.cur.alloc();
      const sV = this.cur.alloc();
      frame.set(key.value, sK);
      frame.set(val.value, sV);
      const objBody = this.region([node.body], frame);
      const keyName = key.value;
      const valName = val.value;
      const kI = sK.i;
      const vI = sV.i;
      const nNames = tids.length;
      loopRun = (a) => {
        const s = a.s;
        const arr = s[arrI];
        const budget = a.f.budget;
        if (lib.isArray(arr)) {
          s[lenI] = arr.length;
          for (s[iI] = 0; s[iI] < arr.length; s[iI]++) {
            budget.loop();
            const i = s[iI];
            for (let u = 0; u < nNames; u++) {
              s[tids[u]] = arr[i][u];
              a.f.frame.set("[object Object]", arr[i][u]);
            }
            bindings(a, i, s[lenI]);
            arrBody(a);
          }
        } else {
          s[iI] = -1;
          s[lenI] = lib.keys(arr).length;
          for (const k in arr) {
            budget.loop();
            s[kI] = k;
            s[iI]++;
            s[vI] = arr[k];
            a.f.frame.set(keyName, s[kI]);
            a.f.frame.set(valName, s[vI]);
            bindings(a, s[iI], s[lenI]);
            objBody(a);
          }
        }
      };
    } else {
      this.deny(node.name.value);
      const sV = this.cur.alloc();
      frame.set(node.name.value, sV);
      const body = this.region([node.body], frame);
      const name = node.name.value;
      const vI = sV.i;
      loopRun = (a) => {
        const s = a.s;
        const arr = s[arrI];
        const budget = a.f.budget;
        s[lenI] = arr.length;
        for (s[iI] = 0; s[iI] < arr.length; s[iI]++) {
          budget.loop();
          const i = s[iI];
          s[vI] = arr[i];
          a.f.frame.variables[name] = s[vI];
          bindings(a, i, s[lenI]);
          body(a);
        }
      };
    }
    const els = node.else_ ? this.unscoped([node.else_], frame) : null;
    return (a) => {
      a.f.frame = a.f.frame.push();
      const s = a.s;
      s[arrI] = arrExpr(a);
      if (s[arrI]) {
        s[arrI] = a.f.runtime.fromIterator(s[arrI]);
        loopRun(a);
      }
      if (els && !getLen(a)) els(a);
      a.f.frame = a.f.frame.pop();
    };
  }

  asyncLoop(node: any, outerFrame: any, parallel: boolean, rest: () => Run): Run {
    const sArr = this.cur.alloc();
    const frame = outerFrame.push();
    const arrExpr = this.expression(node.arr, frame);
    const multi = node.name instanceof nodes.Array;
    const names: string[] = multi ? node.name.children.map((n: any) => n.value) : [node.name.value];
    for (const n of names) this.deny(n);
    const dimen = multi ? names.length : 1;
    // body: function(name…, i, len, next)
    const body = this.withFn(() => {
      const nameSlots = names.map((n) => {
        const s = this.cur.alloc();
        return { n, s };
      });
      const sI = this.cur.alloc();
      const sLen = this.cur.alloc();
      const sNext = this.cur.alloc();
      for (const { n, s } of nameSlots) frame.set(n, s);
      let buf: Slot | null = null;
      const savedBuffer = this.buffer;
      if (parallel) {
        buf = this.cur.alloc();
        this.buffer = buf;
      }
      const bufI = buf ? buf.i : -1;
      const run = this.region([node.body], frame, () => {
        const getI = this.getter(sI);
        const getNext = this.getter(sNext);
        const getBuf = buf ? this.getter(buf) : null;
        return (a) => {
          if (getBuf) getNext(a)(getI(a), getBuf(a));
          else getNext(a)(getI(a));
        };
      });
      this.buffer = savedBuffer;
      return { nameSlots, sI, sLen, sNext, run, bufI };
    });
    const bn = body.fn.n;
    const { nameSlots, sI, sLen, sNext, run, bufI } = body.result;
    const bindings = this.loopBindings;
    const arrGet = this.getter(sArr);
    // completion callback, then else, then frame.pop(), then the rest of the region
    const done = this.callback(null, () => {
      const ops: Run[] = [];
      if (parallel) {
        const app = this.appender();
        const out = { fn: this.cur, i: 0 };
        const getOut = this.getter(out);
        ops.push((a) => app(a, getOut(a)));
      }
      if (node.else_) {
        const els = this.unscoped([node.else_], frame);
        const getArr = this.getter(sArr);
        ops.push((a) => {
          if (!getArr(a).length) els(a);
        });
      }
      ops.push((a) => {
        a.f.frame = a.f.frame.pop();
      });
      ops.push(rest());
      return runAll(ops);
    });
    const arrI = sArr.i;
    return (a) => {
      a.f.frame = a.f.frame.push();
      a.s[arrI] = a.f.runtime.fromIterator(arrExpr(a));
      const iter = function (...args: any[]) {
        a.f.budget.loop();
        const b = new Act(bn, a, a.f, a.cb);
        for (let k = 0; k < nameSlots.length; k++) b.s[(nameSlots[k] as any).s.i] = args[k];
        b.s[sI.i] = args[dimen];
        b.s[sLen.i] = args[dimen + 1];
        b.s[sNext.i] = args[dimen + 2];
        if (bufI >= 0) b.s[bufI] = "";
        for (let k = 0; k < nameSlots.length; k++) a.f.frame.set((nameSlots[k] as any).n, args[k]);
        bindings(b, args[dimen], args[dimen + 1]);
        run(b);
      };
      const rt = a.f.runtime;
      (parallel ? rt.asyncAll : rt.asyncEach)(arrGet(a), dimen, iter, done(a));
    };
  }

  /** Shared by Macro and Caller: returns a factory `(a) => macroFunction`. */
  macroFactory(node: any, frame: any | undefined): Fn {
    const keepFrame = frame !== undefined;
    const args: any[] = [];
    let kwargs: any = null;
    node.args.children.forEach((arg: any, i: number) => {
      if (i === node.args.children.length - 1 && arg instanceof nodes.Dict) kwargs = arg;
      else {
        this.assertType(arg, "Symbol");
        args.push(arg);
      }
    });
    const argNames = args.map((n) => n.value as string);
    const kwargNames = (kwargs?.children || []).map((n: any) => n.key.value as string);
    for (const n of [...argNames, ...kwargNames]) this.deny(n);
    const currFrame = keepFrame ? frame.push(true) : new Frame();
    const savedBuffer = this.buffer;
    const compiled = this.withFn(() => {
      const argSlots = argNames.map((n) => {
        const s = this.cur.alloc();
        currFrame.set(n, s);
        return s.i;
      });
      const kwSlot = this.cur.alloc().i;
      const defaults = (kwargs?.children || []).map((pair: any) => ({
        name: pair.key.value as string,
        value: this.expression(pair.value, currFrame),
      }));
      const buf = this.cur.alloc();
      this.buffer = buf;
      const body = this.region([node.body], currFrame);
      return { argSlots, kwSlot, defaults, bufI: buf.i, body };
    });
    this.buffer = savedBuffer;
    const n = compiled.fn.n;
    const { argSlots, kwSlot, defaults, bufI, body } = compiled.result;
    const nArgs = argSlots.length;
    const defaultNames: string[] = defaults.map((d: any) => d.name);
    const defaultValues: Fn[] = defaults.map((d: any) => d.value);
    const nDefaults = defaultNames.length;
    const sandbox = this.opts.sandbox;
    return (a) => {
      const f = a.f;
      const macro = runtimeModule.makeMacro(argNames, kwargNames, function (this: any) {
        // biome-ignore lint/complexity/noArguments: makeMacro applies the mapped argument list.
        const params = arguments;
        const b = new Act(n, a, f, a.cb);
        const s = b.s;
        for (let k = 0; k < nArgs; k++) s[argSlots[k] as number] = params[k];
        s[kwSlot] = params[nArgs];
        const budget = f.budget;
        budget.step();
        budget.enter();
        try {
          const callerFrame = f.frame;
          f.frame = keepFrame ? f.frame.push(true) : new f.runtime.Frame();
          if (!s[kwSlot]) s[kwSlot] = {};
          const kw = s[kwSlot];
          // frame.set(name, v) without resolveUp on a dot-free name is `frame.variables[name] = v`
          const vars = f.frame.variables;
          if (hasOwn.call(kw, "caller")) vars.caller = kw.caller;
          for (let k = 0; k < nArgs; k++) vars[argNames[k] as string] = s[argSlots[k] as number];
          for (let k = 0; k < nDefaults; k++) {
            const name = defaultNames[k] as string;
            const fv = f.frame.variables;
            const current = s[kwSlot];
            fv[name] = hasOwn.call(current, name) ? current[name] : (defaultValues[k] as Fn)(b);
          }
          s[bufI] = "";
          body(b);
          f.frame = keepFrame ? f.frame.pop() : callerFrame;
          return new f.runtime.SafeString(s[bufI]);
        } finally {
          budget.leave();
        }
      });
      // an own toString (a cached shape transition, cheaper than binding or defineProperty per call block)
      if (sandbox) macro.toString = printsAsNativeCode;
      return macro;
    };
  }

  macroStmt(node: any, frame: any): Run {
    const factory = this.macroFactory(node, undefined);
    const name = node.name.value;
    this.deny(name);
    const slot = this.cur.alloc();
    frame.set(name, slot);
    const setSlot = this.setter(slot);
    if (frame.parent) {
      return (a) => {
        const m = factory(a);
        setSlot(a, m);
        a.f.frame.set(name, m);
      };
    }
    const exported = name.charAt(0) !== "_";
    return (a) => {
      const m = factory(a);
      setSlot(a, m);
      if (exported) a.f.context.addExport(name);
      a.f.context.setVariable(name, m);
    };
  }

  /** The template-name expression of _compileGetTemplate (the flags are passed by each caller at run time). */
  getTemplate(node: any, frame: any): Fn {
    return this.expression(node.template, frame);
  }

  /**
   * The shape `import` and `from … import` share: getTemplate callback → getExported callback → `body`,
   * whose first slot holds the exported names (`bindExports` names that slot in the frame, if given).
   */
  private withExports(node: any, frame: any, bindExports: ((slot: Slot) => void) | null, body: () => Run): Run {
    const tmplExpr = this.getTemplate(node, frame);
    const withContext = node.withContext;
    const outer = this.callback(null, () => {
      const getTmpl = this.getter({ fn: this.cur, i: 0 });
      const inner = this.callback(bindExports, body);
      return (a) => {
        const t = getTmpl(a);
        withBudget(a, () => {
          if (withContext) t.getExported(a.f.context.getVariables(), a.f.frame, inner(a));
          else t.getExported(inner(a));
        });
      };
    });
    return (a) => {
      a.f.env.getTemplate(tmplExpr(a), false, a.f.inst.name, false, outer(a));
    };
  }

  import(node: any, frame: any, rest: () => Run): Run {
    const target = node.target.value;
    this.deny(target);
    const topLevel = !frame.parent;
    return this.withExports(
      node,
      frame,
      (slot) => frame.set(target, slot),
      () => {
        const get = this.getter({ fn: this.cur, i: 0 });
        const r = rest();
        return (a) => {
          const v = get(a);
          if (topLevel) a.f.context.setVariable(target, v);
          else a.f.frame.set(target, v);
          r(a);
        };
      },
    );
  }

  fromImport(node: any, frame: any, rest: () => Run): Run {
    return this.withExports(node, frame, null, () => {
      const getImported = this.getter({ fn: this.cur, i: 0 });
      const binds: { name: string; alias: string; slot: Slot }[] = [];
      for (const nameNode of node.names.children) {
        let name: string;
        let alias: string;
        if (nameNode instanceof nodes.Pair) {
          name = nameNode.key.value;
          alias = nameNode.value.value;
        } else {
          name = nameNode.value;
          alias = name;
        }
        this.deny(name);
        this.deny(alias);
        const slot = this.cur.alloc();
        frame.set(alias, slot);
        binds.push({ name, alias, slot });
      }
      const topLevel = !frame.parent;
      const r = rest();
      return (a) => {
        const imported = getImported(a);
        for (const b of binds) {
          if (hasOwn.call(imported, b.name)) a.s[b.slot.i] = imported[b.name];
          else {
            a.cb(new Error(`cannot import '${b.name}'`));
            return;
          }
          if (topLevel) a.f.context.setVariable(b.alias, a.s[b.slot.i]);
          else a.f.frame.set(b.alias, a.s[b.slot.i]);
        }
        r(a);
      };
    });
  }

  include(node: any, frame: any, rest: () => Run): Run {
    const tmplExpr = this.getTemplate(node, frame);
    const ignoreMissing = !!node.ignoreMissing;
    const app = this.appender();
    const { fn, result } = this.withFn(() => rest());
    const n = fn.n;
    return (a) => {
      const f = a.f;
      const tasks = [
        function (callback: any) {
          f.env.getTemplate(tmplExpr(a), false, f.inst.name, ignoreMissing, function (err: any, t: any) {
            if (err) {
              a.cb(err);
              return;
            }
            callback(null, t);
          });
        },
        function (template: any, callback: any) {
          withBudget(a, () =>
            template.render(f.context.getVariables(), f.frame, function (err: any, res: any) {
              if (err) {
                a.cb(err);
                return;
              }
              callback(null, res);
            }),
          );
        },
        function (res: any, callback: any) {
          app(a, res);
          callback(null);
        },
      ];
      f.env.waterfall(tasks, function () {
        result(new Act(n, a, f, a.cb));
      });
    };
  }

  extends(node: any, frame: any, rest: () => Run): Run {
    const tmplExpr = this.getTemplate(node, frame);
    const cb = this.callback(null, () => {
      const get = this.getter({ fn: this.cur, i: 0 });
      const r = rest();
      return (a) => {
        const t = get(a);
        a.f.parentTemplate = t;
        for (const k in t.blocks) a.f.context.addBlock(k, t.blocks[k]);
        r(a);
      };
    });
    return (a) => {
      a.f.env.getTemplate(tmplExpr(a), true, a.f.inst.name, false, cb(a));
    };
  }

  block(node: any, rest: () => Run): Run {
    this.sawBlock = true;
    const name = node.name.value;
    const inBlock = this.inBlock;
    const cb = this.callback(null, () => {
      const app = this.appender();
      const get = this.getter({ fn: this.cur, i: 0 });
      const r = rest();
      return (a) => {
        app(a, get(a));
        r(a);
      };
    });
    return (a) => {
      const f = a.f;
      const fn = !inBlock && f.parentTemplate ? noopBlock : f.context.getBlock(name);
      fn(f.env, f.context, f.frame, f.runtime, cb(a));
    };
  }

  super(node: any, frame: any, rest: () => Run): Run {
    const name = node.blockName.value;
    const id = node.symbol.value;
    const cb = this.callback(
      (slot) => frame.set(id, slot),
      () => {
        const slot = { fn: this.cur, i: 0 };
        const get = this.getter(slot);
        const setS = this.setter(slot);
        const r = rest();
        return (a) => {
          setS(a, a.f.runtime.markSafe(get(a)));
          r(a);
        };
      },
    );
    return (a) => {
      const f = a.f;
      f.context.getSuper(f.env, name, f.inst.blocks[name], f.frame, f.runtime, cb(a));
    };
  }

  filterAsync(node: any, frame: any, rest: () => Run): Run {
    this.assertType(node.name, "Symbol");
    const name = node.name.value;
    this.deny(name);
    const args = node.args.children.map((c: any) => this.expr(c, frame));
    const cb = this.callback((slot) => frame.set(node.symbol.value, slot), rest);
    return (a) => {
      const filter = a.f.env.getFilter(name);
      const vals = args.map((e: Fn) => e(a));
      vals.push(cb(a));
      filter.apply(a.f.context, vals);
    };
  }

  ifAsync(node: any, frame: any, rest: () => Run): Run {
    const cond = this.expression(node.cond, frame);
    // (function(cb) { if … { body; cb() } else { else; cb() } })(function(err) { if (err) …; rest })
    const inner = this.withFn(() => {
      const tailCb = (): Run => (a) => a.cb();
      const body = this.region([node.body], frame, tailCb);
      const els = node.else_ ? this.region([node.else_], frame, tailCb) : (a: Act) => a.cb();
      return { body, els };
    });
    const n = inner.fn.n;
    const { body, els } = inner.result;
    const { fn: cfn, result: restRun } = this.withFn(() => {
      this.cur.alloc();
      return rest();
    });
    const cn = cfn.n;
    return (a) => {
      const after = function (err: any) {
        if (err) {
          a.cb(err);
          return;
        }
        restRun(new Act(cn, a, a.f, a.cb));
      };
      const b = new Act(n, a, a.f, after);
      if (cond(b)) body(b);
      else els(b);
    };
  }

  contentArgs(node: any, frame: any): Fn[] {
    return node.contentArgs.map((arg: any) => {
      if (!arg) return () => null;
      const savedBuffer = this.buffer;
      const compiled = this.withFn(() => {
        const buf = this.cur.alloc();
        this.buffer = buf;
        const run = this.region([arg], frame, () => {
          const get = this.getter(buf);
          return (a) => a.cb(null, get(a));
        });
        return { bufI: buf.i, run };
      });
      this.buffer = savedBuffer;
      const n = compiled.fn.n;
      const { bufI, run } = compiled.result;
      return (a: Act) =>
        function (cb: any) {
          if (!cb)
            cb = function (err: any) {
              if (err) throw err;
            };
          const b = new Act(n, a, a.f, cb);
          b.s[bufI] = "";
          run(b);
          return b.s[bufI];
        };
    });
  }

  extensionArgs(node: any, frame: any): Fn[] {
    const args = node.args;
    if (args && !(args instanceof nodes.NodeList))
      fail("compileCallExtension: arguments must be a NodeList, use `parser.parseSignature`");
    return args ? args.children.map((c: any) => this.expression(c, frame)) : [];
  }

  callExtension(node: any, frame: any): Run {
    const autoescape = typeof node.autoescape === "boolean" ? node.autoescape : true;
    const extName = node.extName;
    const prop = node.prop;
    const args = this.extensionArgs(node, frame);
    const content = this.contentArgs(node, frame);
    const app = this.appender();
    return (a) => {
      const f = a.f;
      const ext = f.env.getExtension(extName);
      const vals: any[] = [f.context];
      for (const e of args) vals.push(e(a));
      for (const c of content) vals.push(c(a));
      const r = ext[prop](...vals);
      app(a, f.runtime.suppressValue(r, autoescape && f.env.opts.autoescape));
    };
  }

  callExtensionAsync(node: any, frame: any, rest: () => Run): Run {
    const autoescape = typeof node.autoescape === "boolean" ? node.autoescape : true;
    const extName = node.extName;
    const prop = node.prop;
    const args = this.extensionArgs(node, frame);
    const content = this.contentArgs(node, frame);
    const cb = this.callback(null, () => {
      const app = this.appender();
      const get = this.getter({ fn: this.cur, i: 0 });
      const r = rest();
      return (a) => {
        app(a, a.f.runtime.suppressValue(get(a), autoescape && a.f.env.opts.autoescape));
        r(a);
      };
    });
    return (a) => {
      const f = a.f;
      const ext = f.env.getExtension(extName);
      const vals: any[] = [f.context];
      for (const e of args) vals.push(e(a));
      for (const c of content) vals.push(c(a));
      vals.push(cb(a));
      ext[prop](...vals);
    };
  }

  // ---- expressions ----
  /** `_compileExpression`: type-checked expression. */
  expression(node: any, frame: any): Fn {
    this.assertExpression(node);
    return this.expr(node, frame);
  }

  /** Any emitted expression text, re-associated with JavaScript precedence. */
  expr(node: any, frame: any): Fn {
    // an atomic node (anything tokens() would emit as a single operand) needs no re-association
    if (!operatorTypes.has(node.typename)) return this.atom(node, frame);
    const toks: Tok[] = [];
    this.tokens(node, toks);
    if (toks.length === 1) return this.atom((toks[0] as any).node, frame);
    const cursor = { toks, pos: 0 };
    return this.parseBinary(cursor, 0, frame);
  }
  parseUnary(c: { toks: Tok[]; pos: number }, frame: any): Fn {
    const t = c.toks[c.pos++] as Tok;
    if (t.t === 2) {
      const inner = this.parseUnary(c, frame);
      if (t.op === "!") return (a) => !inner(a);
      if (t.op === "-")
        return (a) => {
          const v = inner(a);
          if (isObject(v)) checkCoercion(a.f.budget, v);
          return -v;
        };
      return (a) => {
        const v = inner(a);
        if (isObject(v)) checkCoercion(a.f.budget, v);
        return +v;
      };
    }
    if (t.t === 0) return this.atom(t.node, frame);
    throw jsSyntaxError(`Unexpected token '${t.op}'`);
  }
  parseBinary(c: { toks: Tok[]; pos: number }, minPrec: number, frame: any): Fn {
    let left = this.parseUnary(c, frame);
    while (c.pos < c.toks.length) {
      const t = c.toks[c.pos] as Tok;
      if (t.t !== 1) break;
      const p = binPrec[t.op] as number;
      if (p < minPrec) break;
      c.pos++;
      const right = this.parseBinary(c, p + 1, frame);
      left = binop(t.op, left, right);
    }
    return left;
  }

  tokensBin(op: string, l: any, r: any, out: Tok[]): void {
    this.tokens(l, out);
    out.push({ t: 1, op });
    this.tokens(r, out);
  }
  tokensPre(op: string, target: any, out: Tok[]): void {
    const last = out[out.length - 1];
    if (last && last.t === 2 && last.op === op && op !== "!")
      throw jsSyntaxError("Invalid left-hand side expression in prefix operation");
    out.push({ t: 2, op });
    this.tokens(target, out);
  }
  tokens(node: any, out: Tok[]): void {
    const binary = BINARY_OPERATORS.get(node.typename);
    if (binary) {
      this.tokensBin(binary, node.left, node.right, out);
      return;
    }
    switch (node.typename) {
      case "Concat":
        this.tokens(node.left, out);
        out.push({ t: 1, op: "+" }, { t: 0, node: LIT_EMPTY }, { t: 1, op: "+" });
        this.tokens(node.right, out);
        return;
      case "Compare":
        this.tokens(node.expr, out);
        for (const op of node.ops) {
          if (!compareOps.has(op.type)) throw jsSyntaxError("Unexpected identifier 'undefined'");
          out.push({ t: 1, op: op.type });
          this.tokens(op.expr, out);
        }
        return;
      case "Not":
      case "Neg":
      case "Pos":
        this.tokensPre(PREFIX_OPERATORS.get(node.typename) as string, node.target, out);
        return;
      case "Is":
        out.push({ t: 0, node: { typename: "__isCall", is: node } }, { t: 1, op: "===" }, { t: 0, node: LIT_TRUE });
        return;
      default:
        out.push({ t: 0, node });
    }
  }

  atom(node: any, frame: any): Fn {
    switch (node.typename) {
      case "__const": {
        const v = node.value;
        return () => v;
      }
      case "__isCall":
        return this.isCall(node.is, frame);
      case "Literal":
      case "TemplateData":
        return this.literal(node);
      case "Symbol":
        return this.symbol(node, frame);
      case "LookupVal":
        return this.lookupVal(node, frame);
      case "FunCall":
        return this.funCall(node, frame);
      case "Filter":
        return this.filter(node, frame);
      case "Group":
        return this.group(node, frame);
      case "Array": {
        const items = node.children.map((c: any) => this.expr(c, frame));
        return (a) => items.map((e: Fn) => e(a));
      }
      case "Dict":
        return this.dict(node, frame, false);
      case "KeywordArgs":
        return this.dict(node, frame, true);
      case "In": {
        const l = this.expr(node.left, frame);
        const r = this.expr(node.right, frame);
        return (a) => a.f.runtime.inOperator(l(a), r(a));
      }
      case "Pow": {
        const l = this.expr(node.left, frame);
        const r = this.expr(node.right, frame);
        return (a) => l(a) ** r(a);
      }
      case "FloorDiv": {
        const inner = this.expr({ typename: "Div", left: node.left, right: node.right }, frame);
        return (a) => Math.floor(inner(a));
      }
      case "InlineIf": {
        const c = this.expr(node.cond, frame);
        const b = this.expr(node.body, frame);
        const e = node.else_ !== null ? this.expr(node.else_, frame) : () => "";
        return (a) => (c(a) ? b(a) : e(a));
      }
      case "Caller": {
        const factory = this.macroFactory(node, frame);
        return factory;
      }
      case "Capture":
        return this.capture(node, frame);
      case "Slice": {
        const parts = [node.start, node.stop, node.step].map((p: any) => this.expression(p, frame));
        return (a) => {
          let v: any;
          for (const p of parts) v = p(a);
          return v;
        };
      }
      case "NodeList": {
        const items = node.children.map((c: any) => this.expr(c, frame));
        if (items.length === 0) throw jsSyntaxError("Unexpected token ')'");
        return (a) => {
          let v: any;
          for (const e of items) v = e(a);
          return v;
        };
      }
      default:
        if (node.typename === "Div") {
          const l = this.expr(node.left, frame);
          const r = this.expr(node.right, frame);
          return (a) => l(a) / r(a);
        }
        return fail(`compile: Cannot compile node: ${node.typename}`, node.lineno, node.colno);
    }
  }

  literal(node: any): Fn {
    const v = node.value;
    if (v instanceof RegExp) {
      const compiled = compileTemplateRegex(v.source, v.flags);
      return (a) => new TemplateRegExp(compiled, a.f.budget);
    }
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      const text = v.toString();
      return () => text;
    }
    return () => v;
  }

  symbol(node: any, frame: any): Fn {
    const name = node.value;
    const v = frame.lookup(name);
    if (v) return this.getter(v);
    const sandbox = this.opts.sandbox;
    if (sandbox) this.deny(name);
    const guardProto = sandbox && objectProtoKeys.has(name);
    return (a) => {
      const f = a.f;
      const rt = f.runtime;
      if (rt.contextOrFrameLookup === origContextOrFrameLookup) {
        // runtime.contextOrFrameLookup, then Context.lookup, inlined
        for (let fr = f.frame; fr; fr = fr.parent) {
          const val = fr.variables[name];
          if (val !== undefined) return val;
        }
        const context = f.context;
        const vars = context.ctx;
        const globals = context.env.globals;
        if (guardProto && !hasOwn.call(vars, name) && !hasOwn.call(globals, name))
          throw new TemplateSecurityError(name);
        if (name in globals && !(name in vars)) return globals[name];
        return vars[name];
      }
      return rt.contextOrFrameLookup(f.context, f.frame, name);
    };
  }

  lookupVal(node: any, frame: any): Fn {
    const target = this.expression(node.target, frame);
    const sandbox = this.opts.sandbox;
    if (node.val && node.val.typename === "Slice") {
      const parts = [node.val.start, node.val.stop, node.val.step].map((p: any) => this.expression(p, frame));
      return (a) => {
        const t = target(a);
        const vals = parts.map((p: Fn) => p(a));
        return a.f.runtime.memberLookup(t, ...vals);
      };
    }
    if (
      node.val instanceof nodes.Literal &&
      (typeof node.val.value === "string" || typeof node.val.value === "number")
    ) {
      const k = node.val.value;
      if (sandbox && typeof k === "string") this.deny(k);
      const fnDenied = sandbox && deniedFunctionKeys.has(String(k));
      const patternMethod = stringPatternMethodNames.has(String(k));
      return (a) => {
        const obj = target(a);
        if (obj === undefined || obj === null) return undefined;
        if (fnDenied && typeof obj === "function") throw new TemplateSecurityError(String(k));
        const v = obj[k];
        if (typeof v === "function") {
          if (patternMethod && stringPatternMethods.has(v)) return linearPatternMethod(a.f, obj, v, k, sandbox);
          return sandbox ? methodOf(a.f, obj, k) : a.f.runtime.memberLookup(obj, k);
        }
        if (a.f.runtime.memberLookup !== origMemberLookup) return a.f.runtime.memberLookup(obj, k);
        return v;
      };
    }
    const key = this.expression(node.val, frame);
    return (a) => {
      const obj = target(a);
      let k = key(a);
      const rt = a.f.runtime;
      if (sandbox) {
        if (typeof k !== "number") {
          k = typeof k === "symbol" ? k : String(k);
          if (deniedKeys.has(k)) throw new TemplateSecurityError(k);
          if (typeof obj === "function" && deniedFunctionKeys.has(k)) throw new TemplateSecurityError(k);
        }
      }
      if (obj === undefined || obj === null) return undefined;
      const v = obj[k];
      if (typeof v === "function" && stringPatternMethods.has(v)) return linearPatternMethod(a.f, obj, v, k, sandbox);
      if (typeof v === "function" && sandbox) return methodOf(a.f, obj, k);
      // without the sandbox, runtime.memberLookup's wrapper (and its printed source) is nunjucks' own
      if (typeof v === "function" || rt.memberLookup !== origMemberLookup) return rt.memberLookup(obj, k);
      return v;
    };
  }

  nodeName(node: any): string {
    switch (node.typename) {
      case "Symbol":
        return node.value;
      case "FunCall":
        return `the return value of (${this.nodeName(node.name)})`;
      case "LookupVal":
        return `${this.nodeName(node.target)}["${this.nodeName(node.val)}"]`;
      case "Literal":
        return node.value.toString();
      default:
        return "--expression--";
    }
  }

  funCall(node: any, frame: any): Fn {
    // 1-based, as TemplateError reports positions (nunjucks' generated code keeps the parser's 0-based ones)
    const ln = node.lineno + 1;
    const cn = node.colno + 1;
    const callee = this.expression(node.name, frame);
    const label = this.nodeName(node.name);
    const args = node.args.children.map((c: any) => this.expr(c, frame));
    const nArgs = args.length;
    return (a) => {
      const f = a.f;
      f.lineno = ln;
      f.colno = cn;
      const fn = callee(a);
      const vals = new Array(nArgs);
      for (let k = 0; k < nArgs; k++) vals[k] = args[k](a);
      f.budget.step();
      return f.runtime.callWrap(fn, label, f.context, vals);
    };
  }

  filter(node: any, frame: any): Fn {
    this.assertType(node.name, "Symbol");
    const name = node.name.value;
    if (this.optimisticAsyncFilters && this.optimisticAsyncFilters.indexOf(name) !== -1) throw NEEDS_TRANSFORM;
    this.deny(name);
    const args = node.args.children.map((c: any) => this.expr(c, frame));
    const n = args.length;
    const subject = `${name} filter`;
    const check = filterCheck(name);
    const printsInput = filterPrintsInput(name);
    // where a failing filter is reported (nunjucks leaves the position of the last call), 1-based
    const ln = node.lineno + 1;
    const cn = node.colno + 1;
    if (n === 1 && !check) {
      const a0 = args[0];
      return (a) => {
        const f = a.f;
        const filt = f.env.getFilter(name);
        const v0 = a0(a);
        f.budget.step();
        f.lineno = ln;
        f.colno = cn;
        if (printsInput && (isObject(v0) || (typeof v0 === "string" && v0.length * 3 > f.maxOut)))
          checkTextInput(f.budget, v0, subject);
        const result = filt.call(f.context, v0);
        if (typeof result === "string" || Array.isArray(result)) measureResult(f.budget, result, subject);
        return result;
      };
    }
    return (a) => {
      const f = a.f;
      const filt = f.env.getFilter(name);
      const vals = new Array(n);
      for (let k = 0; k < n; k++) vals[k] = args[k](a);
      f.budget.step();
      f.lineno = ln;
      f.colno = cn;
      const v0 = vals[0];
      if (printsInput && (isObject(v0) || (typeof v0 === "string" && v0.length * 3 > f.maxOut)))
        checkTextInput(f.budget, v0, subject);
      const counted = check ? check(f.budget, vals) : false;
      const result = filt.apply(f.context, vals);
      if (!counted && (typeof result === "string" || Array.isArray(result))) measureResult(f.budget, result, subject);
      return result;
    };
  }

  isCall(node: any, frame: any): Fn {
    const right = node.right.name ? node.right.name.value : node.right.value;
    this.deny(right);
    const left = this.expr(node.left, frame);
    let argEv: Fn | null = null;
    if (node.right.args) {
      const children = node.right.args.children;
      if (children.length === 1) argEv = this.expr(children[0], frame);
      else if (children.length > 1) {
        // compileIs writes the argument list without commas.
        if (children.every((c: any) => c.typename === "Literal" && typeof c.value === "number")) {
          const text = children.map((c: any) => c.value.toString()).join("");
          if (!/^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) throw jsSyntaxError("Unexpected number");
          const v = Number(text);
          argEv = () => v;
        } else throw jsSyntaxError("missing ) after argument list");
      }
    }
    if (argEv) {
      const ae = argEv;
      return (a) => {
        const test = a.f.env.getTest(right);
        const l = left(a);
        return test.call(a.f.context, l, ae(a));
      };
    }
    return (a) => a.f.env.getTest(right).call(a.f.context, left(a));
  }

  group(node: any, frame: any): Fn {
    const items = node.children.map((c: any) => this.expr(c, frame));
    if (items.length === 0) throw jsSyntaxError("Unexpected token ')'");
    if (items.length === 1) return items[0];
    return (a) => {
      let v: any;
      for (const e of items) v = e(a);
      return v;
    };
  }

  dict(node: any, frame: any, keywords: boolean): Fn {
    const pairs = node.children.map((pair: any) => {
      let key = pair.key;
      if (key instanceof nodes.Symbol) key = { value: key.value };
      else if (!(key instanceof nodes.Literal && typeof key.value === "string"))
        fail("compilePair: Dict keys must be strings or names", key.lineno, key.colno);
      if (key.value === "__proto__") this.deny("__proto__");
      return { k: key.value as string, v: this.expression(pair.value, frame) };
    });
    const proto = pairs.some((p: any) => p.k === "__proto__");
    const keys: string[] = pairs.map((p: any) => p.k);
    const vals: Fn[] = pairs.map((p: any) => p.v);
    const n = keys.length;
    return (a) => {
      const o: any = {};
      for (let i = 0; i < n; i++) {
        const k = keys[i] as string;
        if (proto && k === "__proto__") Object.setPrototypeOf(o, (vals[i] as Fn)(a));
        else o[k] = (vals[i] as Fn)(a);
      }
      return keywords ? a.f.runtime.makeKeywordArgs(o) : o;
    };
  }

  capture(node: any, frame: any): Fn {
    const savedBuffer = this.buffer;
    const compiled = this.withFn(() => {
      const buf = this.cur.alloc();
      this.buffer = buf;
      return { bufI: buf.i, run: this.region([node.body], frame) };
    });
    this.buffer = savedBuffer;
    const n = compiled.fn.n;
    const { bufI, run } = compiled.result;
    return (a) => {
      const b = new Act(n, a, a.f, a.cb);
      b.s[bufI] = "";
      run(b);
      return b.s[bufI];
    };
  }

  // ---- root and blocks ----
  root(node: any): { root: RootFactory; blocks: [string, RootFactory][] } {
    const frame = new Frame();
    const rootFn = this.withFn(() => {
      const out = this.cur.alloc();
      this.buffer = out;
      // without a top-level async point the final callback runs inline in the root function (no tail closure)
      if (!this.hasAsyncPoint(node.children)) return { run: this.region(node.children, frame), inlineTail: true };
      const run = this.region(node.children, frame, () => {
        const getOut = this.getter(out);
        return (a) => {
          const f = a.f;
          if (f.parentTemplate) f.parentTemplate.rootRenderFunc(f.env, f.context, f.frame, f.runtime, a.cb);
          else a.cb(null, getOut(a));
        };
      });
      return { run, inlineTail: false };
    });
    const root = makeFunction(rootFn.fn.n, rootFn.result.run, node.lineno, node.colno, false, rootFn.result.inlineTail);
    this.inBlock = true;
    const blockNames: string[] = [];
    const blocks: [string, RootFactory][] = [];
    const optimistic = this.optimisticAsyncFilters !== null;
    for (const block of optimistic && !this.sawBlock ? [] : node.findAll(nodes.Block)) {
      // untransformed AST: transformer.liftSuper for this block now (same pre-order as its walk)
      if (optimistic) liftSuperInBlock(block);
      const name = block.name.value;
      if (blockNames.indexOf(name) !== -1) throw new Error(`Block "${name}" defined more than once.`);
      blockNames.push(name);
      const tmpFrame = new Frame();
      const compiled = this.withFn(() => {
        const out = this.cur.alloc();
        this.buffer = out;
        if (!this.hasAsyncPoint([block.body])) return { run: this.region([block.body], tmpFrame), inlineTail: true };
        const run = this.region([block.body], tmpFrame, () => {
          const getOut = this.getter(out);
          return (a) => a.cb(null, getOut(a));
        });
        return { run, inlineTail: false };
      });
      blocks.push([
        name,
        makeFunction(compiled.fn.n, compiled.result.run, block.lineno, block.colno, true, compiled.result.inlineTail),
      ]);
    }
    return { root, blocks };
  }
}

type RootFactory = (inst: Instance) => (env: any, context: any, frame: any, runtime: any, cb: any) => void;

function makeFunction(
  n: number,
  run: Run,
  lineno: number,
  colno: number,
  isBlock: boolean,
  inlineTail: boolean,
): RootFactory {
  return (inst) =>
    function (env: any, context: any, frame: any, runtime: any, cb: any) {
      const f = rootActivation(n, cb, env, context, frame, runtime, inst, lineno, colno);
      const budget = f.budget as RenderBudget;
      let entered = false;
      try {
        budget.enter();
        entered = true;
        if (isBlock) f.frame = frame.push(true);
        f.s[0] = "";
        run(f);
        if (inlineTail) {
          // the generated tail: `if (parentTemplate) parentTemplate.rootRenderFunc(…) else cb(null, output)`
          if (!isBlock && f.parentTemplate) f.parentTemplate.rootRenderFunc(f.env, f.context, f.frame, f.runtime, cb);
          else cb(null, f.s[0]);
        }
      } catch (e) {
        if (entered) {
          entered = false;
          budget.depth--;
        }
        cb(runtime.handleError(e, f.lineno, f.colno));
      }
      if (entered) budget.depth--;
    };
}

function noopBlock(_e: any, _c: any, _f: any, _r: any, cb: any) {
  cb("");
}

const isObject = (v: unknown): boolean => typeof v === "object" && v !== null;

function binop(op: string, l: Fn, r: Fn): Fn {
  // operators that turn their operands into primitives join an array first: its text is checked before
  switch (op) {
    case "||":
      return (a) => l(a) || r(a);
    case "&&":
      return (a) => l(a) && r(a);
    case "+":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        const v = x + y;
        if (typeof v === "string" && v.length > a.f.maxOut) a.f.budget.checkLength(v);
        return v;
      };
    case "-":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x - y;
      };
    case "*":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x * y;
      };
    case "/":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x / y;
      };
    case "%":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x % y;
      };
    case "==":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        // biome-ignore lint/suspicious/noDoubleEquals: nunjucks emits JavaScript's loose equality.
        return x == y;
      };
    case "!=":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        // biome-ignore lint/suspicious/noDoubleEquals: nunjucks emits JavaScript's loose equality.
        return x != y;
      };
    case "===":
      return (a) => l(a) === r(a);
    case "!==":
      return (a) => l(a) !== r(a);
    case "<":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x < y;
      };
    case ">":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x > y;
      };
    case "<=":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x <= y;
      };
    case ">=":
      return (a) => {
        const x = l(a);
        const y = r(a);
        if (isObject(x) || isObject(y)) checkCoercion(a.f.budget, x, y);
        return x >= y;
      };
    default:
      throw jsSyntaxError(`Unexpected token '${op}'`);
  }
}

function runAll(ops: Run[]): Run {
  switch (ops.length) {
    case 0:
      return () => {};
    case 1:
      return ops[0] as Run;
    case 2: {
      const [x, y] = ops as [Run, Run];
      return (a) => {
        x(a);
        y(a);
      };
    }
    case 3: {
      const [x, y, z] = ops as [Run, Run, Run];
      return (a) => {
        x(a);
        y(a);
        z(a);
      };
    }
    default:
      return (a) => {
        for (let k = 0; k < ops.length; k++) (ops[k] as Run)(a);
      };
  }
}

/** Hands the render's budget to a template about to be rendered by include/import (read synchronously at its entry). */
export let pendingBudget: { budget: RenderBudget; includeDepth: number } | null = null;
export function takePendingBudget(): { budget: RenderBudget; includeDepth: number } | null {
  const p = pendingBudget;
  pendingBudget = null;
  return p;
}
/** nunjucks' binary and prefix operator nodes and the JavaScript operators its compiler emits for them. */
const BINARY_OPERATORS = new Map([
  ["Or", "||"],
  ["And", "&&"],
  ["Add", "+"],
  ["Sub", "-"],
  ["Mul", "*"],
  ["Div", "/"],
  ["Mod", "%"],
]);
const PREFIX_OPERATORS = new Map([
  ["Not", "!"],
  ["Neg", "-"],
  ["Pos", "+"],
]);

function withBudget(a: Act, call: () => void): void {
  const ctx = a.f.context;
  const budget: RenderBudget | undefined = ctx.kgenBudget ?? undefined;
  if (!budget) {
    call();
    return;
  }
  const depth = (ctx.kgenIncludeDepth ?? 0) + 1;
  if (depth > budget.limits.maxIncludeDepth) budget.fail("includeDepth", budget.limits.maxIncludeDepth);
  pendingBudget = { budget, includeDepth: depth };
  try {
    call();
  } finally {
    pendingBudget = null;
  }
}

/** Parses, transforms and closure-compiles a template source; the result is instantiated per Template. */
export function compileProgram(
  src: string,
  asyncFilters: string[],
  extensions: any[],
  name: string | undefined,
  opts: CompileOptions,
): Program {
  const preprocessors = (extensions || []).map((ext) => ext.preprocess).filter((f) => !!f);
  const processed = preprocessors.reduce((s: string, p: (s: string) => string) => p(s), src);
  if (!extensions || extensions.length === 0) {
    // Optimistic path: compile the parsed AST directly, lifting super() per block; any async node, or any
    // error, falls back to the exact path below on a fresh parse (which then raises nunjucks' own error).
    const parsed = parser.parse(processed, extensions, opts);
    const c = new ClosureCompiler(opts);
    c.optimisticAsyncFilters = asyncFilters;
    let built: ReturnType<ClosureCompiler["root"]> | null = null;
    try {
      built = c.root(parsed);
    } catch {
      built = null;
    }
    if (built) return programOf(built);
  }
  const parsed = parser.parse(processed, extensions, opts);
  // transformer.transform only matters for async filters/tags and super(); do liftSuper alone when that is all it would do
  const found = scanTree(parsed, asyncFilters);
  const ast =
    found & FOUND_ASYNC
      ? transformer.transform(parsed, asyncFilters, name)
      : found & FOUND_BLOCK
        ? liftSuper(parsed)
        : parsed;
  return programOf(new ClosureCompiler(opts).root(ast));
}

function programOf({ root, blocks }: ReturnType<ClosureCompiler["root"]>): Program {
  return {
    instantiate(instName) {
      const inst: Instance = { name: instName, blocks: {} };
      const props: Record<string, any> = {};
      for (const [bname, factory] of blocks) {
        const fn = factory(inst);
        inst.blocks[bname] = fn;
        props[`b_${bname}`] = fn;
      }
      props.root = root(inst);
      return props;
    },
  };
}

/** node.fields per node class (nunjucks defines some as getters returning a fresh array). */
const fieldsCache = new Map<unknown, string[]>();
function fieldsOf(node: any): string[] {
  const ctor = node.constructor;
  let fields = fieldsCache.get(ctor);
  if (!fields) {
    fields = node.fields as string[];
    fieldsCache.set(ctor, fields);
  }
  return fields;
}

const FOUND_ASYNC = 1;
const FOUND_BLOCK = 2;

/** What transformer.transform would act on: async filters, async extensions and tags (1), blocks (2). */
function scanTree(node: any, asyncFilters: string[]): number {
  if (!(node instanceof nodes.Node)) return 0;
  const t = node.typename;
  if (t === "CallExtensionAsync" || t === "IfAsync" || t === "AsyncEach" || t === "AsyncAll" || t === "FilterAsync")
    return FOUND_ASYNC;
  if (t === "Filter" && asyncFilters.length && asyncFilters.indexOf(node.name?.value) !== -1) return FOUND_ASYNC;
  let found = t === "Block" ? FOUND_BLOCK : 0;
  if (node instanceof nodes.NodeList) {
    for (const c of node.children) found |= scanTree(c, asyncFilters);
  } else if (node instanceof nodes.CallExtension) {
    found |= scanTree(node.args, asyncFilters);
    for (const c of node.contentArgs) found |= scanTree(c, asyncFilters);
  } else for (const f of fieldsOf(node)) found |= scanTree(node[f], asyncFilters);
  return found;
}

let holeCounter = 0;

const NEEDS_TRANSFORM = new Error("needs transformer.transform");
const untransformedAsync = new Set(["FilterAsync", "IfAsync", "AsyncEach", "AsyncAll", "CallExtensionAsync"]);

function liftSuperInBlock(block: any): void {
  const symbol = `hole_${holeCounter++}`;
  let hasSuper = false;
  block.body = replaceSuper(block.body, symbol, () => {
    hasSuper = true;
  });
  if (hasSuper) block.body.children.unshift(new nodes.Super(0, 0, block.name, new nodes.Symbol(0, 0, symbol)));
}

/** transformer.js' liftSuper, in place: the same traversal (Node fields, NodeList children, CallExtension args). */
function liftSuper(ast: any): any {
  forEachNode(ast, (node) => {
    if (!(node instanceof nodes.Block)) return;
    const symbol = `hole_${holeCounter++}`;
    let hasSuper = false;
    node.body = replaceSuper(node.body, symbol, () => {
      hasSuper = true;
    });
    if (hasSuper) node.body.children.unshift(new nodes.Super(0, 0, node.name, new nodes.Symbol(0, 0, symbol)));
  });
  return ast;
}

function forEachNode(node: any, visit: (n: any) => void): void {
  if (!(node instanceof nodes.Node)) return;
  visit(node);
  if (node instanceof nodes.NodeList) for (const c of node.children) forEachNode(c, visit);
  else if (node instanceof nodes.CallExtension) {
    forEachNode(node.args, visit);
    for (const c of node.contentArgs) forEachNode(c, visit);
  } else for (const f of fieldsOf(node)) forEachNode(node[f], visit);
}

function replaceSuper(node: any, symbol: string, found: () => void): any {
  if (!(node instanceof nodes.Node)) return node;
  if (node instanceof nodes.FunCall && node.name.value === "super") {
    found();
    return new nodes.Symbol(node.lineno, node.colno, symbol);
  }
  if (node instanceof nodes.NodeList) {
    for (let i = 0; i < node.children.length; i++) node.children[i] = replaceSuper(node.children[i], symbol, found);
  } else if (node instanceof nodes.CallExtension) {
    node.args = replaceSuper(node.args, symbol, found);
    for (let i = 0; i < node.contentArgs.length; i++)
      node.contentArgs[i] = replaceSuper(node.contentArgs[i], symbol, found);
  } else for (const f of fieldsOf(node)) node[f] = replaceSuper(node[f], symbol, found);
  return node;
}
