/** The exit codes of every `kgen` command, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** The command failed: bad input, an unreadable file, a template error, a failed platform job. */
  error: 1,
  /** The command line itself is wrong: an unknown command or option, a missing argument. */
  usage: 2,
  /** Generated files no longer match what the graph and templates say. */
  drift: 3,
  /** No platform credentials, or the platform refused them (401/403). */
  auth: 4,
  /** The platform could not be reached, failed (5xx) or kept rate-limiting (429) after the retries. */
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can act on: one line, a hint, and the exit code it maps to. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = EXIT.error,
    /** What `--json` adds to the error object as `details` (e.g. the files a pull refused to overwrite). */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "CliError";
  }
}
