// biome-ignore-all lint/suspicious/noExplicitAny: nunjucks' Environment/Template/Context are untyped JavaScript.
// biome-ignore-all lint/complexity/useArrowFunction: nunjucks calls these with `this` = Context.
import asap from "asap";
import { MemoryBudgetExceededError, NestingTooDeepError, WorkBudgetExceededError } from "../core/budget-errors";
import { sha256HexSync } from "../core/sha256";
import { RegexNotSupportedError } from "../regex/regex-errors";
import { defaultLimits, RenderBudget, type TemplateLimits } from "./budget";
import { compileProgram, concealSource, type Program, takePendingBudget } from "./compiler/index";
import { TemplateBudgetError, TemplateError, TemplateSecurityError } from "./errors";
import nunjucksModules from "./nunjucks-modules.cjs";
import { TemplateRegExp } from "./template-regexp";

const { environment, lib, runtime: runtimeModule } = nunjucksModules;
const { Environment, Template } = environment;
// environment.js does not export Context: take nunjucks' own class from a one-off render of a code template.
const Context: any = (() => {
  let ctor: any = null;
  new Template(
    {
      type: "code",
      obj: {
        root(_env: any, context: any, _frame: any, _runtime: any, cb: any) {
          ctor = context.constructor;
          cb(null, "");
        },
      },
    },
    new Environment([]),
  ).render({});
  return ctor;
})();
const { Frame } = runtimeModule;

function callbackAsap(cb: any, err: any, res?: any) {
  asap(function () {
    cb(err, res);
  });
}

/** nunjucks' Context with the render's budget and include depth as ordinary fields (one hidden class). */
// No explicit constructor: V8's default derived constructor forwards arguments without a rest array.
class EngineContext extends (Context as any) {
  kgenBudget: RenderBudget | null = null;
  kgenIncludeDepth = 0;
}
const newContext = (ctx: any, blocks: any, env: any): EngineContext =>
  new (EngineContext as any)(ctx, blocks, env) as EngineContext;

const noopTmplSrc = {
  type: "code",
  obj: {
    root(_env: any, _context: any, _frame: any, _runtime: any, cb: any) {
      try {
        cb(null, "");
      } catch (e) {
        cb(runtimeModule.handleError(e, null, null));
      }
    },
  },
};

export interface EngineConfig {
  sandbox: boolean;
  limits: TemplateLimits;
}

/** A nunjucks Template whose code generation is the closure compiler (no `new Function`). */
export class ClosureTemplate extends (Template as any) {
  constructor(...args: any[]) {
    super(...args);
  }
  _compile(this: any): void {
    let props: any;
    if (this.tmplProps) props = this.tmplProps;
    else props = (this.env as EngineEnvironment).program(this.tmplStr, this.path).instantiate(this.path);
    this.blocks = this._getBlocks(props);
    this.rootRenderFunc = props.root;
    this.compiled = true;
  }

  render(this: any, ctx: any, parentFrame?: any, cb?: any): any {
    if (typeof ctx === "function") {
      cb = ctx;
      ctx = {};
    } else if (typeof parentFrame === "function") {
      cb = parentFrame;
      parentFrame = null;
    }
    const pending = takePendingBudget();
    const forceAsync = !parentFrame;
    try {
      this.compile();
    } catch (e) {
      const err = lib._prettifyError(this.path, this.env.opts.dev, e);
      if (cb) return callbackAsap(cb, err);
      throw err;
    }
    const context = newContext(ctx || {}, this.blocks, this.env);
    context.kgenBudget = pending ? pending.budget : (this.env as EngineEnvironment).newBudget();
    context.kgenIncludeDepth = pending ? pending.includeDepth : 0;
    const frame = parentFrame ? parentFrame.push(true) : new Frame();
    frame.topLevel = true;
    let syncResult: any = null;
    let didError = false;
    this.rootRenderFunc(this.env, context, frame, runtimeModule, (err: any, res: any) => {
      if (didError && cb && typeof res !== "undefined") return;
      if (err) {
        err = lib._prettifyError(this.path, this.env.opts.dev, err);
        didError = true;
      }
      if (cb) {
        if (forceAsync) callbackAsap(cb, err, res);
        else cb(err, res);
      } else {
        if (err) throw err;
        syncResult = res;
      }
    });
    // a top-level sync render that finished leaves nothing holding its budget: the next render may reuse it
    if (!pending && !cb && syncResult !== null) (this.env as EngineEnvironment).spareBudget = context.kgenBudget;
    return syncResult;
  }

