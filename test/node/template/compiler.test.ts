// biome-ignore-all lint/suspicious/noExplicitAny: nunjucks' extension and loader APIs are untyped.
// One case list per module of shared/template/compiler/: each template renders (or fails) exactly as nunjucks'
// own compiled JavaScript does, through the async API so async filters, tags and loaders are covered too.
import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { createEngine, memoryLoader } from "../../../shared/template/index";

const templates: Record<string, string> = {
  "part.njk": "<p>{{ i }}:{{ title }}</p>",
  "lib.njk": `{% macro shout(x, suffix="!") %}{{ x | upper }}{{ suffix }}{% endmacro %}{% set answer = 42 %}{% set _hidden = 1 %}`,
  "base.njk": "[{% block head %}H{% endblock %}|{% block body %}B{% endblock %}]",
  "child.njk": `{% extends "base.njk" %}{% block body %}({{ super() }}){% endblock %}`,
};

const context = () => ({
  title: "T",
  items: [3, 1, 2],
  pairs: [
    ["a", 1],
    ["b", 2],
  ],
  obj: { x: 1, y: 2 },
  text: "a<b>&'\"",
  nested: { list: [{ name: "n1" }, { name: "n2" }] },
  fn: (a: number, b: number) => a + b,
});

function doubleLater(this: unknown, value: unknown, cb: (err: unknown, result?: unknown) => void): void {
  setTimeout(() => cb(null, `${value}${value}`), 0);
}
function failLater(this: unknown, _value: unknown, cb: (err: unknown) => void): void {
  setTimeout(() => cb(new Error("async filter failed")), 0);
}

/** `{% wrap "x" %}body{% endwrap %}` (sync) and `{% later "x" %}` (async): custom tags with and without content. */
class WrapExtension {
  tags = ["wrap"];
  parse(parser: any, nodes: any) {
    const tok = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(tok.value);
    const body = parser.parseUntilBlocks("endwrap");
    parser.advanceAfterBlockEnd();
    return new nodes.CallExtension(this, "run", args, [body]);
  }
  run(_context: unknown, label: string, body: () => string) {
    return `<${label}>${body()}</${label}>`;
  }
}
class LaterExtension {
  tags = ["later"];
  parse(parser: any, nodes: any) {
    const tok = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(tok.value);
    return new nodes.CallExtensionAsync(this, "run", args);
  }
  run(_context: unknown, label: string, cb: (err: unknown, result?: unknown) => void) {
    setTimeout(() => cb(null, `<later ${label}>`), 0);
  }
}

/** An error as the fuzzer compares them: the last line of its message (nunjucks prefixes the template path). */
function failure(error: unknown): string {
  const lines = String(error instanceof Error ? error.message : error).split("\n");
  return `ERR:${(lines[lines.length - 1] ?? "").trim()}`;
}

function engineRender(src: string, options: { throwOnUndefined?: boolean } = {}): Promise<string> {
  const engine = createEngine({
    loader: memoryLoader(templates),
    asyncFilters: { doubleLater, failLater },
    extensions: { wrap: new WrapExtension(), later: new LaterExtension() },
    throwOnUndefined: options.throwOnUndefined,
  });
  return engine.renderStringAsync(src, context()).then((out) => `OK:${out}`, failure);
}

function nunjucksRender(src: string, options: { throwOnUndefined?: boolean } = {}): Promise<string> {
  const loader = new ((nunjucks.Loader as any).extend({
    getSource: (name: string) => memoryLoader(templates).getSource(name),
  }))();
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: !!options.throwOnUndefined });
  env.addFilter("doubleLater", doubleLater, true);
  env.addFilter("failLater", failLater, true);
  env.addExtension("wrap", new WrapExtension());
  env.addExtension("later", new LaterExtension());
  return new Promise((resolve) => {
    try {
      env.renderString(src, context(), (err: unknown, out: string | null) => resolve(err ? failure(err) : `OK:${out}`));
    } catch (e) {
      resolve(failure(e));
    }
  });
}

async function expectSameAsNunjucks(src: string, expected: RegExp, options: { throwOnUndefined?: boolean } = {}) {
  const [mine, theirs] = await Promise.all([engineRender(src, options), nunjucksRender(src, options)]);
  expect(mine).toBe(theirs);
  // the case exercises what it names: the output (or error) is the one the template was written for
  expect(mine).toMatch(expected);
}

