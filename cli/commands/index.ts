import type { Command } from "commander";
import { registerGenerateCommand } from "./generate";
import { registerKeysCommands } from "./keys";
import { registerVerifyCommand } from "./verify";

/** Every command group of `kgen`, each in its own module. */
export function registerCommands(program: Command): void {
  registerKeysCommands(program);
  registerGenerateCommand(program);
  registerVerifyCommand(program);
}