  getExported(this: any, ctx: any, parentFrame?: any, cb?: any): void {
    if (typeof ctx === "function") {
      cb = ctx;
      ctx = {};
    }
    if (typeof parentFrame === "function") {
      cb = parentFrame;
      parentFrame = null;
    }
    const pending = takePendingBudget();
    try {
      this.compile();
    } catch (e) {
      if (cb) {
        cb(e);
        return;
      }
      throw e;
    }
    const frame = parentFrame ? parentFrame.push() : new Frame();
    frame.topLevel = true;
    const context = newContext(ctx || {}, this.blocks, this.env);
    context.kgenBudget = pending ? pending.budget : (this.env as EngineEnvironment).newBudget();
    context.kgenIncludeDepth = pending ? pending.includeDepth : 0;
    this.rootRenderFunc(this.env, context, frame, runtimeModule, (err: any) => {
      if (err) cb(err, null);
      else cb(null, context.getExported());
    });
  }
}

/**
 * Programs compiled without extensions depend only on the key's inputs, so every environment of the
 * isolate shares them (a generation builds one environment per render: each has its own seeded filters).
 */
const sharedPrograms = new Map<string, Program>();

/**
 * SHA-256 of template sources, remembered: a job renders the same source once per unit, and hashing it in
 * JavaScript each time costs more than the lookup (a string's own hash is computed once per string).
 */
const sourceHashes = new Map<string, string>();

function sourceHash(src: string): string {
  let hash = sourceHashes.get(src);
  if (hash === undefined) {
    if (sourceHashes.size >= 256) sourceHashes.clear();
    hash = sha256HexSync(src);
    sourceHashes.set(src, hash);
  }
  return hash;
}

/** How many programs the isolate-wide cache holds (for tests and diagnostics). */
export function sharedProgramCount(): number {
  return sharedPrograms.size;
}

/** nunjucks' Environment, creating ClosureTemplates, with a compiled-program cache keyed by content hash. */
export class EngineEnvironment extends (Environment as any) {
  constructor(...args: any[]) {
    super(...args);
  }
  declare opts: any;
  declare asyncFilters: string[];
  declare extensionsList: any[];
  declare loaders: any[];
  declare globals: any;
  engineConfig: EngineConfig = { sandbox: true, limits: defaultLimits };
  programCache = new Map<string, Program>();

  /** With the sandbox, a function global prints as native code (through a wrapper: the caller's function may be frozen). */
  addGlobal(name: string, value: unknown): unknown {
    if (typeof value === "function" && this.engineConfig?.sandbox) {
      const fn = value as (...args: any[]) => unknown;
      return super.addGlobal(
        name,
        concealSource(function (this: any, ...args: any[]) {
          return fn.apply(this, args);
        }),
      );
    }
    return super.addGlobal(name, value);
  }

  /** The budget of the latest top-level render (the engine API reads it to report budget errors as such). */
  lastBudget: RenderBudget | null = null;
  spareBudget: RenderBudget | null = null;
  newBudget(): RenderBudget {
    let budget = this.spareBudget;
    if (budget && budget.limits === this.engineConfig.limits) {
      this.spareBudget = null;
      budget.reset();
    } else budget = new RenderBudget(this.engineConfig.limits);
    this.lastBudget = budget;
    return budget;
  }

  private configCache: { stamp: unknown[]; key: string } | null = null;
  /** Everything besides the source that shapes the compiled program, as a string (recomputed when it changes). */
  private configKey(): string {
    const o = this.opts;
    const stamp = [
      !!o.throwOnUndefined,
      !!o.trimBlocks,
      !!o.lstripBlocks,
      o.tags ?? null,
      this.asyncFilters.length,
      this.extensionsList.length,
      this.engineConfig.sandbox,
    ];
    const cached = this.configCache;
    if (cached?.stamp.every((v, i) => v === stamp[i])) return cached.key;
    const key = JSON.stringify([...stamp, this.asyncFilters, this.extensionsList.map((e: any) => e.__name ?? "")]);
    this.configCache = { stamp, key };
    return key;
  }

  /** The closure program for a source, cached by SHA-256 of the source plus everything else that shapes the AST. */
  program(src: string, path: string | undefined): Program {
    const o = this.opts;
    const key = `${sourceHash(src)}${this.configKey()}${JSON.stringify(path ?? null)}`;
    const cache = this.extensionsList.length === 0 ? sharedPrograms : this.programCache;
    let program = cache.get(key);
    if (!program) {
      program = compileProgram(src, this.asyncFilters, this.extensionsList, path, {
        throwOnUndefined: o.throwOnUndefined,
        trimBlocks: o.trimBlocks,
        lstripBlocks: o.lstripBlocks,
        tags: o.tags,
        sandbox: this.engineConfig.sandbox,
      });
      if (cache.size > 1000) cache.clear();
      cache.set(key, program);
    }
    return program;
  }

