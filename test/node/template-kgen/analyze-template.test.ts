import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import {
  analyzeTemplate,
  extractVariables,
  lintDeterminism,
  TemplateSyntaxError,
} from "../../../shared/template/kgen/analyze-template";

describe("extractVariables", () => {
  const cases: Array<[string, string, string[]]> = [
    ["plain output and lookups", "{{ user.name }} {{ items[index] }} {{ a.b.c }}", ["a", "index", "items", "user"]],
    [
      "operators, calls and literals",
      "{{ (x + 1) * y if cond else [z, {k: w, 'q': v}] }} {{ fn(arg, key=kw) }}",
      ["arg", "cond", "fn", "kw", "v", "w", "x", "y", "z"],
    ],
    [
      "filter names are not variables, filter arguments are",
      "{{ name | replace(old, 'x') | upper }}{% filter indent(width) %}{{ body }}{% endfilter %}",
      ["body", "name", "old", "width"],
    ],
    ["test names are not variables", "{% if n is divisibleby(step) and m is defined %}{% endif %}", ["m", "n", "step"]],
    ["set binds after its value is read", "{% set total = total + extra %}{{ total }}", ["extra", "total"]],
    ["set before use binds", "{% set greeting = 'hi' %}{{ greeting }} {{ who }}", ["who"]],
    ["block set binds", "{% set body %}{{ content }}{% endset %}{{ body }}", ["content"]],
    [
      "for binds its targets and loop",
      "{% for item in items %}{{ item.id }} {{ loop.index }} {{ other }}{% endfor %}",
      ["items", "other"],
    ],
    ["for destructuring", "{% for k, v in mapping %}{{ k }}={{ v }}{% endfor %}{{ k }}", ["k", "mapping"]],
    ["for else runs outside the loop frame", "{% for x in xs %}{% else %}{{ x }}{% endfor %}", ["x", "xs"]],
    ["set inside a for does not escape", "{% for x in xs %}{% set seen = x %}{% endfor %}{{ seen }}", ["seen", "xs"]],
    [
      "set in every branch binds, in some does not",
      "{% if a %}{% set v = 1 %}{% set w = 1 %}{% else %}{% set v = 2 %}{% endif %}{{ v }}{{ w }}",
      ["a", "w"],
    ],
    [
      "switch",
      "{% switch kind %}{% case 'a' %}{% set r = 1 %}{% default %}{% set r = 2 %}{% endswitch %}{{ r }}{{ q }}",
      ["kind", "q"],
    ],
    [
      "macro args, defaults and caller",
      "{% macro field(name, type=defaultType, opt=name) %}{{ name }}{{ type }}{{ caller() }}{{ outside }}{% endmacro %}{{ field('x') }}",
      ["defaultType", "outside"],
    ],
    [
      "macro bodies see top-level sets, not loop variables",
      "{% set prefix = 'p' %}{% for row in rows %}{% macro m() %}{{ prefix }}{{ row }}{% endmacro %}{% endfor %}",
      ["row", "rows"],
    ],
    [
      "call blocks keep their frame and bind their args",
      "{% for u in users %}{% call(x) list(u) %}{{ x }}{{ u }}{{ y }}{% endcall %}{% endfor %}",
      ["list", "users", "y"],
    ],
    [
      "imports bind their names",
      "{% import 'forms.njk' as forms %}{% from 'lib.njk' import a, b as c %}{{ forms.input(v) }}{{ a() }}{{ c() }}{{ b }}",
      ["b", "v"],
    ],
    [
      "super inside blocks",
      "{% extends 'base.njk' %}{% block content %}{{ super() }}{{ title }}{% endblock %}",
      ["title"],
    ],
    ["globals are not context variables", "{{ range(n) }}{{ now() }}{{ random(3) }}{{ cycler }}", ["n"]],
    ["raw blocks read nothing", "{% raw %}{{ not_a_var }}{% endraw %}", []],
  ];
  for (const [title, template, expected] of cases) {
    it(title, () => {
      expect(extractVariables(template)).toEqual(expected);
    });
  }

  it("can treat globals as variables", () => {
    expect(extractVariables("{{ now() }}{{ x }}", { globals: [] })).toEqual(["now", "x"]);
  });

  it("covers every name compiled nunjucks resolves from the context", () => {
    const templates = [
      "{% set a = 1 %}{% for i in list %}{{ i + a + b }}{% endfor %}{% if c %}{{ d.e }}{% endif %}",
      "{% macro m(p, q=r) %}{{ p }}{{ q }}{{ s }}{% endmacro %}{{ m(t) }}",
      "{% for k, v in obj %}{{ k }}{{ v }}{{ loop.first }}{{ u }}{% else %}{{ w }}{% endfor %}",
      "{% if x %}{% set y = 1 %}{% else %}{% set y = 2 %}{% endif %}{{ y }}{{ z | default(zz) }}",
      "{% for row in rows %}{% call(cell) table(row) %}{{ cell }}{{ sep }}{% endcall %}{% endfor %}",
    ];
    const context = {
      list: [1, 2],
      c: true,
      d: {},
      obj: { one: 1 },
      x: true,
      rows: [[1]],
      table: (_row: unknown, kwargs: { caller: (cell: number) => string }) => kwargs.caller(7),
    };
    const runtime = (nunjucks as unknown as { runtime: Record<string, (...args: unknown[]) => unknown> }).runtime;
    const original = runtime.contextOrFrameLookup as (...args: unknown[]) => unknown;
    const read = new Set<string>();
    runtime.contextOrFrameLookup = (ctx: unknown, frame: unknown, name: unknown) => {
      type Frame = { variables: Record<string, unknown>; parent?: Frame };
      let bound = false;
      for (let f = frame as Frame | undefined; f && !bound; f = f.parent)
        bound = Object.hasOwn(f.variables, String(name));
      if (!bound) read.add(String(name));
      return original(ctx, frame, name);
    };
    try {
      for (const template of templates) {
        read.clear();
        new nunjucks.Environment().renderString(template, context);
        expect(read.size, template).toBeGreaterThan(0);
        const declared = extractVariables(template);
        for (const name of read) expect(declared, `${template} reads ${name}`).toContain(name);
      }
    } finally {
      runtime.contextOrFrameLookup = original;
    }
  });
});

