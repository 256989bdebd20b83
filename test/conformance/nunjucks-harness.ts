// biome-ignore-all lint/suspicious/noExplicitAny: corpus values and nunjucks objects are untyped.
// Replays cases of ../shared/conformance/nunjucks/corpus.json against the closure engine (Node only: it rebuilds
// the corpus' recorded functions with `new Function`, which is test code, never engine code).
import nunjucks from "nunjucks";
import lib from "nunjucks/src/lib.js";
import nodes from "nunjucks/src/nodes.js";
import runtime from "nunjucks/src/runtime.js";
import { ClosureTemplate, createEngine, type TemplateLoader } from "../../shared/template/index";

export interface CorpusCase {
  id: number;
  file: string;
  test: string;
  src: string;
  path: string | null;
  ctx: any;
  mode: "sync" | "callback";
  env: {
    opts: { autoescape: boolean; throwOnUndefined: boolean; trimBlocks: boolean; lstripBlocks: boolean };
    loaders: any[];
    filters: Record<string, any>;
    tests: Record<string, any>;
    globals: Record<string, any>;
    asyncFilters: string[];
    extensions: any[];
  };
  loads: string[];
  flags: Record<string, boolean>;
  output?: string;
  error?: { message: string; name: string };
}
export interface Corpus {
  templates: Record<string, string>;
  cases: CorpusCase[];
}

export type Verdict = "identical" | "different" | "refused";
export interface CaseResult {
  id: number;
  verdict: Verdict;
  expected: string;
  actual: string;
  reason?: string;
}