  renderString(src: string, ctx: any, opts?: any, cb?: any): any {
    if (lib.isFunction(opts)) {
      cb = opts;
      opts = {};
    }
    opts = opts || {};
    const tmpl = new ClosureTemplate(src, this, opts.path);
    return tmpl.render(ctx, cb);
  }

  getTemplate(name: any, eagerCompile?: any, parentName?: any, ignoreMissing?: any, cb?: any): any {
    let tmpl: any = null;
    if (name?.raw) name = name.raw;
    if (lib.isFunction(parentName)) {
      cb = parentName;
      parentName = null;
      eagerCompile = eagerCompile || false;
    }
    if (lib.isFunction(eagerCompile)) {
      cb = eagerCompile;
      eagerCompile = false;
    }
    if (name instanceof Template) tmpl = name;
    else if (typeof name !== "string") throw new Error(`template names must be a string: ${name}`);
    else {
      for (const loader of this.loaders) {
        tmpl = loader.cache[this.resolveTemplate(loader, parentName, name)];
        if (tmpl) break;
      }
    }
    if (tmpl) {
      if (eagerCompile) tmpl.compile();
      if (cb) {
        cb(null, tmpl);
        return undefined;
      }
      return tmpl;
    }
    let syncResult: any;
    const createTemplate = (err: any, info: any) => {
      if (!info && !err && !ignoreMissing) err = new Error(`template not found: ${name}`);
      if (err) {
        if (cb) {
          cb(err);
          return;
        }
        throw err;
      }
      let newTmpl: any;
      if (!info) newTmpl = new ClosureTemplate(noopTmplSrc, this, "", eagerCompile);
      else {
        newTmpl = new ClosureTemplate(info.src, this, info.path, eagerCompile);
        if (!info.noCache) info.loader.cache[name] = newTmpl;
      }
      if (cb) cb(null, newTmpl);
      else syncResult = newTmpl;
    };
    lib.asyncIter(
      this.loaders,
      (loader: any, _i: number, next: any, done: any) => {
        function handle(err: any, src: any) {
          if (err) done(err);
          else if (src) {
            src.loader = loader;
            done(null, src);
          } else next();
        }
        name = this.resolveTemplate(loader, parentName, name);
        if (loader.async) loader.getSource(name, handle);
        else handle(null, loader.getSource(name));
      },
      createTemplate,
    );
    return syncResult;
  }
}

export interface LoaderSource {
  src: string;
  path: string;
  noCache?: boolean;
}
/** A nunjucks-compatible loader: sync `getSource(name)` or, with `async: true`, `getSource(name, cb)`. */
export interface TemplateLoader {
  async?: boolean;
  getSource(name: string, cb?: (err: unknown, src?: LoaderSource | null) => void): LoaderSource | null | undefined;
  isRelative?(name: string): boolean;
  resolve?(from: string, to: string): string;
}

/** Sync loader over an in-memory map of name → source. */
export function memoryLoader(templates: Record<string, string>): TemplateLoader {
  return {
    getSource(name) {
      if (!Object.hasOwn(templates, name)) return null;
      return { src: templates[name] as string, path: name, noCache: false };
    },
  };
}

/** Async loader (templates from storage: R2, D1, Durable Object…); `fetch` resolves to the source or null. */
export function asyncLoader(fetch: (name: string) => Promise<string | null | undefined>): TemplateLoader {
  return {
    async: true,
    getSource(name, cb) {
      fetch(name).then(
        (src) => cb?.(null, src == null ? null : { src, path: name, noCache: false }),
        (err) => cb?.(err),
      );
      return undefined;
    },
  };
}

export interface ExtensionLike {
  tags: string[];
  parse(parser: any, nodes: any, lexer: any): any;
  preprocess?(src: string): string;
  [method: string]: any;
}

export interface EngineOptions {
  loader?: TemplateLoader | TemplateLoader[];
  autoescape?: boolean;
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** Sync filters: `function (this: Context, value, ...args)`. */
  filters?: Record<string, (...args: any[]) => unknown>;
  /** Async filters: `function (this: Context, value, ...args, cb(err, result))`. */
  asyncFilters?: Record<string, (...args: any[]) => void>;
  globals?: Record<string, unknown>;
  /** Tests for `is`: `function (value, ...args): boolean`. */
  tests?: Record<string, (...args: any[]) => boolean>;
  extensions?: Record<string, ExtensionLike>;
  limits?: Partial<TemplateLimits>;
  /** Deny prototype/constructor access (default true). Only the conformance runner turns it off, to measure. */
  sandbox?: boolean;
}

