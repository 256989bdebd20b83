// biome-ignore-all lint/suspicious/noExplicitAny: nunjucks' untyped API.
// `npm run bench -- templates [rounds]`: closure engine vs nunjucks compiled (`new Function`), one process,
// interleaved rounds, renders/s per template, ratio, geometric mean, and compile (parse + build) per second.
import nunjucks from "nunjucks";
import { createEngine, memoryLoader } from "../shared/template/index";

const items = Array.from({ length: 1000 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  price: (i * 37) % 101,
  tags: i % 3 === 0 ? ["a", "b"] : ["c"],
  active: i % 4 !== 0,
}));

export const templates: Record<string, string> = {
  "loop.njk": `<ul>{% for it in items %}{% if it.active and it.price > 20 %}<li class="{{ 'even' if loop.index is even else 'odd' }}">{{ it.name | upper }} {{ it.price | round(1) }} {{ it.tags | join(",") }}</li>{% else %}<li>{{ it.name | title }}</li>{% endif %}{% endfor %}</ul>`,
  "macros.njk": `{% macro field(name, type="string", required=false) %}<f n="{{ name }}" t="{{ type }}"{% if required %} req{% endif %}>{{ caller() if caller else "" }}</f>{% endmacro %}{% for i in range(100) %}{{ field("f" ~ i, type="int", required=(i % 2 == 0)) }}{% call field("c" ~ i, required=true) %}body {{ i }}{% endcall %}{% endfor %}`,
  "layout.njk": `<html>{% block head %}<title>{{ title }}</title>{% endblock %}<body>{% block body %}{% endblock %}</body></html>`,
  "section.njk": `{% extends "layout.njk" %}{% block head %}{{ super() }}<meta x>{% endblock %}{% block body %}<main>{% block content %}{% endblock %}</main>{% endblock %}`,
  "page.njk": `{% extends "section.njk" %}{% block content %}{{ super() }}{% for i in range(20) %}{% include "part.njk" %}{% endfor %}{% endblock %}`,
  "part.njk": `<p>{{ i }}: {{ title | lower }}</p>`,
  "one.njk": `Hello {{ name }}!`,
  "codegen.njk": `// generated from {{ graph }}
{% for cls in classes %}export interface {{ cls.name }} {
{% for p in cls.props %}  {{ p.name }}{% if not p.required %}?{% endif %}: {{ p.type | default("unknown") }};{% if p.doc %} // {{ p.doc | truncate(40) }}{% endif %}
{% endfor %}}
export const {{ cls.name | lower }}Keys = [{% for p in cls.props %}"{{ p.name }}"{{ "," if not loop.last }}{% endfor %}] as const;
{% endfor %}`,
};

export const contexts: Record<string, any> = {
  "loop.njk": { items },
  "macros.njk": {},
  "page.njk": { title: "Bench Page" },
  "one.njk": { name: "World" },
  "codegen.njk": {
    graph: "urn:kgen:bench",
    classes: Array.from({ length: 30 }, (_, c) => ({
      name: `Class${c}`,
      props: Array.from({ length: 8 }, (_, p) => ({
        name: `prop${p}`,
        type: ["string", "number", "boolean", undefined][p % 4],
        required: p % 3 === 0,
        doc: p % 2 ? `Property number ${p} of class ${c}, documented at some length` : "",
      })),
    })),
  },
};

const cases: [string, string][] = [
  ["1000-item loop", "loop.njk"],
  ["macro-heavy", "macros.njk"],
  ["3-level inheritance + 20 includes", "page.njk"],
  ["one-line", "one.njk"],
  ["KGEN code generator", "codegen.njk"],
];

