import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";
import { planLimits } from "../../shared/plans";
import { database } from "../../workers/db/client";
import { BLOB_GRACE_MS, collectBlobs, collectTenantBlobs } from "../../workers/maintenance/collect-blobs";
import { expireJobs, expireTenantJobs } from "../../workers/maintenance/expire-jobs";
import { pruneTenantGraphVersions } from "../../workers/maintenance/prune-graph-versions";
import { ArtifactIndex } from "../../workers/repository/artifact-index";
import { JobLedger } from "../../workers/repository/jobs";
import { ContentStore, contentKey } from "../../workers/storage/content-store";
import { tenantObject } from "../../workers/tenant-object-stub";
import { countedCall } from "./central-calls";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { type JobView, runJob } from "./job-helpers";
import { rejection } from "./tenant-do/rejection";

/** A test tenant as the stores address it: created without a jurisdiction. */
const ref = (tenant: { id: string }) => ({ id: tenant.id, jurisdiction: null });

const TEMPLATE = "---\nto: README.md\n---\n# {{ title }}\n";
const DAY = 86_400_000;

// Tests that run several jobs through the queue get more than the default 5 s on a loaded machine.

/** A tenant with a graph and the one-template generator `notes`, which writes README.md from a `title` param. */
async function notesTenant(plan = "free"): Promise<TestTenant> {
  const tenant = await createTenant({ plan });
  const graph = await call("/v1/graphs/g", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
    body: "<http://e/s> <http://e/p> <http://e/o> .",
  });
  expect(graph.status).toBe(201);
  const template = await call("/v1/templates/notes/readme.md.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status).toBe(201);
  return tenant;
}

async function notesJob(tenant: TestTenant, title: string): Promise<JobView & { pinned: boolean; generator: string }> {
  const job = await runJob(tenant.apiKey, { graph: "g", generator: "notes", params: { title } });
  expect(job.status).toBe("completed");
  return job as JobView & { pinned: boolean; generator: string };
}

async function artifactOf(tenant: TestTenant, jobId: string) {
  const page = (await (await call(`/v1/jobs/${jobId}/artifacts`, { headers: bearer(tenant.apiKey) })).json()) as {
    items: { id: string; sha256: string }[];
  };
  const item = page.items[0] as { id: string; sha256: string };
  const record = await new ArtifactIndex(env, ref(tenant)).get(item.id);
  return { id: item.id, sha256: item.sha256, packSha256: record?.packSha256 as string };
}

const exists = async (tenantId: string, sha256: string) =>
  (await env.ARTIFACTS.head(contentKey(tenantId, sha256))) !== null;

