import { describe, expect, it } from "vitest";
import { FrontmatterError } from "../../../shared/template/frontmatter";
import { inspectTemplate, TemplateSyntaxError } from "../../../shared/template/kgen";

describe("inspectTemplate", () => {
  it("combines frontmatter and the variables of body, to, skipIf and foreach", () => {
    const source = [
      "---",
      "to: src/{{ module | kebabCase }}/{{ name | pascalCase }}.ts",
      "skipIf: options.skip",
      "foreach: model.classes",
      "description: a class per entity",
      "---",
      "export class {{ name | pascalCase }} { /* {{ now() }} */",
      "{% for f in fields %}  {{ f.name }}: {{ f.type | xsdType }};",
      "{% endfor %}}",
      "",
    ].join("\n");
    const inspection = inspectTemplate(source);
    expect(inspection.frontmatter.description).toBe("a class per entity");
    expect(inspection.bodyLine).toBe(7);
    expect(inspection.bodyVariables).toEqual(["fields", "name"]);
    expect(inspection.variables).toEqual(["fields", "model", "module", "name", "options"]);
    expect(inspection.globals).toEqual(["now"]);
    expect(inspection.filters).toEqual(["kebabCase", "pascalCase", "xsdType"]);
  });
  it("maps body syntax errors to source lines", () => {
    try {
      inspectTemplate("---\nto: a\n---\nfine\n{% if %}");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateSyntaxError);
      expect((error as TemplateSyntaxError).line).toBe(5);
      expect((error as Error).message).toMatch(/\(line 5, column \d+\)$/);
    }
    expect(() => inspectTemplate("---\nto: '{{ a '\n---\n")).toThrow(FrontmatterError);
  });
});
