import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { loadProject } from "../config";
import { CliError, EXIT } from "../exit-codes";
import { outputOf } from "../output";
import { resolveCredentials } from "../platform/credentials";
import { isFinished, JobFollowTimeout, pollingJobFollower, type RemoteJob } from "../platform/job-follower";
import { PlatformClient } from "../platform/platform-client";
import { streamingJobFollower } from "../platform/stream-job-follower";
import { pick } from "./generate";

interface RemoteGenerateOptions {
  generator?: string;
  graph?: string;
  wait?: boolean;
}

function jobSummary(job: RemoteJob) {
  return {
    id: job.id,
    status: job.status,
    lockHash: job.lockHash,
    graph: { name: job.lock.graph.name, version: job.lock.graph.version },
    generator: job.lock.generator.name,
    counts: job.counts,
    error: job.error,
  };
}

/** A bar of written artifacts on a terminal (never with --json); nothing otherwise. */
function jobProgress(quiet: boolean): { update(job: RemoteJob): void; stop(): void } {
  let bar: SingleBar | null = null;
  return {
    update(job) {
      if (quiet || !process.stderr.isTTY || job.counts.total === 0) return;
      if (!bar) {
        bar = new SingleBar({
          stream: process.stderr,
          clearOnComplete: true,
          format: "{bar} {value}/{total} artifacts",
        });
        bar.start(job.counts.total, 0);
      }
      bar.setTotal(job.counts.total);
      bar.update(job.counts.artifacts + job.counts.skipped);
    },
    stop: () => bar?.stop(),
  };
}

/** `kgen remote generate`: a job on the platform over the pushed graph and generator. */
export function registerRemoteCommands(program: Command): void {
  const remote = program.command("remote").description("run commands on the platform (see kgen login)");
  remote
    .command("generate")
    .description("start a generation job on the platform (POST /v1/jobs); --wait follows it to the end")
    .option("--generator <name>", "the generator to run (required when the config has several)")
    .option("--graph <name>", "the graph to render (required when the config has several)")
    .option("--wait", "follow the job until it completes or fails")
    .action(async (options: RemoteGenerateOptions, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const generator = pick(project.config.generators, options.generator, "generator");
      const graph = pick(project.config.graphs, options.graph, "graph");
      const client = new PlatformClient(resolveCredentials());
      let job = (
        await client.json<RemoteJob>("POST", "/v1/jobs", {
          graph: graph.name,
          generator: generator.name,
          params: project.config.params,
        })
      ).value;
      output.note(`job ${job.id} ${job.status}`);
      /** How --wait followed the job: the platform's event stream, or polling where there is none. */
      let followedBy: "event-stream" | "polling" | null = null;
      if (options.wait && !isFinished(job)) {
        const bar = jobProgress(output.json);
        bar.update(job);
        const follower = streamingJobFollower(client, pollingJobFollower(client));
        try {
          job = await follower.follow(job, (next) => bar.update(next));
          followedBy = follower.followedBy();
        } catch (error) {
          if (error instanceof JobFollowTimeout) {
            throw new CliError(`gave up waiting: ${error.message}`, `check later with \`kgen pull ${error.job.id}\``);
          }
          throw error;
        } finally {
          bar.stop();
        }
      }
      if (job.status === "failed") {
        throw new CliError(
          `job ${job.id} failed: ${job.error ?? "no reason given"}`,
          "fix the cause, `kgen push`, and generate again",
          EXIT.error,
        );
      }
      output.result({ ...jobSummary(job), followedBy }, (value) =>
        [
          `job ${value.id} ${value.status}: ${value.generator} over ${value.graph.name} version ${value.graph.version}`,
          `artifacts ${value.counts.artifacts}/${value.counts.total}, skipped ${value.counts.skipped}`,
          `lock ${value.lockHash}`,
          ...(value.status === "completed" ? [`pull it with: kgen pull ${value.id}`] : []),
        ].join("\n"),
      );
    });
}
