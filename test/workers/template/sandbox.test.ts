import { describe, expect, it } from "vitest";
import {
  asyncLoader,
  createEngine,
  memoryLoader,
  TemplateBudgetError,
  TemplateSecurityError,
} from "../../../shared/template/index";

describe("template engine inside workerd (no eval / new Function)", () => {
  it("renders where nunjucks' own compiler cannot", async () => {
    const engine = createEngine({ loader: memoryLoader({ "i.njk": "[{{ x }}]" }) });
    expect(engine.renderString("{% for i in [1,2] %}{{ i }}{% include 'i.njk' %}{% endfor %}", { x: "<y>" })).toBe(
      "1[&lt;y&gt;]2[&lt;y&gt;]",
    );
    const stored: Record<string, string> = {
      "a.njk": "{% extends 'b.njk' %}{% block m %}A{{ super() }}{% endblock %}",
      "b.njk": "<{% block m %}B{% endblock %}>",
    };
    const remote = createEngine({ loader: asyncLoader(async (n) => stored[n] ?? null) });
    expect(await remote.renderAsync("a.njk")).toBe("<AB>");
  });

  it("refuses prototype access and leaves Object.prototype clean", () => {
    const engine = createEngine();
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const src of [
      '{% macro m() %}PWN{% endmacro %}{{ ({}).__proto__.__defineGetter__("polluted", m) }}',
      "{{ ''.constructor.constructor('return 1')() }}",
      "{{ x['__proto__'] }}",
      "{{ valueOf() }}",
    ]) {
      expect(() => engine.renderString(src, { x: {} })).toThrow(TemplateSecurityError);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(engine.renderString("{{ polluted }}|{{ x.polluted }}", { x: {} })).toBe("|");
  });

  it("stops runaway renders with TemplateBudgetError", () => {
    const engine = createEngine({ limits: { maxLoopIterations: 10_000, maxCallDepth: 40 } });
    expect(() => engine.renderString("{% for i in range(0, 1000000000000) %}{% endfor %}")).toThrow(
      TemplateBudgetError,
    );
    expect(() => engine.renderString("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")).toThrow(TemplateBudgetError);
  });
});
