import type { Command } from "commander";
import { registerDiffCommand } from "./diff";
import { registerDriftCommand } from "./drift";
import { registerGenerateCommand } from "./generate";
import { registerGraphCommands } from "./graph";
import { registerInitCommand } from "./init";
import { registerKeysCommands } from "./keys";
import { registerLoginCommands } from "./login";
import { registerPullCommand } from "./pull";
import { registerPushCommand } from "./push";
import { registerRemoteCommands } from "./remote";
import { registerTemplatesCommands } from "./templates";
import { registerVerifyCommand } from "./verify";

/** Every command group of `kgen`, each in its own module. */
export function registerCommands(program: Command): void {
  registerInitCommand(program);
  registerKeysCommands(program);
  registerGenerateCommand(program);
  registerVerifyCommand(program);
  registerDriftCommand(program);
  registerTemplatesCommands(program);
  registerGraphCommands(program);
  registerLoginCommands(program);
  registerPushCommand(program);
  registerRemoteCommands(program);
  registerPullCommand(program);
  registerDiffCommand(program);
}