// CPU time of this process, not wall time: other processes on the machine then disturb the ratio much less.
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// Batches grow until one takes >= 2 ms, so reading the CPU clock costs nothing next to the renders measured.
function timeIt(fn: () => void, minMs: number): number {
  let n = 0;
  let batch = 1;
  const start = cpuMs();
  let elapsed = 0;
  do {
    const t0 = cpuMs();
    for (let k = 0; k < batch; k++) fn();
    n += batch;
    const now = cpuMs();
    if (now - t0 < 2) batch *= 2;
    elapsed = now - start;
  } while (elapsed < minMs);
  return (n * 1000) / elapsed;
}

export default async function (args: string[]): Promise<void> {
  const rounds = Number(args[0] ?? 15);
  const engine = createEngine({ loader: memoryLoader(templates) });
  const reference = new nunjucks.Environment(
    new ((nunjucks.Loader as any).extend({ getSource: (name: string) => memoryLoader(templates).getSource(name) }))(),
  );
  for (const [, name] of cases) {
    const a = engine.render(name, contexts[name]);
    const b = reference.render(name, contexts[name]);
    if (a !== b) throw new Error(`outputs differ for ${name}`);
  }
  const rates = new Map<string, { mine: number[]; theirs: number[] }>();
  for (const [label] of cases) rates.set(label, { mine: [], theirs: [] });
  const compileRates = { mine: [] as number[], theirs: [] as number[] };
  const compileSources = Object.values(templates);
  for (let r = 0; r < rounds; r++) {
    for (const [label, name] of cases) {
      const ctx = contexts[name];
      const entry = rates.get(label) as { mine: number[]; theirs: number[] };
      const order = r % 2 === 0;
      const runMine = () => entry.mine.push(timeIt(() => engine.render(name, ctx), 60));
      const runTheirs = () => entry.theirs.push(timeIt(() => reference.render(name, ctx), 60));
      if (order) {
        runMine();
        runTheirs();
      } else {
        runTheirs();
        runMine();
      }
    }
    // compile = lexer + parser + transformer + code generation (closures vs JS text + new Function); no cache.
    // The order alternates per round, like the renders, so neither side always inherits the other's garbage.
    const compileMine = () => {
      let k = 0;
      compileRates.mine.push(
        timeIt(() => {
          const src = compileSources[k++ % compileSources.length] as string;
          engine.env.programCache.clear();
          engine.compile(src, `c${k}`);
        }, 60),
      );
    };
    const compileTheirs = () => {
      let k = 0;
      compileRates.theirs.push(
        timeIt(() => {
          const src = compileSources[k++ % compileSources.length] as string;
          new (nunjucks.Template as any)(src, reference, `c${k}`, true);
        }, 60),
      );
    };
    if (r % 2 === 0) {
      compileMine();
      compileTheirs();
    } else {
      compileTheirs();
      compileMine();
    }
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] as number;
  };
  // Ratios are taken per round (adjacent measurements), then the median: load from other processes cancels out.
  const pairRatio = (mine: number[], theirs: number[]) => median(mine.map((m, i) => m / (theirs[i] as number)));
  const ratios: number[] = [];
  for (const [label] of cases) {
    const entry = rates.get(label) as { mine: number[]; theirs: number[] };
    const mine = median(entry.mine);
    const theirs = median(entry.theirs);
    ratios.push(pairRatio(entry.mine, entry.theirs));
    console.log(
      `${label.padEnd(36)} engine ${mine.toFixed(0).padStart(8)} r/s   nunjucks ${theirs.toFixed(0).padStart(8)} r/s   ratio ${(ratios[ratios.length - 1] as number).toFixed(2)}x`,
    );
  }
  const compileRatio = pairRatio(compileRates.mine, compileRates.theirs);
  console.log(
    `${"compile (parse + build)".padEnd(36)} engine ${median(compileRates.mine).toFixed(0).padStart(8)} /s    nunjucks ${median(compileRates.theirs).toFixed(0).padStart(8)} /s    ratio ${compileRatio.toFixed(2)}x`,
  );
  const geomean = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
  const round = (x: number) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      bench: "templates",
      geomean: round(geomean),
      min: round(Math.min(...ratios)),
      compileRatio: round(compileRatio),
    }),
  );
}
