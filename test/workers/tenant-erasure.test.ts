import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { utf8 } from "../../shared/core/encoding";
import { eraseRetryDelaySeconds } from "../../workers/erasure/erase-consumer";
import { eraseTenantPages } from "../../workers/erasure/erase-tenant";
import { RECORDS_PAGE_SIZE, TENANT_TABLES } from "../../workers/erasure/tenant-records";
import worker from "../../workers/index";
import { resumeStaleErasures, STALE_ERASURE_MS } from "../../workers/maintenance/resume-erasures";
import { rollUpTenants } from "../../workers/maintenance/roll-up-usage";
import { ContentStore } from "../../workers/storage/content-store";
import { tenantObject } from "../../workers/tenant-object-stub";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

interface Erasure {
  tenantId: string;
  status: string;
  phase: string;
  deleted: { d1Rows: number; r2Objects: number };
  attempts: number;
  lastError: string | null;
  requestedAt: string;
  updatedAt: string;
  completedAt: string | null;
}

const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
ex:Customer a ex:Entity ; rdfs:label "customer" .
`;
const TEMPLATE = `---
to: "src/{{ e.name }}.txt"
sparql: "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: e
---
{{ e.name }}
`;

/** A tenant with data in every D1 table, its Durable Object and R2: a graph, templates, a job, a trigger, members. */
async function populatedTenant(): Promise<TestTenant> {
  const tenant = await createTenant({ plan: "standard" });
  const put = (path: string, contentType: string, body: string) =>
    call(path, { method: "PUT", headers: { ...bearer(tenant.apiKey), "content-type": contentType }, body });
  expect((await put("/v1/graphs/model", "text/turtle", MODEL)).status).toBe(201);
  expect((await put("/v1/templates/site/entity.njk", "text/plain", TEMPLATE)).status).toBeLessThan(300);
  expect(
    (await call("/v1/generators/site", jsonBody({ options: { throwOnUndefined: true } }, tenant.apiKey, "PATCH")))
      .status,
  ).toBe(200);
  expect((await call("/v1/members/user-1", jsonBody({ role: "viewer" }, tenant.apiKey, "PUT"))).status).toBeLessThan(
    300,
  );
  expect((await call("/v1/api-keys", jsonBody({ name: "ci", role: "editor" }, tenant.apiKey))).status).toBe(201);
  const trigger = await call(
    "/v1/triggers",
    jsonBody(
      { name: "pushes", verify: "github", action: { generator: "site", graph: "model" }, filter: { events: ["push"] } },
      tenant.apiKey,
    ),
  );
  expect(trigger.status, await trigger.clone().text()).toBe(201);
  const triggerId = ((await trigger.json()) as { id: string }).id;
  const job = await runJob(tenant.apiKey, { generator: "site", graph: "model" });
  expect(job.status).toBe("completed");
  expect((await call(`/v1/tenants/${tenant.id}`, jsonBody({ plan: "premium" }, ADMIN_TOKEN, "PATCH"))).status).toBe(
    200,
  );
  expect((await rollUpTenants(env, [{ id: tenant.id, jurisdiction: null }], Date.now())).failed).toBe(0);
  await env.DB.prepare(
    "INSERT INTO trigger_deliveries (trigger_id, delivery_id, tenant_id, job_id, received_at) VALUES (?, 'd-1', ?, ?, ?)",
  )
    .bind(triggerId, tenant.id, job.id, new Date().toISOString())
    .run();
  // Rows from before the artifact index moved into the tenant's object, still in D1.
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO artifacts (id, tenant_id, job_id, path, sha256, size, mode, chmod, template_path, template_hash,
         dependencies, attestation_sha256, attestation, pack_sha256, pack_offset, created_at)
       VALUES (?, ?, ?, 'legacy.txt', ?, 1, 'write', NULL, 'labels.njk', ?, '[]', ?, NULL, NULL, NULL, ?)`,
    ).bind(
      `art_legacy_${tenant.id}`,
      tenant.id,
      job.id,
      "1".repeat(64),
      "2".repeat(64),
      "3".repeat(64),
      new Date().toISOString(),
    ),
    env.DB.prepare("INSERT INTO job_batches (tenant_id, job_id, batch_key, skipped) VALUES (?, ?, 'legacy', 0)").bind(
      tenant.id,
      job.id,
    ),
  ]);
  await env.DB.prepare("INSERT INTO released_blobs (tenant_id, sha256, released_at) VALUES (?, ?, ?)")
    .bind(tenant.id, "0".repeat(64), new Date().toISOString())
    .run();
  const monitor = await call(
    "/v1/monitors",
    jsonBody({ name: "labels", target: { job: job.id }, source: { kind: "graph" } }, tenant.apiKey),
  );
  expect(monitor.status, await monitor.clone().text()).toBe(201);
  return tenant;
}

