import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { DriftReportView } from "../../shared/contracts/drift";
import { type Lock, lockHash, parseLock } from "../../shared/generate/lock";
import { loadProject, type Project } from "../config";
import { compareArtifacts, type ModifiedFile } from "../drift";
import { CliError, EXIT } from "../exit-codes";
import { colours, outputOf } from "../output";
import { resolveCredentials } from "../platform/credentials";
import { PlatformClient } from "../platform/platform-client";
import { remoteDriftCheck } from "../platform/remote-drift";
import { render } from "./generate";

interface DriftOptions {
  generator?: string;
  remote?: boolean;
}

export interface DriftReport {
  status: "clean" | "drift";
  exitCode: number;
  summary: { expected: number; matched: number; modified: number; missing: number };
  modified: ModifiedFile[];
  missing: string[];
  lockChanged: boolean;
  /** expected: the lock regenerated now; actual: the one in the lock file, null when there is none. */
  lockHash: { expected: string; actual: string | null };
}

/** The project's lock file, or null when neither generate nor pull has written one. */
function lockFile(project: Project): Lock | null {
  const path = resolve(project.root, project.config.lock);
  if (!existsSync(path)) return null;
  try {
    return parseLock(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new CliError(
      `${project.config.lock} is not a valid lock: ${(error as Error).message}`,
      "run `kgen generate` to write it again",
    );
  }
}

/** The hash of the project's lock file, or null when generate has not written one. */
async function lockFileHash(project: Project): Promise<string | null> {
  const lock = lockFile(project);
  return lock === null ? null : lockHash(lock);
}

function humanRemote(report: DriftReportView): string {
  const summary = report.summary ?? { expected: 0, matched: 0, modified: 0, missing: 0, unexpected: 0 };
  const lines = [
    `${report.status === "clean" ? colours.green("clean") : colours.red("drift")}: ${summary.matched} of ${summary.expected} file(s) match, ${summary.modified} modified, ${summary.missing} missing (platform report ${report.id}, job ${report.job})`,
  ];
  for (const path of report.missing ?? []) lines.push(`  - ${path} (missing)`);
  for (const file of report.modified ?? []) {
    lines.push(`  ~ ${file.path} (${file.reason})`);
    if (file.diff) lines.push(file.diff.trimEnd());
  }
  return lines.join("\n");
}

/** `kgen drift --remote`: the platform checks the output folder against the job of the project's lock. */
async function remoteDrift(project: Project): Promise<DriftReportView> {
  const lock = lockFile(project);
  if (lock === null) {
    throw new CliError(
      `${project.config.lock} does not exist: there is no job to check against`,
      "pull a job first (kgen remote generate --wait, then kgen pull <job>)",
    );
  }
  const client = new PlatformClient(resolveCredentials());
  return remoteDriftCheck(client, lock, resolve(project.root, project.config.output));
}

function human(report: DriftReport): string {
  const { summary } = report;
  const lines = [
    `${report.status === "clean" ? colours.green("clean") : colours.red("drift")}: ${summary.matched} of ${summary.expected} file(s) match, ${summary.modified} modified, ${summary.missing} missing${report.lockChanged ? ", lock changed" : ""}`,
  ];
  if (report.lockChanged) {
    lines.push(`  lock ${report.lockHash.actual} -> ${report.lockHash.expected} (graph, templates or params changed)`);
  }
  for (const path of report.missing) lines.push(`  - ${path} (missing)`);
  for (const file of report.modified) {
    lines.push(`  ~ ${file.path} (${file.reason})`);
    if (file.diff) lines.push(file.diff.trimEnd());
  }
  return lines.join("\n");
}

/** `kgen drift`: regenerates in memory and reports where the output folder and lock no longer match. */
export function registerDriftCommand(program: Command): void {
  program
    .command("drift")
    .description("check that the output folder still matches what the graph and templates generate (exit 3 if not)")
    .option("--generator <name>", "the generator to check (required when the config has several)")
    .option("--remote", "let the platform check the files against the job of the project's lock")
    .action(async (options: DriftOptions, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      if (options.remote) {
        const report = await remoteDrift(project);
        output.result(report, humanRemote);
        process.exitCode = report.exitCode ?? EXIT.drift;
        return;
      }
      const run = await render(project, { generator: options.generator });
      const files = await compareArtifacts(resolve(project.root, project.config.output), run.artifacts);
      const expectedLock = await lockHash(run.lock);
      const actualLock = await lockFileHash(project);
      const lockChanged = actualLock !== null && actualLock !== expectedLock;
      const clean = files.modified.length === 0 && files.missing.length === 0 && !lockChanged;
      const report: DriftReport = {
        status: clean ? "clean" : "drift",
        exitCode: clean ? EXIT.ok : EXIT.drift,
        summary: {
          expected: files.expected,
          matched: files.matched.length,
          modified: files.modified.length,
          missing: files.missing.length,
        },
        modified: files.modified,
        missing: files.missing,
        lockChanged,
        lockHash: { expected: expectedLock, actual: actualLock },
      };
      output.result(report, human);
      process.exitCode = report.exitCode;
    });
}
