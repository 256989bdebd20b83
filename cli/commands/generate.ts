import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { attestArtifact } from "../../shared/generate/attestation";
import { provenanceOf } from "../../shared/generate/generate";
import { type Lock, lockHash, parseLock, serializeLock } from "../../shared/generate/lock";
import { PlanError } from "../../shared/generate/template-unit";
import { TemplateError } from "../../shared/template/errors";
import { plannedContent, targetOf, writeArtifact } from "../artifact-writer";
import { writeFileAtomically } from "../atomic-write";
import { loadProject, type Project } from "../config";
import { CliError } from "../exit-codes";
import { graphFiles, type OfflineRun, runOffline } from "../offline-engine";
import { outputOf } from "../output";
import { loadProjectSigner } from "../signing-key";

export interface GenerateOptions {
  generator?: string;
  graph?: string;
  dryRun?: boolean;
}

export interface GenerateSummary {
  generator: string;
  graph: string;
  lockHash: string;
  dryRun: boolean;
  written: string[];
  unchanged: string[];
  skipped: { template: string; reason: string }[];
}

export function pick<T extends { name: string }>(items: readonly T[], name: string | undefined, kind: string): T {
  if (name !== undefined) {
    const found = items.find((item) => item.name === name);
    if (!found) {
      throw new CliError(
        `no ${kind} named ${name} in kgen.config.json`,
        `one of: ${items.map((item) => item.name).join(", ")}`,
      );
    }
    return found;
  }
  const [only, ...others] = items;
  if (!only || others.length > 0) {
    throw new CliError(`kgen.config.json has several ${kind}s`, `name one with --${kind} <name>`);
  }
  return only;
}

/** The lock file's graph version when it pins `graph`; an absent or unreadable lock pins nothing. */
function pinnedGraphOf(project: Project, graph: string): (Lock["graph"] & { buildTime: string }) | undefined {
  const path = resolve(project.root, project.config.lock);
  if (!existsSync(path)) return undefined;
  try {
    const lock = parseLock(JSON.parse(readFileSync(path, "utf8")));
    return lock.graph.name === graph ? { ...lock.graph, buildTime: lock.buildTime } : undefined;
  } catch {
    return undefined;
  }
}

/** Renders the chosen generator over the chosen graph in memory; template failures become one-line CliErrors. */
export async function render(project: Project, options: GenerateOptions): Promise<OfflineRun> {
  const generator = pick(project.config.generators, options.generator, "generator");
  const graph = pick(project.config.graphs, options.graph, "graph");
  try {
    return await runOffline({
      graph: { name: graph.name, files: graphFiles(project.root, graph.files) },
      generator: { name: generator.name, folder: resolve(project.root, generator.path) },
      params: project.config.params,
      pinned: pinnedGraphOf(project, graph.name),
    });
  } catch (error) {
    if (error instanceof PlanError) throw templateFailure(error);
    throw error;
  }
}

/** A plan failure as one line naming the template, and the line when the template engine knows it. */
function templateFailure(error: PlanError): CliError {
  let cause: unknown = error.cause;
  while (cause instanceof Error && !(cause instanceof TemplateError)) cause = cause.cause;
  const line = cause instanceof TemplateError && cause.line !== undefined ? ` line ${cause.line}` : "";
  const row = error.rowIndex === null ? "" : ` (row ${error.rowIndex})`;
  const where = error.template === null ? "" : `${error.template}${line}${row}: `;
  const message =
    error.template !== null && error.message.startsWith(`${error.template}: `)
      ? error.message.slice(error.template.length + 2)
      : error.message;
  return new CliError(`${where}${message}`, "fix the template and run `kgen generate` again");
}

/** A progress bar on a TTY only, and only once the run has taken a second. */
function progress(total: number, quiet: boolean): { tick(): void; stop(): void } {
  const started = performance.now();
  let bar: SingleBar | null = null;
  let done = 0;
  return {
    tick() {
      done++;
      if (!bar && !quiet && process.stderr.isTTY && performance.now() - started > 1000) {
        bar = new SingleBar({ stream: process.stderr, clearOnComplete: true });
        bar.start(total, done);
      }
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** `kgen generate`: the platform's engine, offline, into the project's output folder. */
export function registerGenerateCommand(program: Command): void {
  program
    .command("generate")
    .description("render a generator over a graph into the output folder, with a lock and signed attestations")
    .option("--generator <name>", "the generator to run (required when the config has several)")
    .option("--graph <name>", "the graph to render (required when the config has several)")
    .option("--dry-run", "show what would be written without writing anything")
    .action(async (options: GenerateOptions, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const dryRun = options.dryRun === true;
      const signer = await loadProjectSigner(project.root);
      if (!signer && !dryRun) {
        throw new CliError("no signing key for attestations (.kgen/signing-key.json)", "run `kgen keys init` first");
      }
      const run = await render(project, options);
      const hashOfLock = await lockHash(run.lock);
      const outputRoot = resolve(project.root, project.config.output);
      // Every target is planned (and every write mode checked) before the first file changes.
      const planned = run.artifacts.map((artifact) => {
        const target = targetOf(outputRoot, artifact.path);
        return { artifact, target, planned: plannedContent(target, artifact) };
      });
      const summary: GenerateSummary = {
        generator: run.lock.generator.name,
        graph: run.lock.graph.name,
        lockHash: hashOfLock,
        dryRun,
        written: [],
        unchanged: [],
        skipped: run.skipped.map((unit) => ({ template: unit.template, reason: unit.reason })),
      };
      const bar = progress(planned.length, output.json);
      for (const item of planned) {
        const outcome = dryRun
          ? item.planned.changed
            ? "written"
            : "unchanged"
          : writeArtifact(item.target, item.artifact, item.planned);
        summary[outcome].push(item.artifact.path);
        if (!dryRun && signer) {
          const bytes = new TextEncoder().encode(item.artifact.content);
          const envelope = await attestArtifact(
            provenanceOf({ ...item.artifact, bytes }, run.lock, hashOfLock),
            signer,
          );
          writeFileAtomically(
            resolve(project.root, project.config.attestations, `${item.artifact.path}.dsse.json`),
            `${JSON.stringify(envelope, null, 2)}\n`,
          );
        }
        bar.tick();
      }
      bar.stop();
      if (!dryRun) writeFileAtomically(resolve(project.root, project.config.lock), serializeLock(run.lock));
      output.result(summary, (value) =>
        [
          `${value.dryRun ? "would write" : "written"}: ${value.written.length}, unchanged: ${value.unchanged.length}, skipped: ${value.skipped.length}`,
          ...value.written.map((path) => `  ${value.dryRun ? "~" : "+"} ${path}`),
          `lock ${value.lockHash}`,
        ].join("\n"),
      );
    });
}
