import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import {
  evaluateFrontmatter,
  normalizeOutputPath,
  OutputPathError,
  parseFrontmatter,
} from "../../../shared/template/frontmatter";
import { createKgenEnvironmentSpec, installKgenEnvironment } from "../../../shared/template/kgen";

describe("normalizeOutputPath", () => {
  it("normalises relative paths", () => {
    expect(normalizeOutputPath("./src//a/../b.ts")).toBe("src/b.ts");
    expect(normalizeOutputPath(" docs/README.md ")).toBe("docs/README.md");
  });
  it("refuses paths outside the output tree or unusable ones, naming the to field", () => {
    for (const bad of [
      "",
      "/etc/passwd",
      "C:/x",
      "c:x",
      "a\\b",
      "../x",
      "a/../../x",
      "dir/",
      ".",
      "a/..",
      "a\u0000b",
    ]) {
      try {
        normalizeOutputPath(bad);
        expect.unreachable(bad);
      } catch (error) {
        expect(error, bad).toBeInstanceOf(OutputPathError);
        expect((error as OutputPathError).field).toBe("to");
        expect((error as Error).message).toContain('"to"');
      }
    }
  });
});

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
  it("refuses a to that renders outside the output tree", () => {
    expect(() => evaluateFrontmatter(frontmatter, { module: "..", name: "x", enabled: true }, render)).not.toThrow();
    expect(() => evaluateFrontmatter({ to: "{{ dir }}/x.ts" }, { dir: "../.." }, render)).toThrow(OutputPathError);
  });
});
