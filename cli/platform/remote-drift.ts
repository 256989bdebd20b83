import { existsSync, readFileSync } from "node:fs";
import type { DriftReportView } from "../../shared/contracts/drift";
import { sha256Hex } from "../../shared/core/sha256";
import type { Lock } from "../../shared/generate/lock";
import { lockHash } from "../../shared/generate/lock";
import { targetOf } from "../artifact-writer";
import { CliError } from "../exit-codes";
import type { PlatformClient } from "./platform-client";

/** Pages of the job list searched for the lock's job (newest first). */
const MAX_JOB_PAGES = 10;
const POLL_INTERVAL_MS = 250;
const POLL_TIMEOUT_MS = 10 * 60 * 1000;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface JobListItem {
  id: string;
  status: string;
  lockHash: string;
}

/** The newest completed job of the tenant with this lock hash: the job the lock file stands for. */
async function jobOfLock(client: PlatformClient, hash: string): Promise<string> {
  let cursor: string | null = null;
  for (let page = 0; page < MAX_JOB_PAGES; page++) {
    const query: string = `limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const { value }: { value: Page<JobListItem> } = await client.json<Page<JobListItem>>("GET", `/v1/jobs?${query}`);
    const job = value.items.find((item) => item.lockHash === hash && item.status === "completed");
    if (job) return job.id;
    cursor = value.nextCursor;
    if (cursor === null) break;
  }
  throw new CliError(
    `no completed job on ${client.url} has the lock hash ${hash}`,
    "generate it there first (kgen remote generate --wait, then kgen pull), or check offline with kgen drift",
  );
}

/** Every artifact of the job with its write mode. */
async function artifactsOf(client: PlatformClient, jobId: string): Promise<{ path: string; mode: string }[]> {
  const artifacts: { path: string; mode: string }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const { value }: { value: Page<{ path: string; mode: string }> } = await client.json<
      Page<{ path: string; mode: string }>
    >("GET", `/v1/jobs/${encodeURIComponent(jobId)}/artifacts?${query}`);
    artifacts.push(...value.items.map(({ path, mode }) => ({ path, mode })));
    cursor = value.nextCursor;
  } while (cursor);
  return artifacts;
}

/**
 * The platform's drift check of the output folder against the job of the project's lock: the hash of
 * each of the job's files on disk, with the content of files written with a block mode (a hash cannot
 * show a block is inside a file). Waits for a check the platform queued.
 */
export async function remoteDriftCheck(
  client: PlatformClient,
  lock: Lock,
  outputRoot: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<DriftReportView> {
  const jobId = await jobOfLock(client, await lockHash(lock));
  const files: ({ path: string; sha256: string } | { path: string; content: string; encoding: "base64" })[] = [];
  for (const artifact of await artifactsOf(client, jobId)) {
    const target = targetOf(outputRoot, artifact.path);
    if (!existsSync(target)) continue;
    const bytes = readFileSync(target);
    files.push(
      artifact.mode === "write"
        ? { path: artifact.path, sha256: await sha256Hex(new Uint8Array(bytes)) }
        : { path: artifact.path, content: bytes.toString("base64"), encoding: "base64" },
    );
  }
  const { status, value } = await client.json<DriftReportView>("POST", "/v1/drift", { job: jobId, files });
  if (status === 200) return value;
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(POLL_INTERVAL_MS);
    const report = (await client.json<DriftReportView>("GET", `/v1/drift/${encodeURIComponent(value.id)}`)).value;
    if (report.state === "done") return report;
    if (report.state === "failed") {
      throw new CliError(`the platform's drift check failed: ${report.error ?? "no reason given"}`, "run it again");
    }
  }
  throw new CliError(`the drift check ${value.id} is still pending`, `look later: GET /v1/drift/${value.id}`);
}
