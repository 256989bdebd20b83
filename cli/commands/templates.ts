import type { Command } from "commander";
import { FrontmatterError } from "../../shared/template/frontmatter";
import { TemplateSyntaxError } from "../../shared/template/kgen";
import { loadProject } from "../config";
import { CliError, EXIT } from "../exit-codes";
import { colours, outputOf } from "../output";
import { findTemplate, projectTemplates, templateSha256, templateSource } from "../project-templates";
import { inspectForGeneration, type LintProblem, lintTemplate } from "../template-lint";

/** `kgen templates ls|show|lint`: the project's templates, read from its generator folders. */
export function registerTemplatesCommands(program: Command): void {
  const templates = program.command("templates").description("list, inspect and lint the project's templates");

  templates
    .command("ls")
    .description("the generators of kgen.config.json and their templates (path, size, sha256)")
    .option("--generator <name>", "only this generator")
    .action((options: { generator?: string }, command: Command) => {
      const project = loadProject(process.cwd());
      const listed = projectTemplates(project, options.generator).map((template) => {
        const source = templateSource(template);
        if (source === undefined) {
          throw new CliError(`${template.generator}/${template.path} is not valid UTF-8`, "save it as UTF-8");
        }
        return {
          generator: template.generator,
          path: template.path,
          size: template.size,
          sha256: templateSha256(source),
        };
      });
      outputOf(command).result({ templates: listed }, (value) =>
        value.templates.length === 0
          ? "no templates"
          : value.templates.map((t) => `${t.generator}/${t.path}  ${t.size} B  ${colours.dim(t.sha256)}`).join("\n"),
      );
    });

  templates
    .command("show")
    .description("a template's frontmatter, variables, includes, imports and macros")
    .argument("<template>", "<generator>/<path>, as `kgen templates ls` prints it")
    .action((reference: string, _options: unknown, command: Command) => {
      const project = loadProject(process.cwd());
      const template = findTemplate(project, reference);
      const source = templateSource(template);
      if (source === undefined) throw new CliError(`${reference} is not valid UTF-8`, "save it as UTF-8");
      let inspection: ReturnType<typeof inspectForGeneration>;
      try {
        inspection = inspectForGeneration(source);
      } catch (error) {
        if (error instanceof TemplateSyntaxError || error instanceof FrontmatterError) {
          throw new CliError(
            `${reference}: ${error.message}`,
            `run \`kgen templates lint --generator ${template.generator}\``,
          );
        }
        throw error;
      }
      const shown = {
        generator: template.generator,
        path: template.path,
        size: template.size,
        sha256: templateSha256(source),
        frontmatter: inspection.frontmatter,
        variables: inspection.variables,
        globals: inspection.globals,
        filters: inspection.filters,
        extends: inspection.extends,
        includes: inspection.includes,
        imports: inspection.imports,
        macros: inspection.macros,
        blocks: inspection.blocks,
        dynamicReferences: inspection.dynamicReferences,
      };
      outputOf(command).result(shown, (value) => {
        const list = (names: readonly string[]) => (names.length === 0 ? colours.dim("none") : names.join(", "));
        const frontmatter = Object.entries(value.frontmatter).map(
          ([key, field]) => `  ${key}: ${typeof field === "string" ? field : JSON.stringify(field)}`,
        );
        return [
          `${value.generator}/${value.path}  ${value.size} B  ${colours.dim(value.sha256)}`,
          "frontmatter:",
          ...(frontmatter.length === 0 ? [`  ${colours.dim("none")}`] : frontmatter),
          `variables: ${list(value.variables)}`,
          `globals: ${list(value.globals)}`,
          `filters: ${list(value.filters)}`,
          `extends: ${list(value.extends)}`,
          `includes: ${list(value.includes)}${value.dynamicReferences ? " (and computed names)" : ""}`,
          `imports: ${list(value.imports)}`,
          `macros: ${list(value.macros)}`,
          `blocks: ${list(value.blocks)}`,
        ].join("\n");
      });
    });

  templates
    .command("lint")
    .description("syntax, frontmatter and its SPARQL, undefined variables (errors); non-determinism (warnings)")
    .option("--generator <name>", "only this generator")
    .action((options: { generator?: string }, command: Command) => {
      const project = loadProject(process.cwd());
      const params = Object.keys(project.config.params);
      const listed = projectTemplates(project, options.generator);
      const problems: LintProblem[] = [];
      for (const template of listed) {
        problems.push(...lintTemplate(`${template.generator}/${template.path}`, templateSource(template), params));
      }
      const errors = problems.filter((problem) => problem.severity === "error").length;
      outputOf(command).result({ files: listed.length, problems }, (value) => {
        const lines = value.problems.map(
          (p) =>
            `${p.file}:${p.line}:${p.column}  ${p.severity === "error" ? colours.red("error") : colours.yellow("warning")}  ${p.message}  ${colours.dim(p.rule)}`,
        );
        const warnings = value.problems.length - errors;
        lines.push(`${value.files} templates, ${errors} errors, ${warnings} warnings`);
        return lines.join("\n");
      });
      if (errors > 0) process.exitCode = EXIT.error;
    });
}
