import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { CONFIG_FILE, type ProjectConfig } from "../config";
import { CliError } from "../exit-codes";
import { outputOf } from "../output";

/** The example the scaffold copies, found next to the CLI's own files so an installed package has it too. */
const EXAMPLE = fileURLToPath(new URL("../../examples/shop/", import.meta.url));
const EXAMPLE_FILES = ["model.ttl", "generator"] as const;

/** What `kgen init` writes: the shop example as one graph and one generator, with the defaults spelled out. */
export const SCAFFOLD_CONFIG: ProjectConfig = {
  graphs: [{ name: "shop", files: ["model.ttl"] }],
  generators: [{ name: "shop", path: "generator" }],
  params: { title: "Shop API" },
  output: "out",
  lock: "kgen.lock.json",
  attestations: ".kgen/attestations",
};

export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description("scaffold a project from the shop example: model.ttl, generator/, kgen.config.json")
    .argument("[folder]", "where to create it (created if missing)", ".")
    .action((folder: string, _options: unknown, command: Command) => {
      const root = resolve(process.cwd(), folder);
      const taken = [CONFIG_FILE, ...EXAMPLE_FILES].filter((name) => existsSync(resolve(root, name)));
      if (taken.includes(CONFIG_FILE)) {
        throw new CliError(`${root} already has a ${CONFIG_FILE}`, "run `kgen init <new-folder>` for a new project");
      }
      // Checked before anything is written: a refused init leaves the folder as it was.
      if (taken.length > 0) {
        throw new CliError(
          `${root} already has ${taken.join(" and ")}`,
          "run `kgen init <new-folder>` for a new project",
        );
      }
      mkdirSync(root, { recursive: true });
      for (const name of EXAMPLE_FILES) cpSync(resolve(EXAMPLE, name), resolve(root, name), { recursive: true });
      writeFileSync(resolve(root, CONFIG_FILE), `${JSON.stringify(SCAFFOLD_CONFIG, null, 2)}\n`);
      const created = [CONFIG_FILE, ...EXAMPLE_FILES];
      outputOf(command).result({ root, created }, (value) =>
        [`created a project in ${value.root}: ${value.created.join(", ")}`, "next: kgen templates ls"].join("\n"),
      );
    });
}