/** Plain-JSON cases replay from the JSON alone; the rest need the function-rebuilding harness. */
export function isPlain(c: CorpusCase): boolean {
  return !c.flags.nonJson && !c.flags.jinjaCompat;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/** In-memory stand-in for FileSystemLoader(searchPath) over the corpus' recorded templates. */
function corpusLoader(templates: Record<string, string>, searchPath: string): TemplateLoader {
  return {
    getSource(name: string) {
      const full = name.startsWith(`${searchPath}/`) ? normalize(name) : normalize(`${searchPath}/${name}`);
      const src = templates[full];
      if (src === undefined) return null;
      return { src, path: full, noCache: false };
    },
    isRelative: (name: string) => name.indexOf("./") === 0 || name.indexOf("../") === 0,
    resolve: (from: string, to: string) => normalize(`${from.split("/").slice(0, -1).join("/")}/${to}`),
  };
}

interface Scope {
  names: string[];
  values: any[];
}

function reviveFunction(src: string, scope: Scope): any {
  const attempts = [src, `function ${src}`];
  for (const text of attempts) {
    try {
      return new Function(...scope.names, `return (${text});`)(...scope.values);
    } catch {
      // try the next spelling (method shorthand in recorded sources)
    }
  }
  return undefined;
}

function revive(v: any, scope: Scope, env: any): any {
  if (Array.isArray(v)) return v.map((x) => revive(x, scope, env));
  if (v === null || typeof v !== "object") return v;
  if ("$t" in v) {
    switch (v.$t) {
      case "undefined":
        return undefined;
      case "SafeString":
        return new runtime.SafeString(v.v);
      case "Map":
        return new Map(revive(v.v, scope, env));
      case "Set":
        return new Set(revive(v.v, scope, env));
      case "iterable":
        if (v.ctor === "String") return new String(v.v.join(""));
        return { [Symbol.iterator]: () => (v.v as any[])[Symbol.iterator]() };
      case "function":
        return reviveFunction(v.src, scope);
      case "object":
        if (v.ctor === "Template") return new ClosureTemplate(v.own.tmplStr, env, v.own.path);
        return reviveObject(v.own, scope, env);
      default:
        return undefined;
    }
  }
  return reviveObject(v, scope, env);
}

function reviveObject(o: any, scope: Scope, env: any): any {
  const out: any = {};
  for (const [k, val] of Object.entries(o)) out[k] = revive(val, scope, env);
  return out;
}

function lastLine(message: string): string {
  const lines = message.split("\n");
  return (lines[lines.length - 1] ?? "").trim();
}

/** Renders one corpus case with the closure engine (sandbox on) and compares it with the recorded result. */
export async function runCase(corpus: Corpus, c: CorpusCase): Promise<CaseResult> {
  const searchPath = c.env.loaders[0]?.searchPaths?.[0] ?? "tests/templates";
  const engine = createEngine({
    loader: corpusLoader(corpus.templates, searchPath),
    autoescape: c.env.opts.autoescape,
    throwOnUndefined: c.env.opts.throwOnUndefined,
    trimBlocks: c.env.opts.trimBlocks,
    lstripBlocks: c.env.opts.lstripBlocks,
  });
  const env = engine.env;
  const count = 0;
  const fakeFs = {
    readFile(file: string, cb: (err: any, res?: any) => void) {
      const src =
        normalize(file) === "tests/templates/for-async-content.njk"
          ? "somecontenthere"
          : corpus.templates[normalize(file)];
      if (src === undefined) cb(new Error(`ENOENT: ${file}`));
      else cb(null, src);
    },
  };
  const scope: Scope = {
    names: ["fs", "lib", "r", "nodes", "runtime", "nunjucks", "count"],
    values: [fakeFs, lib, runtime, nodes, runtime, nunjucks, count],
  };
  void count;
  for (const [name, fn] of Object.entries(c.env.filters ?? {}))
    env.addFilter(name, revive(fn, scope, env), c.env.asyncFilters.includes(name));
  for (const [name, fn] of Object.entries(c.env.tests ?? {})) env.addTest(name, revive(fn, scope, env));
  for (const [name, value] of Object.entries(c.env.globals ?? {})) env.addGlobal(name, revive(value, scope, env));
  for (const ext of c.env.extensions ?? []) {
    const obj = revive(ext.src, scope, env);
    env.addExtension(ext.name, obj);
  }
  const ctx = revive(c.ctx, scope, env);
  // JSON cannot record aliasing: the recorded test passed one object under both names.
  if (c.flags.aliasing && ctx && "obj1" in ctx) ctx.obj2 = ctx.obj1;

  const expected = c.error ? lastLine(c.error.message) : (c.output as string);
  const realRandom = Math.random;
  Math.random = mulberry32(42);
  let uninstall: (() => void) | null = null;
  if (c.flags.jinjaCompat) uninstall = (nunjucks as any).installJinjaCompat();
  const polluted = c.flags.protoPollution;
  if (polluted) (Object.prototype as any).payload = "function(){ return 1+2; }()";
  let actual: string;
  let isError = false;
  try {
    const opts = c.path ? { path: c.path } : {};
    if (c.mode === "sync") {
      actual = env.renderString(c.src, ctx, opts);
    } else {
      actual = await new Promise<string>((resolve, reject) => {
        let settled = false;
        env.renderString(c.src, ctx, opts, (err: any, res: any) => {
          if (settled) return;
          settled = true;
          if (err) reject(err);
          else resolve(res);
        });
      });
    }
  } catch (e: any) {
    isError = true;
    actual = lastLine(String(e?.message ?? e));
  } finally {
    Math.random = realRandom;
    if (uninstall) uninstall();
    if (polluted) delete (Object.prototype as any).payload;
  }
  if (!isError && !c.error && actual === expected) return { id: c.id, verdict: "identical", expected, actual };
  if (isError && c.error && actual === expected) return { id: c.id, verdict: "identical", expected, actual };
  if (
    isError &&
    /TemplateSecurityError|TemplateBudgetError|RegexNotSupportedError|WorkBudgetExceededError/.test(actual)
  )
    return { id: c.id, verdict: "refused", expected, actual, reason: actual.replace(/^.*?(\w+Error: )/, "$1") };
  return { id: c.id, verdict: "different", expected, actual: isError ? `ERROR: ${actual}` : actual };
}
