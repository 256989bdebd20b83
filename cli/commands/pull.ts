import { chmodSync, existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { createTwoFilesPatch } from "diff";
import { canonicalJson } from "../../shared/core/canonical-json";
import { sha256Hex } from "../../shared/core/sha256";
import type { JsonWebKeySet } from "../../shared/generate/attestation";
import { serializeLock } from "../../shared/generate/lock";
import { targetOf } from "../artifact-writer";
import { writeFileAtomically } from "../atomic-write";
import { loadProject, type Project } from "../config";
import { CliError, EXIT } from "../exit-codes";
import { outputOf } from "../output";
import { resolveCredentials } from "../platform/credentials";
import { type VerifiedArtifact, verifyJobBundle } from "../platform/job-bundle";
import type { RemoteJob } from "../platform/job-follower";
import { PlatformClient } from "../platform/platform-client";

/** Where pull keeps the tenant's public keys, so `kgen verify --jwks` checks pulled files offline. */
export const PLATFORM_JWKS_FILE = ".kgen/platform-jwks.json";
const MAX_DIFF_LINES = 40;

interface LocalChange {
  path: string;
  diff: string | null;
}

/** The subject digest of the file's last attestation, or null when there is none to read. */
function attestedSha256(project: Project, path: string): string | null {
  const file = resolve(project.root, project.config.attestations, `${path}.dsse.json`);
  if (!existsSync(file)) return null;
  try {
    const envelope = JSON.parse(readFileSync(file, "utf8")) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as {
      subject: { name: string; digest: { sha256: string } }[];
    };
    return statement.subject.find((subject) => subject.name === path)?.digest.sha256 ?? null;
  } catch {
    return null;
  }
}

/** A short unified diff, local (`local/<path>`) against the job's (`job/<path>`); null for non-text bytes. */
function shortDiff(path: string, local: Uint8Array, incoming: Uint8Array): string | null {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    const patch = createTwoFilesPatch(`local/${path}`, `job/${path}`, decoder.decode(local), decoder.decode(incoming));
    const lines = patch.split("\n");
    return lines.length > MAX_DIFF_LINES
      ? [...lines.slice(0, MAX_DIFF_LINES), `… ${lines.length - MAX_DIFF_LINES} more lines`].join("\n")
      : patch;
  } catch {
    return null;
  }
}

/**
 * Files that would be overwritten although someone changed them: the file exists, differs from what
 * the job brings, and is not what its last attestation says was generated (or has no attestation).
 */
async function localChanges(
  project: Project,
  outputRoot: string,
  artifacts: VerifiedArtifact[],
): Promise<LocalChange[]> {
  const changes: LocalChange[] = [];
  for (const artifact of artifacts) {
    const target = targetOf(outputRoot, artifact.path);
    if (!existsSync(target)) continue;
    const local = new Uint8Array(readFileSync(target));
    const localSha256 = await sha256Hex(local);
    if (localSha256 === (await sha256Hex(artifact.bytes))) continue;
    if (localSha256 === attestedSha256(project, artifact.path)) continue;
    changes.push({ path: artifact.path, diff: shortDiff(artifact.path, local, artifact.bytes) });
  }
  return changes;
}

/** Each artifact's `chmod` (four octal digits, or null) from the job's artifact listing, page by page. */
async function artifactModes(client: PlatformClient, jobId: string): Promise<Map<string, string | null>> {
  const modes = new Map<string, string | null>();
  let cursor: string | null = null;
  do {
    const query = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: { items: { path: string; chmod: string | null }[]; nextCursor: string | null } = (
      await client.json<{ items: { path: string; chmod: string | null }[]; nextCursor: string | null }>(
        "GET",
        `/v1/jobs/${encodeURIComponent(jobId)}/artifacts?${query}`,
      )
    ).value;
    for (const item of page.items) modes.set(item.path, item.chmod);
    cursor = page.nextCursor;
  } while (cursor);
  return modes;
}

/** `kgen pull <job>`: a completed job's files, verified, into the project. */
export function registerPullCommand(program: Command): void {
  program
    .command("pull")
    .description("download a completed job's files, verify every attestation, and write them with the lock")
    .argument("<job>", "the job id (kgen remote generate prints it)")
    .option("--force", "overwrite files changed locally")
    .action(async (jobId: string, options: { force?: boolean }, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const client = new PlatformClient(resolveCredentials());
      const path = `/v1/jobs/${encodeURIComponent(jobId)}`;
      const found = await client.json<RemoteJob>("GET", path, undefined, { expect: [404] });
      const job = found.value;
      if (found.status === 404) {
        throw new CliError(`no job ${jobId} on ${client.url}`, "check the id (kgen remote generate prints it)");
      }
      if (job.status === "failed") {
        throw new CliError(
          `job ${jobId} failed: ${job.error ?? "no reason given"}`,
          "fix the cause and generate again",
        );
      }
      if (job.status !== "completed") {
        throw new CliError(
          `job ${jobId} is still ${job.status}`,
          `wait for it: kgen remote generate --wait, or pull again later`,
        );
      }
      const me = (await client.json<{ tenant: { id: string } }>("GET", "/v1/me")).value;
      const jwks = (
        await client.json<JsonWebKeySet>("GET", `/v1/tenants/${encodeURIComponent(me.tenant.id)}/jwks.json`)
      ).value;
      const zip = (await client.request("GET", `${path}/bundle`, { accept: "application/zip" })).bytes;
      const bundle = await verifyJobBundle(zip, job, jwks);

      const modes = await artifactModes(client, job.id);
      const outputRoot = resolve(project.root, project.config.output);
      const changes = await localChanges(project, outputRoot, bundle.artifacts);
      if (changes.length > 0 && !options.force) {
        if (!output.json) {
          for (const change of changes)
            process.stderr.write(`${change.diff ?? `${change.path}: binary content differs`}\n`);
        }
        throw new CliError(
          `${changes.length} file(s) changed locally, nothing was written: ${changes.map((change) => change.path).join(", ")}`,
          "keep your changes elsewhere, or pass --force to overwrite them",
          EXIT.drift,
          { modified: changes },
        );
      }

      const written: string[] = [];
      const unchanged: string[] = [];
      // Each file with its attestation, so an interrupted pull leaves pairs that agree (and are not local edits).
      for (const artifact of bundle.artifacts) {
        const target = targetOf(outputRoot, artifact.path);
        if (existsSync(target) && Buffer.compare(readFileSync(target), artifact.bytes) === 0)
          unchanged.push(artifact.path);
        else {
          writeFileAtomically(target, artifact.bytes);
          written.push(artifact.path);
        }
        const chmod = modes.get(artifact.path);
        if (chmod) chmodSync(target, Number.parseInt(chmod, 8));
        writeFileAtomically(
          resolve(project.root, project.config.attestations, `${artifact.path}.dsse.json`),
          `${JSON.stringify(artifact.envelope, null, 2)}\n`,
        );
      }
      writeFileAtomically(resolve(project.root, PLATFORM_JWKS_FILE), `${canonicalJson(jwks)}\n`);
      // The lock last: it says the files next to it are this job's.
      writeFileAtomically(resolve(project.root, project.config.lock), serializeLock(bundle.lock));
      output.result(
        {
          job: job.id,
          lockHash: bundle.lockHash,
          written,
          unchanged,
          overwritten: options.force ? changes.map((c) => c.path) : [],
        },
        (value) =>
          [
            `pulled job ${value.job}: written ${value.written.length}, unchanged ${value.unchanged.length}`,
            ...value.written.map((file) => `  + ${file}`),
            `lock ${value.lockHash}`,
          ].join("\n"),
      );
    });
}
