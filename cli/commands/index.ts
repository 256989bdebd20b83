import type { Command } from "commander";
import { registerGraphCommands } from "./graph";
import { registerInitCommand } from "./init";
import { registerTemplatesCommands } from "./templates";

/** Every command group of `kgen`, each in its own module. */
export function registerCommands(program: Command): void {
  registerInitCommand(program);
  registerGraphCommands(program);
  registerTemplatesCommands(program);
}
