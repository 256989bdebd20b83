import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { CliError } from "./exit-codes";

export const CONFIG_FILE = "kgen.config.json";

const relativePath = z.string().min(1).max(1024);

/** `kgen.config.json`: the project folder is the offline unit. Paths are relative to the file. */
export const projectConfigSchema = z.strictObject({
  graphs: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a graph name: letters, digits, . _ -"),
        files: z.array(relativePath).min(1).describe("RDF files or glob patterns, merged into one graph"),
      }),
    )
    .min(1),
  generators: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a generator name: letters, digits, . _ -"),
        path: relativePath.describe("the folder holding the generator's templates"),
      }),
    )
    .min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  output: relativePath.default(".").describe("where generated files are written"),
  lock: relativePath.default("kgen.lock.json"),
  attestations: relativePath.default(".kgen/attestations"),
});

export type ProjectConfig = z.infer<typeof projectConfigSchema>;

export interface Project {
  /** The folder holding kgen.config.json; every path of the config is relative to it. */
  root: string;
  config: ProjectConfig;
}

/** Finds kgen.config.json in `from` or the nearest folder above it, and validates it. */
export function loadProject(from: string): Project {
  let folder = resolve(from);
  while (!existsSync(resolve(folder, CONFIG_FILE))) {
    const parent = dirname(folder);
    if (parent === folder) {
      throw new CliError(`no ${CONFIG_FILE} in ${resolve(from)} or above`, "run `kgen init` to create a project");
    }
    folder = parent;
  }
  const file = resolve(folder, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CliError(
      `${file} is not valid JSON: ${(error as Error).message}`,
      "fix the file, or run `kgen init` in a new folder",
    );
  }
  const parsed = projectConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(the whole file)";
    throw new CliError(`${CONFIG_FILE}: ${field}: ${issue?.message ?? "invalid"}`, "see docs/cli.md for the fields");
  }
  return { root: folder, config: parsed.data };
}
