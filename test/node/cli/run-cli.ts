import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const KGEN = fileURLToPath(new URL("../../../cli/kgen.mjs", import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `kgen` command as a user would, as a process in `cwd`, without colour. */
export function runKgen(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): CliRun {
  const result = spawnSync(process.execPath, [KGEN, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The one JSON object a `--json` run printed. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/**
 * `runKgen` without blocking this process: needed while this process also serves the command (a local
 * platform or a proxy in front of it must keep answering while the command runs).
 */
export function runKgenAsync(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KGEN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
