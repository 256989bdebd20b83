import { Command, CommanderError } from "commander";
import { ENGINE_VERSION } from "../shared/version";
import { registerCommands } from "./commands/index";
import { CliError, EXIT } from "./exit-codes";
import { colours } from "./output";

/** Runs `kgen` with an argv as Node gives it (`[node, script, …args]`) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name("kgen")
    .description("Knowledge graphs compiled into files, deterministically, with signed provenance.")
    .version(ENGINE_VERSION)
    .option("--json", "print one JSON object instead of human output")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(colours.red(text)) });
  registerCommands(program);
  try {
    await program.parseAsync([...argv]);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    return report(error, program.opts<{ json?: boolean }>().json === true);
  }
}

function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with their own output already written.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ error: error.message, hint: error.hint ?? null, exitCode: error.exitCode, ...(error.details === undefined ? {} : { details: error.details }) })}\n`,
      );
    } else {
      process.stderr.write(`${colours.red("error:")} ${error.message}\n`);
      if (error.hint) process.stderr.write(`${colours.dim("hint:")} ${error.hint}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ error: message, hint: null, exitCode: EXIT.error })}\n`);
  else process.stderr.write(`${colours.red("error:")} ${message}\n`);
  return EXIT.error;
}