describe("job pinning", () => {
  it("pins and unpins a job; the job shows its generator and whether it is pinned", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "one");
    expect(job).toMatchObject({ generator: "notes", pinned: false });

    const pinned = await call(`/v1/jobs/${job.id}/pin`, { method: "POST", headers: bearer(tenant.apiKey) });
    expect(pinned.status).toBe(200);
    expect(await pinned.json()).toMatchObject({ id: job.id, pinned: true, status: "completed" });
    const again = await call(`/v1/jobs/${job.id}/pin`, { method: "POST", headers: bearer(tenant.apiKey) });
    expect(((await again.json()) as { pinned: boolean }).pinned).toBe(true);
    expect(
      ((await (await call(`/v1/jobs/${job.id}`, { headers: bearer(tenant.apiKey) })).json()) as { pinned: boolean })
        .pinned,
    ).toBe(true);

    const unpinned = await call(`/v1/jobs/${job.id}/pin`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(unpinned.status).toBe(200);
    expect(((await unpinned.json()) as { pinned: boolean }).pinned).toBe(false);
  });

  it("makes one central call: the job's row in D1", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "counted");
    // The first request leaves the credential cached at the location.
    expect((await call(`/v1/jobs/${job.id}/pin`, { method: "POST", headers: bearer(tenant.apiKey) })).status).toBe(200);
    for (const method of ["POST", "DELETE"]) {
      const { response, onPath } = await countedCall(`/v1/jobs/${job.id}/pin`, {
        method,
        headers: bearer(tenant.apiKey),
      });
      expect(response.status).toBe(200);
      expect(onPath.map((central) => central.store)).toEqual(["d1"]);
    }
  });

  it("answers 404 for unknown jobs and another tenant's, 403 for viewers, 401 without a credential", async () => {
    const tenant = await notesTenant();
    const other = await notesTenant();
    const job = await notesJob(tenant, "mine");
    await expectProblem(
      await call("/v1/jobs/job_unknown/pin", { method: "POST", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    for (const method of ["POST", "DELETE"]) {
      await expectProblem(
        await call(`/v1/jobs/${job.id}/pin`, { method, headers: bearer(other.apiKey) }),
        404,
        "not-found",
      );
    }
    const viewer = await createKey(tenant, "viewer");
    await expectProblem(
      await call(`/v1/jobs/${job.id}/pin`, { method: "POST", headers: bearer(viewer.secret) }),
      403,
      "insufficient-role",
    );
    await expectProblem(await call(`/v1/jobs/${job.id}/pin`, { method: "POST" }), 401, "unauthorized");
    await expectProblem(
      await call(`/v1/jobs/${"x".repeat(65)}/pin`, { method: "POST", headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
    const untouched = (await (await call(`/v1/jobs/${job.id}`, { headers: bearer(tenant.apiKey) })).json()) as {
      pinned: boolean;
    };
    expect(untouched.pinned).toBe(false);
  });
});

describe("job retention", () => {
  it("keeps the plan's newest completed jobs per generator and every pinned job; the others expire with their artifacts", async () => {
    const kept = planLimits("free").keptJobsPerGenerator;
    const tenant = await notesTenant("free");
    const jobs = [];
    for (let n = 0; n < kept + 2; n++) jobs.push(await notesJob(tenant, `title ${n}`));
    const [pinnedJob, expiredJob] = jobs as unknown as [JobView, JobView];
    expect(
      (await call(`/v1/jobs/${pinnedJob.id}/pin`, { method: "POST", headers: bearer(tenant.apiKey) })).status,
    ).toBe(200);
    const expiredArtifact = await artifactOf(tenant, expiredJob.id);
    const keptJob = jobs[jobs.length - 1] as JobView;
    const keptArtifact = await artifactOf(tenant, keptJob.id);
    const pinnedArtifact = await artifactOf(tenant, pinnedJob.id);
    const artifactBytesUsed = async () => {
      const usage = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as {
        quotas: { counter: string; used: number }[];
      };
      return usage.quotas.find((quota) => quota.counter === "artifactBytes")?.used;
    };
    const usedBefore = await artifactBytesUsed();
    expect(usedBefore).toBe(jobs.reduce((sum, job) => sum + job.counts.bytes, 0));

    expect(await expireTenantJobs(env, { id: tenant.id, plan: "free", jurisdiction: null }, Date.now())).toEqual({
      expired: 1,
      more: false,
    });

    expect(await artifactBytesUsed()).toBe((usedBefore as number) - expiredJob.counts.bytes);
    const expiredEvents = (await (
      await call("/v1/events?after=0&types=job.expired", { headers: bearer(tenant.apiKey) })
    ).json()) as { events: { type: string; subject: string; data: Record<string, unknown> }[] };
    expect(expiredEvents.events).toEqual([
      expect.objectContaining({
        type: "dev.kgen.job.expired",
        subject: `jobs/${expiredJob.id}`,
        data: { jobId: expiredJob.id, generator: "notes" },
      }),
    ]);
    await expectProblem(await call(`/v1/jobs/${expiredJob.id}`, { headers: bearer(tenant.apiKey) }), 404, "not-found");
    await expectProblem(
      await call(`/v1/jobs/${expiredJob.id}/artifacts`, { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    for (const path of [`/v1/artifacts/${expiredArtifact.id}`, `/v1/artifacts/${expiredArtifact.id}/attestation`]) {
      await expectProblem(await call(path, { headers: bearer(tenant.apiKey) }), 404, "not-found");
    }
    for (const [artifact, title] of [
      [keptArtifact, `title ${kept + 1}`],
      [pinnedArtifact, "title 0"],
    ] as const) {
      const content = await call(`/v1/artifacts/${artifact.id}`, { headers: bearer(tenant.apiKey) });
      expect(await content.text()).toBe(`# ${title}\n`);
      const verdict = await call("/v1/verify", jsonBody({ artifact: artifact.id }, tenant.apiKey));
      expect(((await verdict.json()) as { valid: boolean }).valid).toBe(true);
    }
    const listed = (await (await call("/v1/jobs?limit=50", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { id: string }[];
    };
    expect(listed.items.map((job) => job.id).sort()).toEqual(
      jobs
        .filter((job) => job.id !== expiredJob.id)
        .map((job) => job.id)
        .sort(),
    );
    // Applied again, nothing more expires.
    expect(await expireTenantJobs(env, { id: tenant.id, plan: "free", jurisdiction: null }, Date.now())).toEqual({
      expired: 0,
      more: false,
    });
  }, 60_000);

  it("expires failed jobs after the plan's days unless pinned, and never a queued or running job", async () => {
    const tenant = await createTenant({ plan: "free" });
    const ledger = new JobLedger(database(env.DB), tenant.id);
    const old = new Date(Date.now() - (planLimits("free").failedJobRetentionDays + 1) * DAY).toISOString();
    const recent = new Date(Date.now() - DAY).toISOString();
    const row = (id: string, status: "failed" | "queued" | "running", at: string, pinned = false) => ({
      id,
      status,
      generator: "notes",
      pinned,
      lock: {},
      lockHash: "0".repeat(64),
      params: {},
      dryRun: false,
      total: 0,
      done: 0,
      skipped: 0,
      bytes: 0,
      error: status === "failed" ? "boom" : null,
      baseJobId: null,
      carried: 0,
      createdAt: at,
      updatedAt: at,
    });
    const suffix = tenant.id.slice(-8);
    for (const job of [
      row(`job_old_failed_${suffix}`, "failed", old),
      row(`job_old_failed_pinned_${suffix}`, "failed", old, true),
      row(`job_recent_failed_${suffix}`, "failed", recent),
      row(`job_old_queued_${suffix}`, "queued", old),
      row(`job_old_running_${suffix}`, "running", old),
    ])
      await ledger.create(job);

    expect(await expireTenantJobs(env, { id: tenant.id, plan: "free", jurisdiction: null }, Date.now())).toEqual({
      expired: 1,
      more: false,
    });
    const left = (await ledger.list(50)).map((job) => job.id).sort();
    expect(left).toEqual(
      [
        `job_old_failed_pinned_${suffix}`,
        `job_recent_failed_${suffix}`,
        `job_old_queued_${suffix}`,
        `job_old_running_${suffix}`,
      ].sort(),
    );
  });

  it("a job pinned after it was chosen for expiry is not deleted", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "raced");
    await call(`/v1/jobs/${job.id}/pin`, { method: "POST", headers: bearer(tenant.apiKey) });
    // The pin landed between the candidate query and the delete: the delete's own check keeps the job.
    expect(await new ArtifactIndex(env, ref(tenant)).expireJob(job.id, new Date().toISOString())).toBeNull();
    expect((await call(`/v1/jobs/${job.id}`, { headers: bearer(tenant.apiKey) })).status).toBe(200);
    const artifact = await artifactOf(tenant, job.id);
    expect((await call(`/v1/artifacts/${artifact.id}`, { headers: bearer(tenant.apiKey) })).status).toBe(200);
  });
});

describe("blob collection", () => {
  const later = (times: number) => Date.now() + times * BLOB_GRACE_MS + 60_000;

  it("a referenced pack survives every sweep; an unreferenced one is gone after one sweep", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "kept");
    const artifact = await artifactOf(tenant, job.id);
    const store = new ContentStore(env.ARTIFACTS, tenant.id);
    const orphan = await store.put(utf8("a pack no record references"), "application/octet-stream");
    const templateHash = await sha256Hex(TEMPLATE);

    const first = await collectTenantBlobs(env, ref(tenant), later(1));
    expect(first).toMatchObject({ status: "done", deleted: 1 });
    expect(await exists(tenant.id, orphan.sha256)).toBe(false);
    for (const times of [2, 10, 100]) {
      expect(await collectTenantBlobs(env, ref(tenant), later(times))).toMatchObject({ status: "done", deleted: 0 });
      expect(await exists(tenant.id, artifact.packSha256)).toBe(true);
      expect(await exists(tenant.id, templateHash)).toBe(true);
    }
    const content = await call(`/v1/artifacts/${artifact.id}`, { headers: bearer(tenant.apiKey) });
    expect(await content.text()).toBe("# kept\n");
    const verdict = await call("/v1/verify", jsonBody({ artifact: artifact.id }, tenant.apiKey));
    expect(((await verdict.json()) as { valid: boolean }).valid).toBe(true);
  });

  it("keeps an unreferenced blob younger than the grace period", async () => {
    const tenant = await createTenant();
    const blob = await new ContentStore(env.ARTIFACTS, tenant.id).put(utf8("fresh"), "application/octet-stream");
    expect(await collectTenantBlobs(env, ref(tenant), Date.now() + BLOB_GRACE_MS - 60_000)).toMatchObject({
      status: "done",
      deleted: 0,
    });
    expect(await exists(tenant.id, blob.sha256)).toBe(true);
  });

  it("a job writing during a sweep keeps its pack: written after the mark, its rows recorded after the listing", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "running");
    const index = new ArtifactIndex(env, ref(tenant));
    const [row] = await index.list(job.id, 1, undefined, { withAttestation: true });
    const bytes = utf8("# written during the sweep\n");
    const sha256 = await sha256Hex(bytes);
    let packSha256 = "";
    // The writer stores its pack while the collector is between its mark and its listing.
    const bucket = env.ARTIFACTS;
    const racing = {
      ...env,
      ARTIFACTS: new Proxy(bucket, {
        get: (target, prop) => {
          if (prop === "list") {
            return async (options: R2ListOptions) => {
              if (!packSha256)
                packSha256 = (await new ContentStore(bucket, tenant.id).put(bytes, "application/octet-stream")).sha256;
              return target.list(options);
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    } as Env;
    expect(await collectTenantBlobs(racing, ref(tenant), Date.now())).toMatchObject({ status: "done", deleted: 0 });
    expect(packSha256).not.toBe("");
    expect(await exists(tenant.id, packSha256)).toBe(true);

    // The writer records its rows; from then on the pack is referenced and outlives every sweep.
    await index.record(
      job.id,
      [
        {
          ...(row as NonNullable<typeof row>),
          id: `art_written_during_sweep_${tenant.id.slice(-8)}`,
          path: "LATE.md",
          sha256,
          size: bytes.byteLength,
          packSha256,
          packOffset: 0,
        },
      ],
      { key: "late", skipped: 0 },
      new Date().toISOString(),
    );
    expect(await collectTenantBlobs(env, ref(tenant), later(5))).toMatchObject({ status: "done", deleted: 0 });
    const late = await call(`/v1/artifacts/art_written_during_sweep_${tenant.id.slice(-8)}`, {
      headers: bearer(tenant.apiKey),
    });
    expect(await late.text()).toBe("# written during the sweep\n");
  });

  it("keeps a blob retention released for the grace period after the release, then collects it", async () => {
    const tenant = await notesTenant();
    const job = await notesJob(tenant, "released");
    const { packSha256 } = await artifactOf(tenant, job.id);
    // Released long after the pack was written: a writer that found it in the index may still record rows.
    const releasedAt = Date.now() + 3 * BLOB_GRACE_MS;
    expect(
      await new ArtifactIndex(env, ref(tenant)).expireJob(job.id, new Date(releasedAt).toISOString()),
    ).not.toBeNull();
    expect(await collectTenantBlobs(env, ref(tenant), releasedAt + BLOB_GRACE_MS / 2)).toMatchObject({ deleted: 0 });
    expect(await exists(tenant.id, packSha256)).toBe(true);
    expect(await collectTenantBlobs(env, ref(tenant), releasedAt + BLOB_GRACE_MS + 60_000)).toMatchObject({
      deleted: 1,
    });
    expect(await exists(tenant.id, packSha256)).toBe(false);
  });

  it("keeps a pack another retained job shares after the job that wrote it expires", async () => {
    const tenant = await notesTenant();
    const first = await notesJob(tenant, "same");
    const second = await notesJob(tenant, "same");
    const [a, b] = [await artifactOf(tenant, first.id), await artifactOf(tenant, second.id)];
    // Deduplicated: the second job's artifact points into the first job's pack.
    expect(b.packSha256).toBe(a.packSha256);
    expect(await new ArtifactIndex(env, ref(tenant)).expireJob(first.id, new Date().toISOString())).not.toBeNull();
    expect(await collectTenantBlobs(env, ref(tenant), later(3))).toMatchObject({ deleted: 0 });
    expect(await (await call(`/v1/artifacts/${b.id}`, { headers: bearer(tenant.apiKey) })).text()).toBe("# same\n");
  }, 60_000);

  it("a sweep of one tenant never touches another's blobs, the same content included", async () => {
    const a = await createTenant();
    const b = await notesTenant();
    const sameAsTemplate = await new ContentStore(env.ARTIFACTS, a.id).put(utf8(TEMPLATE), "text/plain");
    const bOrphan = await new ContentStore(env.ARTIFACTS, b.id).put(utf8("b's own orphan"), "text/plain");
    expect(await collectTenantBlobs(env, ref(a), later(1))).toMatchObject({ status: "done", deleted: 1 });
    expect(await exists(a.id, sameAsTemplate.sha256)).toBe(false);
    expect(await exists(b.id, sameAsTemplate.sha256)).toBe(true);
    expect(await exists(b.id, bOrphan.sha256)).toBe(true);
    const template = await call("/v1/templates/notes/readme.md.njk", { headers: bearer(b.apiKey) });
    expect(template.status).toBe(200);
  });

  it("sweeps in bounded listing pages and resumes where it stopped", async () => {
    const tenant = await createTenant();
    const store = new ContentStore(env.ARTIFACTS, tenant.id);
    const blobs = [];
    for (let n = 0; n < 5; n++) blobs.push(await store.put(utf8(`orphan ${n}`), "text/plain"));
    let outcome = await collectTenantBlobs(env, ref(tenant), later(1), undefined, { maxPages: 1, pageSize: 2 });
    let runs = 1;
    while (outcome.status === "partial") {
      expect(outcome.progress.deleted).toBe(2 * runs);
      outcome = await collectTenantBlobs(env, ref(tenant), later(1), outcome.progress, { maxPages: 1, pageSize: 2 });
      runs++;
    }
    expect(runs).toBe(3);
    expect(outcome).toMatchObject({ status: "done", deleted: 5 });
    for (const blob of blobs) expect(await exists(tenant.id, blob.sha256)).toBe(false);
  });
});

describe("GET /v1/usage storage", () => {
  it("shows every stored kind, unmeasured before the first collection and measured after it", async () => {
    const tenant = await notesTenant();
    const before = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as {
      storage: {
        kinds: { kind: string; bytes: number; objects: number; measuredAt: string | null }[];
        tenantDatabaseBytes: number;
      };
    };
    expect(before.storage.kinds.map((entry) => entry.kind)).toEqual([
      "artifacts",
      "packs",
      "templateSources",
      "attestations",
      "unreferenced",
      "events",
    ]);
    expect(before.storage.kinds.every((entry) => entry.measuredAt === null && entry.bytes === 0)).toBe(true);
    expect(before.storage.tenantDatabaseBytes).toBeGreaterThan(0);

    const job = await notesJob(tenant, "measured");
    await new ContentStore(env.ARTIFACTS, tenant.id).put(utf8("an upload in its grace period"), "text/plain");
    const run = await collectBlobs(env, Date.now(), 100_000);
    expect(run.failed).toBe(0);

    const after = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as typeof before;
    const kind = (name: string) => after.storage.kinds.find((entry) => entry.kind === name);
    const artifactBytes = utf8("# measured\n").byteLength;
    expect(kind("artifacts")).toMatchObject({ bytes: artifactBytes, objects: 1 });
    expect(kind("packs")).toMatchObject({ bytes: artifactBytes, objects: 1 });
    expect(kind("templateSources")).toMatchObject({ bytes: utf8(TEMPLATE).byteLength, objects: 1 });
    expect(kind("attestations")).toMatchObject({ bytes: 0, objects: 0 });
    expect(kind("unreferenced")).toMatchObject({ bytes: utf8("an upload in its grace period").byteLength, objects: 1 });
    expect(kind("events")?.objects).toBeGreaterThanOrEqual(3);
    expect(after.storage.kinds.every((entry) => entry.measuredAt !== null)).toBe(true);
    expect(job.counts.bytes).toBe(artifactBytes);
  }, 60_000);
});

describe("retention and collection from the cron", () => {
  it("expire jobs and collect blobs in bounded pages of tenants, wrapping around", async () => {
    const tenant = await notesTenant("free");
    const kept = planLimits("free").keptJobsPerGenerator;
    const jobs = [];
    for (let n = 0; n <= kept; n++) jobs.push(await notesJob(tenant, `cron ${n}`));
    const oldest = await artifactOf(tenant, (jobs[0] as JobView).id);
    const scheduledTime = Date.now();
    let retention = await expireJobs(env, scheduledTime, 3);
    let runs = 1;
    while (retention.nextPosition !== "" && runs < 200) {
      expect(retention.tenants).toBeLessThanOrEqual(3);
      retention = await expireJobs(env, scheduledTime, 3);
      runs++;
    }
    expect(retention.failed).toBe(0);
    await expectProblem(
      await call(`/v1/jobs/${(jobs[0] as JobView).id}`, { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    // The oldest job's pack held only its own content: released now, collected once its grace is over.
    let collection = await collectBlobs(env, scheduledTime + BLOB_GRACE_MS + 60_000, 3);
    runs = 1;
    while (JSON.parse(collection.nextPosition).after !== "" && runs < 200) {
      expect(collection.tenants).toBeLessThanOrEqual(3);
      collection = await collectBlobs(env, scheduledTime + BLOB_GRACE_MS + 60_000, 3);
      runs++;
    }
    expect(collection.failed).toBe(0);
    expect(await exists(tenant.id, oldest.packSha256)).toBe(false);
    for (const job of jobs.slice(1)) {
      const artifact = await artifactOf(tenant, job.id);
      expect(await exists(tenant.id, artifact.packSha256)).toBe(true);
    }
  }, 60_000);
});

describe("graph version retention", () => {
  it("drops versions beyond the plan's newest except those a retained job pins; what is kept still diffs and replays", async () => {
    const kept = planLimits("free").keptGraphVersions;
    const tenant = await notesTenant("free");
    const pinning = await runJob(tenant.apiKey, {
      graph: "g",
      version: 1,
      generator: "notes",
      params: { title: "v1" },
    });
    expect(pinning.status).toBe("completed");
    for (let n = 2; n <= kept + 2; n++) {
      const res = await call("/v1/graphs/g", {
        method: "PUT",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
        body: `<http://e/s> <http://e/p> "${n}" .`,
      });
      expect(res.status).toBe(201);
    }
    const latest = kept + 2;
    const target = { id: tenant.id, plan: "free", jurisdiction: null };
    expect(await pruneTenantGraphVersions(env, target)).toEqual({ versions: 1, more: false });

    const version = (number: number) => call(`/v1/graphs/g/versions/${number}`, { headers: bearer(tenant.apiKey) });
    await expectProblem(await version(2), 404, "not-found");
    for (const number of [1, 3, latest]) expect((await version(number)).status).toBe(200);
    const diff = (await (
      await call(`/v1/graphs/g/diff?from=1&to=${latest}`, { headers: bearer(tenant.apiKey) })
    ).json()) as {
      added: { object: { value: string } }[];
      removed: { object: { value: string } }[];
    };
    expect(diff.added.map((triple) => triple.object.value)).toEqual([String(latest)]);
    expect(diff.removed.map((triple) => triple.object.value)).toEqual(["http://e/o"]);
    await expectProblem(
      await call(`/v1/graphs/g/diff?from=2&to=${latest}`, { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    // The pinning job's lock still replays to the same bytes.
    const replayed = await runJob(tenant.apiKey, { lock: pinning.lock, params: { title: "v1" } });
    expect(replayed.status).toBe("completed");
    expect((await artifactOf(tenant, replayed.id)).sha256).toBe((await artifactOf(tenant, pinning.id)).sha256);

    // Once the jobs pinning version 1 are gone, it goes too.
    for (const job of [pinning, replayed]) {
      expect(await new ArtifactIndex(env, ref(tenant)).expireJob(job.id, new Date().toISOString())).not.toBeNull();
    }
    expect(await pruneTenantGraphVersions(env, target)).toEqual({ versions: 1, more: false });
    await expectProblem(await version(1), 404, "not-found");
    const versions = (await (await call("/v1/graphs/g/versions", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { version: number }[];
    };
    expect(versions.items.map((item) => item.version)).toEqual(
      Array.from({ length: kept }, (_, index) => latest - kept + 1 + index),
    );
  }, 60_000);
});

describe("tenant object retention calls", () => {
  it("refuse malformed input", async () => {
    const tenant = await createTenant();
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const refusal = async (call: () => PromiseLike<unknown>) => String(await rejection(call));
    expect(await refusal(() => stub.pruneGraphVersions({ keepNewest: 0, pinned: [] }))).toMatch(/keepNewest/);
    const tooMany = Array.from({ length: 10_001 }, (_, version) => ({ graph: "g", version }));
    expect(await refusal(() => stub.pruneGraphVersions({ keepNewest: 1, pinned: tooMany }))).toMatch(/pinned/);
    const negative = [{ graph: "g", version: -1 }];
    expect(await refusal(() => stub.pruneGraphVersions({ keepNewest: 1, pinned: negative }))).toMatch(/version/);
    const events = [{ kind: "events", bytes: 1, objects: 1 }];
    expect(await refusal(() => stub.recordStoredBytes({ measuredAt: 1, kinds: events }))).toMatch(/kind/);
    const negativeBytes = [{ kind: "packs", bytes: -1, objects: 1 }];
    expect(await refusal(() => stub.recordStoredBytes({ measuredAt: 1, kinds: negativeBytes }))).toMatch(/bytes/);
    expect((await stub.getUsage({})).stored).toEqual([]);
    expect(await stub.pruneGraphVersions({ keepNewest: 1, pinned: [] })).toEqual({
      versions: 0,
      quads: 0,
      more: false,
    });
  });
});