/** Rows of the tenant in every D1 table that holds tenant data, and its row in `tenants`. */
async function d1RowsOf(tenantId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of [...TENANT_TABLES.map((table) => table.name), "tenants"]) {
    const column = name === "tenants" ? "id" : "tenant_id";
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${name} WHERE ${column} = ?`)
      .bind(tenantId)
      .first<{ n: number }>();
    counts[name] = row?.n ?? 0;
  }
  return counts;
}

async function r2KeysOf(tenantId: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.ARTIFACTS.list({ prefix: `t/${tenantId}/`, cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

async function putBlobs(tenantId: string, count: number): Promise<void> {
  const store = new ContentStore(env.ARTIFACTS, tenantId);
  for (let start = 0; start < count; start += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, (_, i) =>
        store.put(utf8(`blob ${start + i}`), "text/plain"),
      ),
    );
  }
}

/** Audit entries of the tenant, enough that emptying the table takes several statements. */
async function putAuditRows(tenantId: string, count: number): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO audit_log (tenant_id, actor, action, created_at)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     SELECT ?, 'key:seed', 'seed.entry', '2026-01-01T00:00:00.000Z' FROM n`,
  )
    .bind(count, tenantId)
    .run();
}

const erasureOf = async (tenantId: string) => {
  const res = await call(`/v1/tenants/${tenantId}/erasure`, { headers: bearer(ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  return (await res.json()) as Erasure;
};

const completedErasure = (tenantId: string) =>
  vi.waitFor(
    async () => {
      const erasure = await erasureOf(tenantId);
      expect(erasure.status, JSON.stringify(erasure)).toBe("completed");
      return erasure;
    },
    { timeout: 60_000, interval: 100 },
  );

const deleteTenant = (tenantId: string) =>
  call(`/v1/tenants/${tenantId}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) });

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/** Runs the Worker's queue() handler on a hand-made batch: what it acked, and what it retried with which delay. */
async function runQueue(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
  );
  const retried: { id: string; delaySeconds: number | undefined }[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retried.push({ id: message.id, delaySeconds: options?.delaySeconds });
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages.map((m) => m.msgId)).toEqual(retried.map((r) => r.id));
  return { acked: result.explicitAcks, retried };
}

/** A tenant deleted as DELETE does it, whose erasure only this test drives (nothing is enqueued). */
async function erasingTenant(cursor: string | null = null): Promise<TestTenant> {
  const tenant = await createTenant();
  const now = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("UPDATE tenants SET status = 'erasing', slug = id WHERE id = ?").bind(tenant.id),
    env.DB.prepare(
      "INSERT INTO tenant_erasures (tenant_id, status, phase, cursor, requested_at, updated_at) VALUES (?, 'queued', 'records', ?, ?, ?)",
    ).bind(tenant.id, cursor, now, now),
  ]);
  return tenant;
}

describe("tenant erasure", () => {
  it("erases a tenant with thousands of objects from D1, R2 and its Durable Object, and records it", async () => {
    const tenant = await populatedTenant();
    const other = await populatedTenant();
    await putBlobs(tenant.id, 2500);
    await putBlobs(other.id, 20);
    await putAuditRows(tenant.id, 2100);
    const before = await d1RowsOf(tenant.id);
    // Every table holds some of the tenant's rows, so the test would see any one left behind.
    for (const [table, count] of Object.entries(before)) expect(count, table).toBeGreaterThan(0);
    const blobs = (await r2KeysOf(tenant.id)).length;
    expect(blobs).toBeGreaterThan(2500);
    const otherRows = await d1RowsOf(other.id);
    const otherBlobs = await r2KeysOf(other.id);
    const object = tenantObject(env, { id: tenant.id, jurisdiction: null });
    expect((await object.readEvents({})).events.length).toBeGreaterThan(0);

    const res = await deleteTenant(tenant.id);
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`/v1/tenants/${tenant.id}/erasure`);
    const accepted = (await res.json()) as Erasure;
    expect(accepted).toMatchObject({ tenantId: tenant.id, status: "queued", phase: "records", completedAt: null });
    // At once: no credential of the tenant works and it is gone from the directory.
    await expectProblem(await call("/v1/me", { headers: bearer(tenant.apiKey) }), 401, "unauthorized");
    await expectProblem(await call(`/v1/tenants/${tenant.id}`, { headers: bearer(ADMIN_TOKEN) }), 404, "not-found");

    const erasure = await completedErasure(tenant.id);
    expect(erasure).toMatchObject({
      phase: "done",
      attempts: 0,
      lastError: null,
      deleted: { d1Rows: total(before), r2Objects: blobs },
    });
    expect(erasure.completedAt).not.toBeNull();
    expect(await r2KeysOf(tenant.id)).toEqual([]);
    expect(total(await d1RowsOf(tenant.id))).toBe(0);
    expect((await object.readEvents({})).events).toEqual([]);
    expect(await object.graphList()).toMatchObject({ ok: true, value: [] });
    // The operator's record of the deletion is what stays.
    const kept = await env.DB.prepare("SELECT action, tenant_id FROM audit_log WHERE target = ? AND tenant_id IS NULL")
      .bind(tenant.id)
      .all<{ action: string }>();
    expect(kept.results.map((row) => row.action)).toEqual(["tenant.delete"]);

    // The other tenant lost nothing.
    expect(await d1RowsOf(other.id)).toEqual(otherRows);
    expect(await r2KeysOf(other.id)).toEqual(otherBlobs);
    expect((await call("/v1/me", { headers: bearer(other.apiKey) })).status).toBe(200);
    await expectProblem(
      await call(`/v1/tenants/${other.id}/erasure`, { headers: bearer(ADMIN_TOKEN) }),
      404,
      "not-found",
    );
  }, 120_000);

  it("changes nothing when a message is redelivered after completion, and answers 404 to a second DELETE", async () => {
    const tenant = await createTenant();
    await putBlobs(tenant.id, 3);
    expect((await deleteTenant(tenant.id)).status).toBe(202);
    const completed = await completedErasure(tenant.id);
    await env.ARTIFACTS.put(`t/${tenant.id}/sha256/late`, "written after the erasure");

    expect(await runQueue("kgen-erase", [{ tenantId: tenant.id }], 3)).toEqual({ acked: ["m0"], retried: [] });
    expect(await erasureOf(tenant.id)).toEqual(completed);
    expect(await env.ARTIFACTS.head(`t/${tenant.id}/sha256/late`)).not.toBeNull();
    await expectProblem(await deleteTenant(tenant.id), 404, "not-found");
    await env.ARTIFACTS.delete(`t/${tenant.id}/sha256/late`);
  });

  it("gives the slug back at once and lists the tenant no more", async () => {
    const tenant = await createTenant();
    expect((await deleteTenant(tenant.id)).status).toBe(202);
    const listed = (await (await call("/v1/tenants?limit=100", { headers: bearer(ADMIN_TOKEN) })).json()) as {
      items: { id: string }[];
    };
    expect(listed.items.map((item) => item.id)).not.toContain(tenant.id);
    const again = await call("/v1/tenants", jsonBody({ slug: tenant.slug, name: "Second" }, ADMIN_TOKEN));
    expect(again.status).toBe(201);
    await completedErasure(tenant.id);
    const second = (await again.json()) as { tenant: { id: string }; secret: string };
    expect((await call("/v1/me", { headers: bearer(second.secret) })).status).toBe(200);
  });

  it("works in bounded pages, each message handing the rest to the next", async () => {
    const tenant = await erasingTenant();
    await putAuditRows(tenant.id, 1500);
    expect(await eraseTenantPages(env, tenant.id, 2)).toBe("more");
    const progress = () =>
      env.DB.prepare("SELECT pages, cursor, d1_rows_deleted AS rows FROM tenant_erasures WHERE tenant_id = ?")
        .bind(tenant.id)
        .first<{ pages: number; cursor: string | null; rows: number }>();
    // Two pages: artifacts and job_batches (none of the tenant's rows); the rest waits for the next message.
    expect(await progress()).toEqual({ pages: 2, cursor: "jobs", rows: 0 });
    // Ten more tables, one statement each: the tenant's signing key and owner key among them.
    expect(await eraseTenantPages(env, tenant.id, 10)).toBe("more");
    expect(await progress()).toEqual({ pages: 12, cursor: "audit_log", rows: 2 });
    // One statement deletes at most RECORDS_PAGE_SIZE rows; a full page stays on its table.
    expect(await eraseTenantPages(env, tenant.id, 1)).toBe("more");
    expect(await progress()).toEqual({ pages: 13, cursor: "audit_log", rows: 2 + RECORDS_PAGE_SIZE });
    // The rest of the audit rows (and the operator's tenant.create entry), usage rows, plan changes, blobs, object
    // and tenant row.
    expect(await eraseTenantPages(env, tenant.id)).toBe("done");
    expect(await progress()).toEqual({ pages: 19, cursor: null, rows: 2 + 1 + 1500 + 1 });
    expect(await eraseTenantPages(env, tenant.id)).toBe("stopped");
    expect(total(await d1RowsOf(tenant.id))).toBe(0);
  });

  it("retries a failing page with its reason, and ends failed from the dead-letter queue until resumed", async () => {
    const tenant = await erasingTenant("no_such_table");
    expect(await runQueue("kgen-erase", [{ tenantId: tenant.id }], 2)).toEqual({
      acked: [],
      retried: [{ id: "m0", delaySeconds: 20 }],
    });
    expect([1, 2, 3, 5, 9].map(eraseRetryDelaySeconds)).toEqual([10, 20, 40, 160, 300]);
    const retried = await erasureOf(tenant.id);
    expect(retried).toMatchObject({ status: "queued", attempts: 1 });
    expect(retried.lastError).toBe('the erasure\'s cursor names no tenant table: "no_such_table"');

    expect(await runQueue("kgen-erase-dlq", [{ tenantId: tenant.id }])).toEqual({ acked: ["m0"], retried: [] });
    const failed = await erasureOf(tenant.id);
    expect(failed).toMatchObject({
      status: "failed",
      lastError: 'gave up after 1 failed attempt: the erasure\'s cursor names no tenant table: "no_such_table"',
    });
    // A failed erasure does nothing on a stray message; a DELETE resumes it (here after the cause is fixed).
    expect(await eraseTenantPages(env, tenant.id)).toBe("stopped");
    await env.DB.prepare("UPDATE tenant_erasures SET cursor = NULL WHERE tenant_id = ?").bind(tenant.id).run();
    const resumed = await deleteTenant(tenant.id);
    expect(resumed.status).toBe(202);
    expect(((await resumed.json()) as Erasure).status).toBe("queued");
    expect((await completedErasure(tenant.id)).lastError).toBe(failed.lastError);
    expect(total(await d1RowsOf(tenant.id))).toBe(0);
  });

  it("drops malformed messages and messages of tenants never deleted", async () => {
    const live = await createTenant();
    expect(
      await runQueue("kgen-erase", [{}, { tenantId: "" }, "x", { tenantId: live.id }, { tenantId: "tn_none" }]),
    ).toEqual({ acked: ["m0", "m1", "m2", "m3", "m4"], retried: [] });
    expect((await call("/v1/me", { headers: bearer(live.apiKey) })).status).toBe(200);
    expect(await runQueue("kgen-erase-dlq", [{ tenantId: live.id }, 42])).toEqual({ acked: ["m0", "m1"], retried: [] });
    await expectProblem(
      await call(`/v1/tenants/${live.id}/erasure`, { headers: bearer(ADMIN_TOKEN) }),
      404,
      "not-found",
    );
  });

  it("makes one erasure of two concurrent deletions", async () => {
    const tenant = await createTenant();
    const answers = await Promise.all([deleteTenant(tenant.id), deleteTenant(tenant.id)]);
    expect(answers.map((res) => res.status)).toEqual([202, 202]);
    const [first, second] = (await Promise.all(answers.map((res) => res.json()))) as Erasure[];
    expect(second?.requestedAt).toBe(first?.requestedAt);
    const erasure = await completedErasure(tenant.id);
    expect(erasure.attempts).toBe(0);
    expect(total(await d1RowsOf(tenant.id))).toBe(0);
  });

  it("shows the erasure to the operator only", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    expect((await deleteTenant(tenant.id)).status).toBe(202);
    await expectProblem(await call(`/v1/tenants/${tenant.id}/erasure`), 401, "unauthorized");
    await expectProblem(
      await call(`/v1/tenants/${tenant.id}/erasure`, { headers: bearer(other.apiKey) }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await call("/v1/tenants/tn_missing/erasure", { headers: bearer(ADMIN_TOKEN) }),
      404,
      "not-found",
    );
    await expectProblem(await deleteTenant("tn_missing"), 404, "not-found");
    await completedErasure(tenant.id);
  });

  it("is queued again by the cron when it stopped moving, never while fresh or once failed", async () => {
    const stale = await erasingTenant();
    const fresh = await erasingTenant();
    const failed = await erasingTenant();
    const longAgo = new Date(Date.now() - STALE_ERASURE_MS - 60_000).toISOString();
    await env.DB.prepare("UPDATE tenant_erasures SET updated_at = ? WHERE tenant_id = ?").bind(longAgo, stale.id).run();
    await env.DB.prepare("UPDATE tenant_erasures SET updated_at = ?, status = 'failed' WHERE tenant_id = ?")
      .bind(longAgo, failed.id)
      .run();
    const resumed = await resumeStaleErasures(env, Date.now());
    expect(resumed).toContain(stale.id);
    expect(resumed).not.toContain(fresh.id);
    expect(resumed).not.toContain(failed.id);
    // Its message is on the queue now: the next run leaves it alone.
    expect(await resumeStaleErasures(env, Date.now())).not.toContain(stale.id);
    await completedErasure(stale.id);
    expect(total(await d1RowsOf(stale.id))).toBe(0);
    expect((await erasureOf(fresh.id)).status).toBe("queued");
    expect((await erasureOf(failed.id)).status).toBe("failed");
  });
});
