// biome-ignore-all lint/suspicious/noExplicitAny: rendering results are untyped.
// Differential fuzzer: random nunjucks expressions and statements rendered by the closure engine and by
// nunjucks' own compiler (`new Function`), compared byte for byte (errors by their last line). Seeded PRNG.
import nunjucks from "nunjucks";
import { createEngine, memoryLoader } from "../../shared/template/index";

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const includes = {
  "inc.njk": "[{{ a }}|{{ x }}]",
  "macros.njk": "{% macro m(p, q=2) %}<{{ p }}:{{ q }}>{% endmacro %}{% set exported = 7 %}",
  "base.njk": "B{% block main %}base{{ a }}{% endblock %}E",
};

export const fuzzContext = {
  a: 3,
  b: -2.5,
  s: "Ab<c>",
  t: "",
  n: null,
  arr: [1, "two", 3, null],
  nested: [[1, 2], [3, 4], []],
  obj: { k: "v", n: 5, inner: { deep: [7, 8] } },
  flag: true,
};

class Gen {
  constructor(readonly rnd: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)] as T;
  }
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  atom(): string {
    return this.pick([
      () => String(this.int(20)),
      () => `${this.int(10)}.${this.int(10)}`,
      () => this.pick(['"x"', '"Ab"', '""', '"<&>"', "'q'"]),
      () => this.pick(["true", "false", "none"]),
      () => this.pick(["a", "b", "s", "t", "n", "arr", "obj", "flag", "missing", "nested"]),
      () => this.pick(["obj.k", "obj.n", "obj.inner.deep[1]", "arr[1]", "arr[0]", "obj['k']", "missing.x"]),
      () => `[${this.expr(1)}, ${this.expr(1)}]`,
      () => `{k: ${this.expr(1)}}`,
      () => `(${this.expr(2)})`,
      () => `range(${this.int(4)})`,
    ])();
  }
  expr(depth: number): string {
    if (depth <= 0) return this.atom();
    const d = depth - 1;
    return this.pick([
      () => this.atom(),
      () =>
        `${this.expr(d)} ${this.pick(["+", "-", "*", "/", "%", "//", "**", "~", "and", "or", "==", "!=", "<", ">", "<=", ">=", "===", "!=="])} ${this.expr(d)}`,
      () => `not ${this.expr(d)}`,
      () => `-${this.atom()}`,
      () => `${this.expr(d)} if ${this.expr(d)} else ${this.expr(d)}`,
      () => `${this.expr(d)} if ${this.expr(d)}`,
      () => `${this.atom()} in ${this.pick(["arr", "s", "obj", '"xAb"', "[1,3]"])}`,
      () =>
        `${this.atom()} is ${this.pick(["defined", "undefined", "odd", "even", "number", "string", "none", "truthy", "falsy"])}`,
      () => `${this.atom()} is not ${this.pick(["defined", "odd", "string"])}`,
      () => `${this.atom()} is divisibleby(${1 + this.int(3)})`,
      () =>
        `${this.atom()} | ${this.pick(["upper", "lower", "length", "string", "first", "last", "abs", "int", "float", "escape", "safe", "trim", "capitalize", "title", "reverse", "list", "join(',')", "default('d')", "replace('b','x')", "round(1)", "truncate(3)", "wordcount", "urlencode", "dump", "sort", "batch(2)", "center(7)", "indent(2)"])}`,
    ])();
  }
  stmt(depth: number): string {
    const d = depth - 1;
    const body = () => (d > 0 ? this.stmts(d, 2) : `{{ ${this.expr(1)} }}`);
    return this.pick([
      () => `{{ ${this.expr(3)} }}`,
      () => `{{ ${this.expr(2)} }}`,
      () => `{% if ${this.expr(2)} %}${body()}{% elif ${this.expr(1)} %}${body()}{% else %}${body()}{% endif %}`,
      () =>
        `{% for ${this.pick(["i", "x"])} in ${this.pick(["arr", "nested", "s", "obj", "range(3)", "n", "[]", "missing"])} %}${body()}{{ loop.index }}{% else %}E{% endfor %}`,
      () =>
        `{% for k, v in ${this.pick(["obj", "nested", "arr", "{a:1,b:[2]}"])} %}{{ k }}={{ v }}${body()}{% endfor %}`,
      () => `{% set ${this.pick(["x", "a", "y"])} = ${this.expr(2)} %}${body()}{{ x }}`,
      () => `{% set x %}${body()}{% endset %}{{ x }}`,
      () =>
        `{% macro mm(p, q=${this.expr(1)}) %}${body()}{{ p }}{{ q }}{% endmacro %}{{ mm(${this.expr(1)}) }}{{ mm(1, q=${this.expr(1)}) }}`,
      () =>
        `{% macro cm(p) %}({{ caller(p) }}){% endmacro %}{% call(z) cm(${this.expr(1)}) %}${body()}{{ z }}{% endcall %}`,
      () => `{% filter ${this.pick(["upper", "title", "escape", "trim"])} %}${body()}{% endfilter %}`,
      () =>
        `{% switch ${this.expr(1)} %}{% case ${this.expr(1)} %}${body()}{% case 1 %}{% case ${this.expr(1)} %}${body()}{% default %}D{% endswitch %}`,
      () => `{% include "inc.njk" %}`,
      () => `{% from "macros.njk" import m %}{{ m(${this.expr(1)}) }}`,
      () => `{% import "macros.njk" as lib %}{{ lib.m(${this.expr(1)}, q=3) }}{{ lib.exported }}`,
      () => `{% raw %}{{ a }}{% endraw %}`,
      () => `text ${this.int(100)} `,
      () => `{%- if ${this.expr(1)} -%}  ws  {%- endif -%}`,
    ])();
  }
  stmts(depth: number, n: number): string {
    let out = "";
    for (let i = 0; i < 1 + this.int(n); i++) out += this.stmt(depth);
    return out;
  }
}

function lastLine(message: string): string {
  const lines = message.split("\n");
  return (lines[lines.length - 1] ?? "").trim();
}

function renderWith(fn: () => string): string {
  try {
    return `OK:${fn()}`;
  } catch (e: any) {
    return `ERR:${lastLine(String(e?.message ?? e))}`;
  }
}

export interface FuzzResult {
  cases: number;
  identical: number;
  differences: { src: string; engine: string; nunjucks: string }[];
}

/** Half expressions (`{{ expr }}`), half statement sequences; both engines render every case in sync mode. */
export function runFuzz(n: number, seed: number): FuzzResult {
  const gen = new Gen(prng(seed));
  const engine = createEngine({ loader: memoryLoader(includes) });
  const reference = new nunjucks.Environment(
    new ((nunjucks.Loader as any).extend({ getSource: (name: string) => memoryLoader(includes).getSource(name) }))(),
  );
  const differences: FuzzResult["differences"] = [];
  let identical = 0;
  for (let i = 0; i < n; i++) {
    const src = i % 2 === 0 ? `{{ ${gen.expr(3)} }}` : gen.stmts(2, 3);
    const mine = renderWith(() => engine.env.renderString(src, structuredClone(fuzzContext)));
    const theirs = renderWith(() => reference.renderString(src, structuredClone(fuzzContext)));
    if (mine === theirs) identical++;
    else differences.push({ src, engine: mine, nunjucks: theirs });
  }
  return { cases: n, identical, differences };
}