export interface RenderOptions {
  path?: string;
}

export interface TemplateEngine {
  readonly env: EngineEnvironment;
  renderString(src: string, context?: object, opts?: RenderOptions): string;
  renderStringAsync(src: string, context?: object, opts?: RenderOptions): Promise<string>;
  render(name: string, context?: object): string;
  renderAsync(name: string, context?: object): Promise<string>;
  /** Parses and builds a template now (throws TemplateError with line/column on syntax errors). */
  compile(src: string, path?: string): ClosureTemplate;
  addFilter(name: string, fn: (...args: any[]) => unknown, async?: boolean): TemplateEngine;
  addGlobal(name: string, value: unknown): TemplateEngine;
  addTest(name: string, fn: (...args: any[]) => boolean): TemplateEngine;
  addExtension(name: string, ext: ExtensionLike): TemplateEngine;
}

function lengthOfRange(start: any, stop: any, step: any): number {
  if (typeof stop === "undefined") {
    stop = start;
    start = 0;
    step = 1;
  } else if (!step) step = 1;
  const n = step > 0 ? (stop - start) / step : (start - stop) / -step;
  return Number.isNaN(n) ? 0 : Math.ceil(n);
}

/**
 * Budget guards on built-ins whose cost is set by a number argument (range length, padding width);
 * with the sandbox, `joiner()` returns a function that prints as native code.
 */
function guardBuiltins(env: EngineEnvironment): void {
  const range = env.globals.range;
  const guardedRange = function (this: any, ...args: any[]) {
    const budget: RenderBudget | undefined = this?.kgenBudget;
    if (budget) {
      const length = lengthOfRange(args[0], args[1], args[2]);
      if (length > budget.limits.maxLoopIterations) budget.fail("loopIterations", budget.limits.maxLoopIterations);
      budget.array(Math.max(length, 0), "range()");
    }
    return range.apply(this, args);
  };
  const sandbox = env.engineConfig.sandbox;
  // without the sandbox, `{{ range }}` prints nunjucks' own source, as nunjucks does
  if (!sandbox) guardedRange.toString = () => String(range);
  env.addGlobal("range", guardedRange);
  if (sandbox) {
    const joiner = env.globals.joiner;
    env.addGlobal("joiner", (separator?: unknown) => concealSource(joiner(separator)));
    env.addGlobal("cycler", env.globals.cycler);
  }
  for (const name of ["center", "indent"]) {
    const filter = env.getFilter(name);
    const guarded = function (this: any, ...args: any[]) {
      const budget: RenderBudget | undefined = this?.kgenBudget;
      const width = args[1];
      if (budget && typeof width === "number" && width > budget.limits.maxOutputBytes)
        budget.fail("outputBytes", budget.limits.maxOutputBytes);
      return filter.apply(this, args);
    };
    guarded.toString = () => String(filter);
    env.addFilter(name, guarded);
  }
  // nunjucks' replace takes its regex branch for `instanceof RegExp`: a template's regex is a TemplateRegExp
  const replace = env.getFilter("replace");
  const linearReplace = function (this: any, text: any, old: any, ...rest: any[]) {
    if (old instanceof TemplateRegExp) return text.replace(old, rest[0]);
    return replace.call(this, text, old, ...rest);
  };
  linearReplace.toString = () => String(replace);
  env.addFilter("replace", linearReplace);
}

function positionOf(message: string): { line?: number; column?: number } {
  const m = /\[Line (\d+)(?:, Column (\d+))?\]/.exec(message);
  if (!m) return {};
  return { line: Number(m[1]), column: m[2] ? Number(m[2]) : undefined };
}