describe("analyzeTemplate", () => {
  it("lists blocks, macros, filters, globals and template references", () => {
    const analysis = analyzeTemplate(
      [
        "{% extends 'layouts/base.njk' %}",
        "{% import 'macros/forms.njk' as forms %}",
        "{% from 'macros/rdf.njk' import triple %}",
        "{% macro row(cells) %}{{ cells | join(', ') }}{% endmacro %}",
        "{% block header %}{% include 'partials/header.njk' %}{% endblock %}",
        "{% block body %}{% include partialName %}{{ items | sortBy('name') | json }}{{ now() }}{% endblock %}",
      ].join("\n"),
    );
    expect(analysis).toEqual({
      variables: ["items", "partialName"],
      globals: ["now"],
      filters: ["join", "json", "sortBy"],
      blocks: ["body", "header"],
      macros: ["row"],
      extends: ["layouts/base.njk"],
      includes: ["partials/header.njk"],
      imports: ["macros/forms.njk", "macros/rdf.njk"],
      dynamicReferences: true,
    });
  });

  it("lints what makes output depend on more than the context", () => {
    const analysis = analyzeTemplate(
      "{{ now() }}{{ random(3) }}{{ Date.now() }}{{ process.env.HOME }}{{ items | random }}",
    );
    expect(lintDeterminism(analysis).map((finding) => [finding.name, finding.kind])).toEqual([
      ["now", "build-time"],
      ["random", "seeded-random"],
      ["Date", "host-object"],
      ["process", "host-object"],
    ]);
    expect(lintDeterminism(analyzeTemplate("{{ x | pascalCase }}"))).toEqual([]);
  });

  it("honours lexer options such as custom tags", () => {
    expect(
      extractVariables("<% if a %><$ b $><% endif %>", {
        lexerOptions: { tags: { blockStart: "<%", blockEnd: "%>", variableStart: "<$", variableEnd: "$>" } },
      }),
    ).toEqual(["a", "b"]);
  });

  it("reports syntax errors with line and column", () => {
    try {
      analyzeTemplate("ok\n{% for %}");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateSyntaxError);
      expect((error as TemplateSyntaxError).line).toBe(2);
      expect((error as TemplateSyntaxError).column).toBe(8);
      expect((error as Error).message).toMatch(/unexpected token.*line 2, column 8/);
    }
    expect(() => analyzeTemplate("{% if x %}")).toThrow(TemplateSyntaxError);
  });
});
