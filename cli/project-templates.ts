import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Project } from "./config";
import { CliError } from "./exit-codes";

/** One template file of a generator folder, named by its path inside that folder (`/`-separated). */
export interface ProjectTemplate {
  generator: string;
  path: string;
  file: string;
  size: number;
}

/** How many files one generator folder may hold before listing it is refused (a folder mistaken for one). */
export const MAX_TEMPLATES_PER_GENERATOR = 10_000;

/**
 * The templates of the project's generators (or only of `only`), in config order and then by
 * path in code-unit order, so every listing and lint report reads the same on every machine.
 * Hidden files and folders (`.git`, `.DS_Store`) are not templates.
 */
export function projectTemplates(project: Project, only?: string): ProjectTemplate[] {
  const generators = project.config.generators.filter((generator) => only === undefined || generator.name === only);
  if (only !== undefined && generators.length === 0) {
    const names = project.config.generators.map((generator) => generator.name).join(", ");
    throw new CliError(`no generator named ${only} in kgen.config.json`, `the generators are: ${names}`);
  }
  const templates: ProjectTemplate[] = [];
  for (const generator of generators) {
    const folder = resolve(project.root, generator.path);
    let isFolder = false;
    try {
      isFolder = statSync(folder).isDirectory();
    } catch {}
    if (!isFolder) {
      throw new CliError(
        `generator ${generator.name}: ${generator.path} is not a folder`,
        "fix its path in kgen.config.json",
      );
    }
    const paths = filesUnder(folder, "", generator.name).sort(compareCodeUnits);
    for (const path of paths) {
      const file = join(folder, ...path.split("/"));
      templates.push({ generator: generator.name, path, file, size: statSync(file).size });
    }
  }
  return templates;
}

function filesUnder(folder: string, prefix: string, generator: string, found: string[] = []): string[] {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory()) filesUnder(join(folder, entry.name), `${path}/`, generator, found);
    else if (entry.isFile()) found.push(path);
    if (found.length > MAX_TEMPLATES_PER_GENERATOR) {
      throw new CliError(
        `generator ${generator} holds more than ${MAX_TEMPLATES_PER_GENERATOR} files`,
        "point its path in kgen.config.json at the folder of its templates only",
      );
    }
  }
  return found;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A template's source as the platform stores it: UTF-8, a leading BOM dropped; undefined when not UTF-8. */
export function templateSource(template: ProjectTemplate): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(readFileSync(template.file));
  } catch {
    return undefined;
  }
}

/** The template's hash as the platform computes it on upload: sha256 of the UTF-8 bytes of its source. */
export function templateSha256(source: string): string {
  return createHash("sha256").update(new TextEncoder().encode(source)).digest("hex");
}

/** The template `generator/path` names, or a CliError with the way to list what exists. */
export function findTemplate(project: Project, reference: string): ProjectTemplate {
  const slash = reference.indexOf("/");
  if (slash <= 0 || slash === reference.length - 1) {
    throw new CliError(
      `${reference} does not name a template`,
      "name it <generator>/<path>, as `kgen templates ls` prints it",
    );
  }
  const generator = reference.slice(0, slash);
  const path = reference.slice(slash + 1);
  const template = projectTemplates(project, generator).find((candidate) => candidate.path === path);
  if (!template) {
    throw new CliError(
      `no template ${path} in generator ${generator}`,
      `run \`kgen templates ls --generator ${generator}\``,
    );
  }
  return template;
}