/** Maps nunjucks' prettified errors to the engine's typed errors. */
export function toEngineError(err: unknown, budget: RenderBudget | null, path?: string): Error {
  if (budget?.exceeded) return budget.exceeded;
  if (
    err instanceof TemplateBudgetError ||
    err instanceof TemplateSecurityError ||
    err instanceof TemplateError ||
    err instanceof MemoryBudgetExceededError ||
    err instanceof NestingTooDeepError ||
    err instanceof RegexNotSupportedError ||
    err instanceof WorkBudgetExceededError
  )
    return err;
  const message = err instanceof Error ? err.message : String(err);
  const regexRefusal = /RegexNotSupportedError: regular expression not supported: (.+)$/m.exec(message);
  if (regexRefusal) return new RegexNotSupportedError(regexRefusal[1] as string);
  const workRefusal = /WorkBudgetExceededError: (.+) needs more than (\d+) (.+)$/m.exec(message);
  if (workRefusal)
    return new WorkBudgetExceededError(workRefusal[1] as string, Number(workRefusal[2]), workRefusal[3] as string);
  const budgetLine = /TemplateBudgetError: template budget exceeded: (\w+) \(limit ([\d.e+]+|Infinity)\)/.exec(message);
  if (budgetLine) return new TemplateBudgetError(budgetLine[1] as any, Number(budgetLine[2]));
  const memoryLine = /MemoryBudgetExceededError: (.+) would exceed (\d+) (.+)$/.exec(message);
  if (memoryLine)
    return new MemoryBudgetExceededError(memoryLine[1] as string, Number(memoryLine[2]), memoryLine[3] as string);
  const nestingLine = /NestingTooDeepError: (.+) nests deeper than (\d+) levels/.exec(message);
  if (nestingLine) return new NestingTooDeepError(nestingLine[1] as string, Number(nestingLine[2]));
  const security = /TemplateSecurityError: access to "([^"]*)" is denied/.exec(message);
  if (security) return new TemplateSecurityError(security[1] as string);
  const { line, column } = positionOf(message);
  const lastLine = message.split("\n").pop()?.trim() ?? message;
  return new TemplateError(lastLine, line, column, path);
}

export function createEngine(options: EngineOptions = {}): TemplateEngine {
  const loaders = options.loader ? (Array.isArray(options.loader) ? options.loader : [options.loader]) : [];
  const env = new EngineEnvironment(loaders, {
    autoescape: options.autoescape ?? true,
    throwOnUndefined: !!options.throwOnUndefined,
    trimBlocks: !!options.trimBlocks,
    lstripBlocks: !!options.lstripBlocks,
  }) as EngineEnvironment;
  env.engineConfig = { sandbox: options.sandbox ?? true, limits: { ...defaultLimits, ...options.limits } };
  guardBuiltins(env);
  for (const [name, fn] of Object.entries(options.filters ?? {})) env.addFilter(name, fn);
  for (const [name, fn] of Object.entries(options.asyncFilters ?? {})) env.addFilter(name, fn, true);
  for (const [name, fn] of Object.entries(options.tests ?? {})) env.addTest(name, fn);
  for (const [name, value] of Object.entries(options.globals ?? {})) env.addGlobal(name, value);
  for (const [name, ext] of Object.entries(options.extensions ?? {})) env.addExtension(name, ext);

  const finishSync = (out: any, path?: string): string => {
    if (out === null || out === undefined)
      throw new TemplateError("template completed asynchronously: use the async render", undefined, undefined, path);
    return out;
  };
  const asyncRender = (start: (cb: (err: any, res: any) => void) => void, path?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      env.lastBudget = null;
      let budget: RenderBudget | null = null;
      try {
        start((err, res) => {
          if (err) reject(toEngineError(err, budget, path));
          else resolve(res);
        });
        budget = env.lastBudget;
      } catch (e) {
        reject(toEngineError(e, env.lastBudget, path));
      }
    });

  const engine: TemplateEngine = {
    env,
    renderString(src, context = {}, opts = {}) {
      env.lastBudget = null;
      try {
        return finishSync(env.renderString(src, context, { path: opts.path }), opts.path);
      } catch (e) {
        throw toEngineError(e, env.lastBudget, opts.path);
      }
    },
    renderStringAsync: (src, context = {}, opts = {}) =>
      asyncRender((cb) => env.renderString(src, context, { path: opts.path }, cb), opts.path),
    render(name, context = {}) {
      env.lastBudget = null;
      try {
        return finishSync(env.render(name, context), name);
      } catch (e) {
        throw toEngineError(e, env.lastBudget, name);
      }
    },
    renderAsync: (name, context = {}) => asyncRender((cb) => env.render(name, context, cb), name),
    compile(src, path) {
      try {
        return new ClosureTemplate(src, env, path, true);
      } catch (e) {
        throw toEngineError(e, null, path);
      }
    },
    addFilter(name, fn, async) {
      env.addFilter(name, fn, async);
      return engine;
    },
    addGlobal(name, value) {
      env.addGlobal(name, value);
      return engine;
    },
    addTest(name, fn) {
      env.addTest(name, fn);
      return engine;
    },
    addExtension(name, ext) {
      env.addExtension(name, ext);
      return engine;
    },
  };
  return engine;
}