const modules: Record<string, [string, RegExp][]> = {
  "output (fused parts, escaping, inline names)": [
    ["a{{ title }}b{{ text }}c{{ missing }}d", /^OK:aTba&lt;b&gt;&amp;&#39;&quot;cd$/],
    ["{{ items }}{{ obj }}{{ none }}", /^OK:3,1,2\[object Object\]$/],
  ],
  "statements (set, switch, if)": [
    ["{% set a, b = 2 %}{{ a + b }}{% set c %}in{{ a }}{% endset %}{{ c }}", /^OK:4in2$/],
    [
      "{% switch 2 %}{% case 1 %}one{% case 2 %}{% case 3 %}two-or-three{% default %}other{% endswitch %}",
      /^OK:two-or-three$/,
    ],
    ["{% if items | length > 2 %}many{% elif items %}some{% else %}none{% endif %}", /^OK:many$/],
    ["{% switch 1 %}{% case 1 %}{% include 'part.njk' %}{% endswitch %}", /^ERR:.*Illegal break statement/],
  ],
  "loops (arrays, destructuring, objects, loop variables, else)": [
    [
      "{% for x in items %}{{ loop.index }}/{{ loop.revindex0 }}{{ x }}{{ ',' if not loop.last }}{% endfor %}",
      /^OK:1\/23,2\/11,3\/02$/,
    ],
    [
      "{% for k, v in pairs %}{{ k }}={{ v }};{% endfor %}{% for k, v in obj %}{{ k }}:{{ v }}({{ loop.length }}){% endfor %}",
      /^OK:a=1;b=2;x:1\(2\)y:2\(2\)$/,
    ],
    [
      "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in missing %}x{% else %}none{% endfor %}",
      /^OK:emptynone$/,
    ],
  ],
  "macros and call blocks": [
    [
      '{% macro f(a, b="B") %}[{{ a }}{{ b }}{{ caller() if caller }}]{% endmacro %}{{ f(1) }}{{ f(2, b=3) }}{% call f("c") %}body{% endcall %}',
      /^OK:\[1B\]\[23\]\[cBbody\]$/,
    ],
  ],
  "composition (import, from import, include, extends, block, super)": [
    ['{% import "lib.njk" as lib %}{{ lib.shout("hi") }}{{ lib.answer }}', /^OK:HI!42$/],
    ['{% from "lib.njk" import shout as s, answer %}{{ s("x", suffix="?") }}{{ answer }}', /^OK:X\?42$/],
    ['{% from "lib.njk" import nothing %}', /^ERR:.*cannot import 'nothing'$/],
    ['{% for i in [1, 2] %}{% include "part.njk" %}{% endfor %}', /^OK:<p>1:T<\/p><p>2:T<\/p>$/],
    ['{% include "gone.njk" ignore missing %}ok', /^OK:ok$/],
    ['{% include "gone.njk" %}', /^ERR:.*gone\.njk/],
    ['{% extends "child.njk" %}{% block head %}h{{ super() }}{% endblock %}', /^OK:\[hH\|\(B\)\]$/],
  ],
  "async statements (async filters, IfAsync, asyncEach, asyncAll)": [
    ["{{ title | doubleLater }}-{% if true %}{{ 'x' | doubleLater }}{% endif %}", /^OK:TT-xx$/],
    ["{% asyncEach x in items %}{{ x | doubleLater }}{% endeach %}", /^OK:331122$/],
    [
      "{% asyncAll x in items %}{{ x | doubleLater }}{% else %}none{% endall %}|{% asyncAll x in [] %}{% else %}none{% endall %}",
      /^OK:331122\|none$/,
    ],
    ["a{{ 'x' | failLater }}b", /^ERR:.*async filter failed/],
  ],
  "extensions (content arguments, async tags)": [
    ['{% wrap "b" %}in {{ title }}{% endwrap %}{% later "L" %}', /^OK:&lt;b&gt;in T&lt;\/b&gt;&lt;later L&gt;$/],
  ],
  "expressions and operators (JavaScript precedence, tests, filters, calls)": [
    [
      "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ 2 ** 10 }} {{ 'a' ~ 1 + 2 }} {{ -3 % 2 }}",
      /^OK:7 9 3 1024 a12 -1$/,
    ],
    [
      "{{ 1 < 2 == true }} {{ not 1 in items }} {{ 3 is odd }} {{ 9 is divisibleby(3) }} {{ 1 if 0 else 2 }}",
      /^OK:true false true true 2$/,
    ],
    [
      "{{ fn(1, 2) }} {{ nested.list[1].name }} {{ items | sort | join('-') }} {{ {a: 1}.a }} {{ [1, 2][0] }}",
      /^OK:3 n2 1-2-3 1 1$/,
    ],
    // compileIs writes the test's arguments without commas: two numbers become one, anything else breaks the code
    ["{{ 12 is divisibleby(1, 2) }} {{ 10 is divisibleby(1, 2) }}", /^OK:true false$/],
    ["{{ 5 is divisibleby(1, 'a') }}", /^ERR:.*missing \) after argument list/],
    ["{{ - -1 }}", /^ERR:.*Invalid left-hand side expression in prefix operation/],
    ["{{ missing() }}", /^ERR:.*Unable to call `missing`, which is undefined or falsey/],
  ],
};

describe("the closure compiler renders as nunjucks' compiled JavaScript, module by module", () => {
  for (const [module, cases] of Object.entries(modules)) {
    it.each(cases)(`${module}: %s`, (src, expected) => expectSameAsNunjucks(src, expected));
  }

  it("output with throwOnUndefined: the same values, and the same error for an undefined one", async () => {
    await expectSameAsNunjucks("a{{ title }}b{{ none if false else 1 }}", /^OK:aTb1$/, { throwOnUndefined: true });
    await expectSameAsNunjucks("a{{ missing }}", /^ERR:.*attempted to output null or undefined value/, {
      throwOnUndefined: true,
    });
  });
});
