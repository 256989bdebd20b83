import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { MemoryBudgetExceededError, NestingTooDeepError } from "../../../shared/core/budget-errors";
import { describeTemplateFailure } from "../../../shared/template/errors";
import { createEngine, memoryLoader, TemplateBudgetError } from "../../../shared/template/index";

const CAP = 1_000;
const small = () => createEngine({ limits: { maxOutputBytes: CAP, maxArrayLength: 100, maxAllocatedBytes: 10_000 } });

function refusal(src: string, engine = small()): MemoryBudgetExceededError | NestingTooDeepError | undefined {
  try {
    engine.renderString(src);
  } catch (e) {
    if (e instanceof MemoryBudgetExceededError || e instanceof NestingTooDeepError) return e;
    throw e;
  }
  return undefined;
}

function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

describe("template memory budget", () => {
  it("refuses each sized builder one past its cap, before building, and accepts the cap itself", () => {
    const cases: [string, (n: number) => string, number][] = [
      ["repeat()", (n) => `{{ 'x'.repeat(${n}) | length }}`, CAP],
      ["padStart()", (n) => `{{ 'x'.padStart(${n}) | length }}`, CAP],
      ["padEnd()", (n) => `{{ 'x'.padEnd(${n}, 'ab') | length }}`, CAP],
      ["concat()", (n) => `{{ 'x'.repeat(500).concat('y'.repeat(${n - 500})) | length }}`, CAP],
      ["join()", (n) => `{{ ['x'.repeat(500), 'y'.repeat(${n - 501})].join('-') | length }}`, CAP],
      ["join filter", (n) => `{{ ['x'.repeat(500), 'y'.repeat(${n - 501})] | join('-') | length }}`, CAP],
      ["replaceAll()", (n) => `{{ 'ab'.repeat(${n / 4}).replaceAll('a', 'xyz') | length }}`, CAP],
      ["list filter", (n) => `{{ 'x'.repeat(${n}) | list | length }}`, 100],
      ["concat()", (n) => `{{ range(60).concat(range(${n - 60})) | length }}`, 100],
      ["slice filter", (n) => `{{ [1] | slice(${n}) | length }}`, 100],
      ["batch filter", (n) => `{{ [1] | batch(${n}, 0) | length }}`, 100],
    ];
    for (const [subject, template, cap] of cases) {
      expect(refusal(template(cap)), template(cap)).toBeUndefined();
      const refused = refusal(template(cap + 10));
      expect(refused, template(cap + 10)).toBeInstanceOf(MemoryBudgetExceededError);
      expect(refused?.subject).toBe(subject);
    }
  });

  it("counts everything a render creates against maxAllocatedBytes", () => {
    const keep = (n: number) =>
      `{% set l = [] %}{% for i in range(${n}) %}{% set _ = l.push('x'.repeat(900)) %}{% endfor %}{{ l | length }}`;
    expect(small().renderString(keep(10))).toBe("10");
    const refused = refusal(keep(12));
    expect(refused?.message).toBe("repeat() would exceed 10000 bytes created by one render");
    // the next render of the same engine starts from zero
    const engine = small();
    expect(refusal(keep(12), engine)).toBeInstanceOf(MemoryBudgetExceededError);
    expect(engine.renderString(keep(10))).toBe("10");
  });

  it("agrees with nunjucks on 300 random builder calls under the caps and refuses the others", () => {
    const oracle = new nunjucks.Environment([], { autoescape: true });
    const rnd = prng(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(rnd() * 1_500);
      const src = pick([
        `{{ 'ab'.repeat(${n >> 1}) | length }}`,
        `{{ 'ab'.padStart(${n}, 'xyz') }}`,
        `{{ range(${n >> 4}).join('-') }}`,
        `{{ range(${n >> 4}) | join(',') }}`,
        `{{ 'a,b'.repeat(${n >> 3}).split(',') | length }}`,
        `{{ 'ab'.repeat(${n >> 3}).replaceAll('a', 'xyz') }}`,
        `{{ 'ab'.repeat(${n >> 3}) | replace('b', 'cde') }}`,
        `{{ ('ab' ~ nl).repeat(${n >> 4}) | indent(${n >> 6}) }}`,
        `{{ range(${n >> 5}) | batch(3, 'z') | dump }}`,
      ]);
      let actual: string | undefined;
      try {
        actual = small().renderString(src, { nl: "\n" });
      } catch (e) {
        expect(e, src).toBeInstanceOf(MemoryBudgetExceededError);
        continue;
      }
      expect(actual, src).toBe(oracle.renderString(src, { nl: "\n" }));
      accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it("checks arrays before they are turned into text by printing, operators and printing filters", () => {
    const big = "{% set s = 'x'.repeat(600) %}";
    for (const use of [
      "{{ [s, s] }}",
      "{{ [s, s] ~ '' }}",
      "{{ [s, s] == 1 }}",
      "{{ -[s, s] }}",
      "{{ [s, s] | upper }}",
    ]) {
      expect(refusal(big + use)?.subject, use).toBe("array as text");
    }
    expect(small().renderString(`${big}{{ [s] | length }}{{ [1, 2] ~ '' }}`)).toBe("11,2");
  });

  it("refuses deep values built in a template instead of overflowing the stack", () => {
    const deep = "{% set x = [] %}{% for i in range(5000) %}{% set x = [x] %}{% endfor %}";
    const engine = createEngine();
    for (const use of ["{{ x | dump }}", "{{ x }}", "{{ x ~ '' }}", "{{ x | join }}", "{{ x.flat(10000) | length }}"]) {
      expect(refusal(deep + use, engine), use).toBeInstanceOf(NestingTooDeepError);
    }
  });

  it("keeps the existing budget types for existing limits", () => {
    const engine = small();
    expect(() => engine.renderString("{{ 'x' | center(100000) }}")).toThrow(TemplateBudgetError);
    expect(() =>
      engine.renderString("{% set s = 'ab' %}{% for i in range(20) %}{% set s = s ~ s %}{% endfor %}"),
    ).toThrow(TemplateBudgetError);
  });

  it("types memory errors of async renders and includes too", async () => {
    const engine = createEngine({
      limits: { maxOutputBytes: CAP },
      loader: memoryLoader({ big: "{{ 'x'.repeat(5000) }}", outer: "{% include 'big' %}" }),
    });
    await expect(engine.renderAsync("outer")).rejects.toBeInstanceOf(MemoryBudgetExceededError);
    expect(() => engine.render("outer")).toThrow(MemoryBudgetExceededError);
  });
});

describe("sandboxed functions", () => {
  it("print as native code with the sandbox, as nunjucks' source without it", () => {
    const src = "{{ range }}|{{ cycler }}|{{ joiner() }}|{{ 'x'.repeat }}|{% macro m() %}{% endmacro %}{{ m }}";
    const sandboxed = createEngine().renderString(src);
    expect(sandboxed).toBe(Array(5).fill("function () { [native code] }").join("|"));
    const measured = createEngine({ sandbox: false }).renderString("{{ range }}");
    expect(measured).toBe(new nunjucks.Environment([]).renderString("{{ range }}", {}));
  });
});

describe("describeTemplateFailure", () => {
  it("describes JavaScript errors in template terms and leaves nunjucks' own messages alone", () => {
    const described = [
      "TypeError: Cannot read properties of undefined (reading 'length')",
      "TypeError: arr.reduce is not a function",
      "RangeError: Invalid count value: -1",
      "RangeError: Maximum call stack size exceeded",
      "RangeError: Invalid string length",
    ].map(describeTemplateFailure);
    for (const text of described) expect(text).not.toMatch(/Error|reading|arr\.|Invalid/);
    expect(new Set(described).size).toBe(5);
    const own = 'Error: Unable to call `x["foo"]`, which is undefined or falsey';
    expect(describeTemplateFailure(own)).toBe(own);
  });
});
