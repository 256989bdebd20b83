import type { Command } from "commander";
import { registerGraphCommands } from "./graph";

/** Every command group of `kgen`, each in its own module. */
export function registerCommands(program: Command): void {
  registerGraphCommands(program);
}
