// A drift check of a generated tree by hashes through the API, on the real Worker (local Miniflare): a job
// writes `files` artifacts, then POST /v1/drift sends every file's sha256 (queued above 1,000 files) and
// GET /v1/drift/{id} is polled until the report is done. Times the check only, from the POST to the report.
import { startLocalPlatform } from "../test/support/local-platform";
import { ENTITY_FRONTMATTER, entityGraph } from "./entity-corpus";

const TEMPLATE = `${ENTITY_FRONTMATTER}export const {{ e.name | constantCase }}_SIZE = {{ e.size }};\n`;

async function api(url: string, key: string, method: string, path: string, body?: string, type = "application/json") {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": type }) },
    body,
  });
  if (response.status >= 300)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<Record<string, unknown>>;
}

async function settled<T>(poll: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await poll();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`not settled within ${timeoutMs} ms`);
}

/** Wall time of one drift check of `files` generated files by their hashes, through the API. */
export async function measureDriftCheck(files = 10_000): Promise<{ driftCheckMs: number }> {
  const platform = await startLocalPlatform();
  try {
    const created = await api(
      platform.url,
      platform.adminToken,
      "POST",
      "/v1/tenants",
      JSON.stringify({ slug: "bench-drift", name: "Bench drift", plan: "enterprise" }),
    );
    const key = created.secret as string;
    await api(platform.url, key, "PUT", "/v1/graphs/model", entityGraph(files), "text/turtle");
    await api(platform.url, key, "PUT", "/v1/templates/bench/entity.njk", TEMPLATE, "text/plain");
    const started = await api(
      platform.url,
      key,
      "POST",
      "/v1/jobs",
      JSON.stringify({ graph: "model", generator: "bench" }),
    );
    const jobId = started.id as string;
    await settled(async () => {
      const job = await api(platform.url, key, "GET", `/v1/jobs/${jobId}`);
      if (job.status === "failed") throw new Error(`job failed: ${job.error}`);
      return job.status === "completed" ? job : undefined;
    }, 600_000);
    const tree: { path: string; sha256: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await api(
        platform.url,
        key,
        "GET",
        `/v1/jobs/${jobId}/artifacts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      for (const item of page.items as { path: string; sha256: string }[])
        tree.push({ path: item.path, sha256: item.sha256 });
      cursor = page.nextCursor as string | null;
    } while (cursor);
    if (tree.length !== files) throw new Error(`the job wrote ${tree.length} artifacts, not ${files}`);

    const begin = performance.now();
    const answer = await api(platform.url, key, "POST", "/v1/drift", JSON.stringify({ job: jobId, files: tree }));
    const report = await settled(
      async () => {
        const current =
          answer.state === "done" ? answer : await api(platform.url, key, "GET", `/v1/drift/${answer.id}`);
        if (current.state === "failed") throw new Error(`drift check failed: ${current.error}`);
        return current.state === "done" ? current : undefined;
      },
      600_000,
      20,
    );
    const driftCheckMs = performance.now() - begin;
    if (report.status !== "clean") throw new Error(`expected a clean tree, got ${JSON.stringify(report.summary)}`);
    return { driftCheckMs: Math.round(driftCheckMs) };
  } finally {
    await platform.dispose();
  }
}

export default async function bench(args: string[] = []): Promise<void> {
  const files = Number(args[0] ?? 10_000);
  const { driftCheckMs } = await measureDriftCheck(files);
  console.log(`drift check of ${files} files by hashes: ${driftCheckMs} ms`);
  console.log(JSON.stringify({ bench: "drift-check", files, driftCheckMs }));
}
