import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../shared/template/errors";
import { createKgenEngine } from "../../../shared/template/kgen-engine";
import { describeUndefinedOutput, undefinedOutputExpression } from "../../../shared/template/undefined-output";

function failure(source: string, context: Record<string, unknown> = {}): unknown {
  const engine = createKgenEngine({ buildTime: "2026-01-01T00:00:00Z", seed: "s", throwOnUndefined: true });
  try {
    engine.renderString(source, context);
  } catch (error) {
    return error;
  }
  throw new Error("rendered without error");
}

describe("undefined output under throwOnUndefined", () => {
  it("names the expression, the template and the line in the file", () => {
    const error = describeUndefinedOutput(failure("one\n  {{- foo.bar }}"), "one\n  {{- foo.bar }}", {
      path: "a/b.njk",
      firstLine: 4,
    });
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toBe(
      "`foo.bar` is undefined in a/b.njk at line 5, column 3 (throwOnUndefined is on)",
    );
    expect((error as TemplateError).line).toBe(5);
    expect((error as TemplateError).templatePath).toBe("a/b.njk");
  });

  it("finds the expression at the reported position only", () => {
    expect(undefinedOutputExpression("x {{ a.b [ c ] }}", 1, 3)).toBe("a.b [ c ]");
    expect(undefinedOutputExpression("x {{ a }}", 1, 1)).toBeUndefined();
    expect(undefinedOutputExpression("x {{ a", 1, 3)).toBeUndefined();
    expect(undefinedOutputExpression("x", 4, 1)).toBeUndefined();
    expect(undefinedOutputExpression(`{{ ${"a.".repeat(100)}z }}`, 1, 1)).toMatch(/…$/);
  });

  it("leaves other errors and errors of included templates as they are", () => {
    const other = new TemplateError("boom", 1, 1, undefined);
    expect(describeUndefinedOutput(other, "{{ x }}", { path: "t", firstLine: 1 })).toBe(other);
    const included = new TemplateError("attempted to output null or undefined value", 1, 1, "inc.njk");
    expect(describeUndefinedOutput(included, "{{ x }}", { path: "t", firstLine: 1 })).toBe(included);
    const plain = new Error("attempted to output null or undefined value");
    expect(describeUndefinedOutput(plain, "{{ x }}", { path: "t", firstLine: 1 })).toBe(plain);
  });

  it("fails on null too, and passes defined values and filtered outputs", () => {
    expect(failure("{{ n }}", { n: null })).toBeInstanceOf(TemplateError);
    const engine = createKgenEngine({ buildTime: "2026-01-01T00:00:00Z", seed: "s", throwOnUndefined: true });
    expect(engine.renderString("{{ a.b }}|{{ missing | default('d') }}", { a: { b: 0 } })).toBe("0|d");
  });
});
