import { describe, expect, it } from "vitest";
import {
  asyncLoader,
  createEngine,
  memoryLoader,
  sharedProgramCount,
  TemplateBudgetError,
  TemplateError,
  TemplateSecurityError,
} from "../../../shared/template/index";

describe("createEngine", () => {
  it("renders strings and named templates, sync and async (async loader)", async () => {
    const engine = createEngine({ loader: memoryLoader({ "a.njk": "A{% include 'b.njk' %}", "b.njk": "B{{ v }}" }) });
    expect(engine.renderString("{{ v | upper }}", { v: "x" })).toBe("X");
    expect(engine.render("a.njk", { v: 1 })).toBe("AB1");
    expect(await engine.renderAsync("a.njk", { v: 2 })).toBe("AB2");
    const stored: Record<string, string> = {
      "p.njk": "{% extends 'l.njk' %}{% block b %}P{{ super() }}{% endblock %}",
      "l.njk": "<{% block b %}L{% endblock %}>",
    };
    const remote = createEngine({ loader: asyncLoader(async (name) => stored[name] ?? null) });
    expect(() => remote.render("p.njk")).toThrow(TemplateError);
    expect(await remote.renderAsync("p.njk")).toBe("<PL>");
  });

  it("takes filters, async filters, globals and tests", async () => {
    const engine = createEngine({
      filters: { twice: (s: unknown) => `${s}${s}` },
      asyncFilters: {
        later: (s: unknown, cb: (e: unknown, r?: unknown) => void) => setTimeout(() => cb(null, `<${s}>`), 1),
      },
      globals: { site: "kgen" },
      tests: { short: (s: string) => s.length < 3 },
    });
    engine.addFilter("rev", (s: string) => [...s].reverse().join(""));
    expect(engine.renderString("{{ site | twice | rev }} {{ 'ab' is short }}")).toBe("negknegk true");
    expect(await engine.renderStringAsync("{{ 'x' | later }}", {}, { path: "t" })).toBe("&lt;x&gt;");
  });

  it("caches compiled programs by content hash, shared by every engine without extensions", () => {
    const before = sharedProgramCount();
    const engine = createEngine();
    engine.renderString("{{ 'cache-test' }}1");
    engine.renderString("{{ 'cache-test' }}1");
    engine.renderString("{{ 'cache-test' }}2");
    expect(sharedProgramCount() - before).toBe(2);
    createEngine().renderString("{{ 'cache-test' }}1");
    expect(sharedProgramCount() - before).toBe(2);
    createEngine({ trimBlocks: true }).renderString("{{ 'cache-test' }}1");
    expect(sharedProgramCount() - before).toBe(3);
  });

  it("reports parse errors as TemplateError with line and column", () => {
    const engine = createEngine();
    try {
      engine.renderString("line one\n{% if %}", {}, { path: "bad.njk" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).line).toBe(2);
      expect((e as TemplateError).column).toBeGreaterThan(0);
    }
  });
});

describe("sandbox", () => {
  const engine = createEngine();
  const attacks = [
    "{{ constructor }}",
    "{{ ''.constructor }}",
    "{{ x.__proto__ }}",
    "{{ x['__pro' ~ 'to__'] }}",
    "{{ x[['constructor']] }}",
    '{% macro m() %}PWN{% endmacro %}{{ ({}).__proto__.__defineGetter__("polluted", m) }}',
    "{{ range.constructor('return globalThis')() }}",
    "{{ valueOf().env }}",
    "{% set __proto__ = {polluted: 1} %}",
    '{{ { "__proto__": { polluted: 1 } } }}',
    "{% for constructor in [1] %}{% endfor %}",
    "{{ x | constructor }}",
    "{{ f.caller }}",
  ];
  it.each(attacks)("refuses %s", (src) => {
    expect(() => engine.renderString(src, { x: {}, f: () => 1 })).toThrow(TemplateSecurityError);
  });

  it("an attack render leaves the host and the next render clean", () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const src of attacks) {
      try {
        engine.renderString(src, { x: {} });
      } catch {
        // refused
      }
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    // biome-ignore lint/suspicious/noExplicitAny: probing for pollution
    expect(({} as any).polluted).toBeUndefined();
    expect(engine.renderString("{{ polluted }}|{{ x.polluted }}", { x: {} })).toBe("|");
  });

  it("stops runaway renders with a typed budget error", () => {
    const small = createEngine({
      limits: {
        maxSteps: 10_000,
        maxLoopIterations: 5_000,
        maxOutputBytes: 10_000,
        maxCallDepth: 50,
        maxIncludeDepth: 5,
      },
      loader: memoryLoader({ self: "{% include 'self' %}" }),
    });
    const budget = (src: string, name?: string) => {
      try {
        if (name) small.render(name);
        else small.renderString(src);
      } catch (e) {
        expect(e).toBeInstanceOf(TemplateBudgetError);
        return (e as TemplateBudgetError).budget;
      }
      return "none";
    };
    expect(budget("{% for i in range(1000000000) %}{% endfor %}")).toBe("loopIterations");
    expect(budget("{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}")).toBe(
      "loopIterations",
    );
    expect(budget("{% for i in range(4000) %}{{ 'xxxxxxxxxx' }}{% endfor %}")).toBe("outputBytes");
    expect(budget("{% set s = 'ab' %}{% for i in range(30) %}{% set s = s ~ s %}{% endfor %}")).toBe("outputBytes");
    expect(budget("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")).toBe("callDepth");
    expect(budget("", "self")).toBe("includeDepth");
    expect(budget("{{ 'x' | center(100000000) }}")).toBe("outputBytes");
    expect(small.renderString("{% for i in range(10) %}{{ i }}{% endfor %}")).toBe("0123456789");
  });

  it("types budget and sandbox errors of async renders too (templates from an async loader)", async () => {
    const stored: Record<string, string> = {
      loop: "{% for i in range(100000) %}{% endfor %}",
      poke: "{{ x.constructor }}",
    };
    const remote = createEngine({
      limits: { maxLoopIterations: 1000 },
      loader: asyncLoader(async (n) => stored[n] ?? null),
    });
    await expect(remote.renderAsync("loop")).rejects.toBeInstanceOf(TemplateBudgetError);
    await expect(remote.renderAsync("poke", { x: {} })).rejects.toBeInstanceOf(TemplateSecurityError);
    await expect(remote.renderAsync("missing")).rejects.toBeInstanceOf(TemplateError);
  });
});
