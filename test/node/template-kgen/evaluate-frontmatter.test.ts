import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import { evaluateFrontmatter, parseFrontmatter } from "../../../shared/template/frontmatter";
import { createKgenEnvironmentSpec, installKgenEnvironment } from "../../../shared/template/kgen";
import { OutputPathError } from "../../../shared/template/output-path";

describe("evaluateFrontmatter", () => {
  const env = installKgenEnvironment(
    new nunjucks.Environment(null, { autoescape: false }),
    createKgenEnvironmentSpec({ buildTime: "2024-01-01", seed: "s" }),
  );
  const render = (template: string, context: Record<string, unknown>) => env.renderString(template, context);
  const { frontmatter } = parseFrontmatter(
    "---\nto: src/{{ module | kebabCase }}/{{ name | pascalCase }}.ts\nskipIf: '!enabled'\nchmod: '644'\n---\n",
  );

  it("renders and normalises to with the render's filters", () => {
    const evaluated = evaluateFrontmatter(
      frontmatter,
      { module: "Billing Core", name: "invoice line", enabled: true },
      render,
    );
    expect(evaluated).toEqual({
      frontmatter: { ...frontmatter, to: "src/billing-core/InvoiceLine.ts" },
      outputPath: "src/billing-core/InvoiceLine.ts",
      skip: false,
    });
  });
  it("skips without rendering to", () => {
    const evaluated = evaluateFrontmatter(frontmatter, { enabled: false }, () => {
      throw new Error("to must not be rendered");
    });
    expect(evaluated).toEqual({ frontmatter, skip: true });
  });
  it("refuses a to with .. or empty segments (the issue: 422, not normalised)", () => {
    expect(() => evaluateFrontmatter(frontmatter, { module: "..", name: "x", enabled: true }, render)).toThrow(
      OutputPathError,
    );
    expect(() => evaluateFrontmatter({ to: "{{ dir }}/x.ts" }, { dir: "../.." }, render)).toThrow(OutputPathError);
  });
});
