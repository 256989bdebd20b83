import type { Command } from "commander";
import pc from "picocolors";

/**
 * How a command reports: `--json` prints exactly one JSON object on stdout; otherwise human text.
 * Colour only on a TTY and never with NO_COLOR (picocolors decides both).
 */
export interface Output {
  readonly json: boolean;
  /** The command's result: `value` as JSON with --json, else the text `human(value)` gives. */
  result<T>(value: T, human: (value: T) => string): void;
  /** A progress or status line for people: stderr, and nothing in --json mode. */
  note(line: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : ensureNewline(human(value)));
    },
    note(line) {
      if (!json) process.stderr.write(`${pc.dim(line)}\n`);
    },
  };
}

function ensureNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

export const colours = pc;

/** The output of a command, from its global `--json` option. */
export function outputOf(command: Command): Output {
  return createOutput(command.optsWithGlobals<{ json?: boolean }>().json === true);
}
