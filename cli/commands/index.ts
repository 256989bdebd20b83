import type { Command } from "commander";

/** Every command group of `kgen`, each in its own module. */
export function registerCommands(program: Command): void {
  void program;
}
