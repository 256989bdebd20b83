import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { USAGE_METRICS } from "../../shared/contracts/usage";
import { monthPeriod, planLimits } from "../../shared/plans";
import { database } from "../../workers/db/client";
import { planChanges, usageMonthly } from "../../workers/db/schema";
import { rollUpTenants, rollUpUsage, rollupMonths } from "../../workers/maintenance/roll-up-usage";
import { requestUsageBatch } from "../../workers/middleware/request-usage-batch";
import { tenantObject } from "../../workers/tenant-object-stub";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";
import { rejection } from "./tenant-do/rejection";
import { installReceivers } from "./webhooks/receiver";

const receivers = installReceivers();

const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
ex:Customer a ex:Entity ; rdfs:label "customer" .
`;
const QUERY =
  "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name";
const ENTITY_TEMPLATE = `---
to: "src/{{ e.name }}.ts"
sparql: "${QUERY}"
foreach: e
---
export interface {{ e.name | pascalCase }} {}
`;

interface Figure {
  metric: string;
  value: number;
  quota: number | null;
}
interface UsageView {
  usage: { month: string; source: "live" | "rollup"; rolledUpAt: string | null; figures: Figure[] };
}

async function usageOf(tenant: TestTenant, query = ""): Promise<UsageView["usage"]> {
  const res = await call(`/v1/usage${query}`, { headers: bearer(tenant.apiKey) });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as UsageView).usage;
}

const valuesOf = (figures: Figure[]) => Object.fromEntries(figures.map((figure) => [figure.metric, figure.value]));

async function flushUsage(): Promise<void> {
  await requestUsageBatch.idle();
  await requestUsageBatch.flush(env, Date.now());
}

async function put(tenant: TestTenant, path: string, contentType: string, body: string): Promise<void> {
  const res = await call(path, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": contentType },
    body,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

describe("usage metering per month", () => {
  it("counts requests exactly: every answered request of the tenant, and nothing of another tenant", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await flushUsage();
    for (let i = 0; i < 3; i++) expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);
    expect((await call("/v1/graphs/absent", { headers: bearer(tenant.apiKey) })).status).toBe(404);
    await call("/v1/me", { headers: bearer(other.apiKey) });
    // The usage read takes this isolate's unwritten counts along; it is counted itself afterwards.
    expect(valuesOf((await usageOf(tenant)).figures).requests).toBe(4);
    await flushUsage();
    expect(valuesOf((await usageOf(tenant)).figures).requests).toBe(5);
    expect(valuesOf((await usageOf(other)).figures).requests).toBe(1);
  });

  it("counts a SPARQL query, a render, a job, its artifacts, a webhook delivery and a drift check exactly", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const { name } = receivers.add();
    const hook = await call(
      "/v1/webhooks",
      jsonBody({ url: `https://${name}.receiver.test/hook`, events: ["trigger.rejected"] }, tenant.apiKey),
    );
    expect(hook.status).toBe(201);
    const webhookId = ((await hook.json()) as { id: string }).id;

    await put(tenant, "/v1/graphs/model", "text/turtle", MODEL);
    await put(tenant, "/v1/templates/app/entity.njk", "text/plain", ENTITY_TEMPLATE);
    const query = await call(`/v1/graphs/model/sparql?query=${encodeURIComponent(QUERY)}`, {
      headers: { ...bearer(tenant.apiKey), accept: "application/sparql-results+json" },
    });
    expect(query.status).toBe(200);
    const render = await call("/v1/render", jsonBody({ template: "Hello {{ 1 + 1 }}" }, tenant.apiKey));
    expect(render.status, await render.clone().text()).toBe(200);
    const job = await runJob(tenant.apiKey, { graph: "model", generator: "app" });
    expect(job.status, job.error ?? "").toBe("completed");
    const sent = await call(`/v1/webhooks/${webhookId}/test`, { method: "POST", headers: bearer(tenant.apiKey) });
    expect(sent.status).toBe(202);
    await vi.waitFor(() => expect(receivers.received(name)).toHaveLength(1), { timeout: 10_000 });
    const drift = await call("/v1/drift", jsonBody({ job: job.id, files: [] }, tenant.apiKey));
    expect(drift.status).toBe(200);
    await flushUsage();

    const usage = await vi.waitFor(
      async () => {
        const current = await usageOf(tenant);
        expect(valuesOf(current.figures).webhookDeliveries).toBe(1);
        return current;
      },
      { timeout: 10_000 },
    );
    expect(usage).toMatchObject({ month: monthPeriod(Date.now()), source: "live", rolledUpAt: null });
    expect(usage.figures.map((figure) => figure.metric)).toEqual([...USAGE_METRICS]);
    const values = valuesOf(usage.figures);
    expect(values).toMatchObject({
      sparqlQueries: 1,
      triplesPeak: 4,
      triplesAverage: 4,
      templates: 1,
      jobs: 1,
      artifacts: job.counts.artifacts,
      artifactBytes: job.counts.bytes,
      webhookDeliveries: 1,
      driftRuns: 1,
    });
    expect(job.counts.artifacts).toBeGreaterThan(0);
    expect(values.requests).toBeGreaterThanOrEqual(8);
    expect(values.sparqlMs).toBeGreaterThanOrEqual(0);
    expect(values.renderMs).toBeGreaterThanOrEqual(0);
    const limits = planLimits("standard");
    const quotas = Object.fromEntries(usage.figures.map((figure) => [figure.metric, figure.quota]));
    expect(quotas).toMatchObject({
      triplesPeak: limits.triples,
      templates: limits.templates,
      jobs: limits.generationsPerMonth,
      artifactBytes: limits.artifactBytes,
      requests: null,
      driftRuns: null,
    });
  });

  it("answers an invalid month with 400 problem+json", async () => {
    const tenant = await createTenant();
    for (const month of ["2026-13", "2026-1", "26-01", "2026-01-01", "x"]) {
      await expectProblem(
        await call(`/v1/usage?month=${encodeURIComponent(month)}`, { headers: bearer(tenant.apiKey) }),
        400,
        "validation-error",
      );
    }
  });
});

describe("usage rollup", () => {
  const rowsOf = async (tenantId: string) =>
    database(env.DB).select().from(usageMonthly).where(eq(usageMonthly.tenantId, tenantId)).all();

  it("sets each month's figures from the tenant's counters: run twice, the same rows", async () => {
    const tenant = await createTenant();
    await put(tenant, "/v1/graphs/g", "application/n-triples", "<http://e/a> <http://e/p> <http://e/o> .");
    await flushUsage();
    const page = [{ id: tenant.id, jurisdiction: null }];
    const now = Date.now();
    const first = await rollUpTenants(env, page, now);
    expect(first).toEqual({ changed: rollupMonths(now).length, failed: 0 });
    const rows = await rowsOf(tenant.id);
    const again = await rollUpTenants(env, page, now + 60_000);
    expect(again).toEqual({ changed: 0, failed: 0 });
    expect(await rowsOf(tenant.id)).toEqual(rows);
    const current = rows.find((row) => row.month === monthPeriod(now));
    expect(current).toMatchObject({ triplesPeak: 1, triplesAverage: 1, rolledUpAt: new Date(now).toISOString() });
    expect(current?.requests).toBeGreaterThanOrEqual(1);
    // New activity changes the row on the next run, to the new totals.
    await call("/v1/me", { headers: bearer(tenant.apiKey) });
    await flushUsage();
    expect((await rollUpTenants(env, page, now + 120_000)).changed).toBe(1);
    const updated = (await rowsOf(tenant.id)).find((row) => row.month === monthPeriod(now));
    expect(updated?.requests).toBe((current?.requests ?? 0) + 1);
  });

  it("shows a past month from the rollup, and the month before it early in a month", async () => {
    expect(rollupMonths(Date.UTC(2026, 0, 2, 12))).toEqual(["2025-12", "2026-01"]);
    expect(rollupMonths(Date.UTC(2026, 0, 4))).toEqual(["2026-01"]);
    const tenant = await createTenant();
    const past = "2025-11";
    await database(env.DB).insert(usageMonthly).values({
      tenantId: tenant.id,
      month: past,
      requests: 41,
      sparqlQueries: 0,
      sparqlMs: 0,
      triplesPeak: 0,
      triplesAverage: 0,
      templates: 0,
      jobs: 0,
      artifacts: 0,
      artifactBytes: 0,
      renderMs: 0,
      webhookDeliveries: 0,
      driftRuns: 0,
      rolledUpAt: "2025-12-01T00:05:00.000Z",
    });
    const usage = await usageOf(tenant, `?month=${past}`);
    expect(usage).toMatchObject({ month: past, source: "rollup", rolledUpAt: "2025-12-01T00:05:00.000Z" });
    expect(valuesOf(usage.figures).requests).toBe(41);
    // Not rolled up: computed from the tenant's counters.
    expect(await usageOf(tenant, "?month=2025-10")).toMatchObject({ source: "live", rolledUpAt: null });
  });

  it("the object refuses a rollup of more than two months or of a malformed month, and bad work counts", async () => {
    const tenant = await createTenant();
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const tooMany = await rejection(() =>
      stub.usageRollup({ now: Date.now(), months: ["2026-01", "2026-02", "2026-03"] }),
    );
    expect(String(tooMany)).toMatch(/RangeError: months must list at most 2 months/);
    expect(String(await rejection(() => stub.usageRollup({ now: Date.now(), months: ["2026-13"] })))).toMatch(
      /RangeError: month must match/,
    );
    const count = { day: "2026-01-05", routeClass: "get:me", requests: 1, clientErrors: 0, serverErrors: 0 };
    const negative = await rejection(() =>
      stub.recordRequests({ now: Date.now(), counts: [{ ...count, sparqlMs: -1 }] }),
    );
    expect(String(negative)).toMatch(/RangeError: sparqlMs/);
    await stub.recordRequests({ now: Date.UTC(2026, 0, 6), counts: [{ ...count, sparqlQueries: 2, sparqlMs: 30 }] });
    const [january] = await stub.usageRollup({ now: Date.UTC(2026, 0, 6), months: ["2026-01"] });
    expect(january?.figures).toMatchObject({ requests: 1, sparqlQueries: 2, sparqlMs: 30, renderMs: 0 });
  });

  it("goes through every tenant in bounded pages with a cursor", async () => {
    await createTenant();
    await createTenant();
    const now = Date.now();
    let run = await rollUpUsage(env, now, 2);
    let runs = 1;
    while (run.nextPosition !== "" && runs < 100) {
      expect(run.tenants).toBe(2);
      expect(run.failed).toBe(0);
      run = await rollUpUsage(env, now, 2);
      runs += 1;
    }
    expect(run.nextPosition).toBe("");
    expect(run.tenants).toBeLessThanOrEqual(2);
  });
});

describe("plan changes and the billing export", () => {
  async function changePlan(tenant: TestTenant, plan: string) {
    const res = await call(`/v1/tenants/${tenant.id}`, jsonBody({ plan }, ADMIN_TOKEN, "PATCH"));
    expect(res.status).toBe(200);
  }

  it("records a plan change with its time in the same write, and none when the plan stays", async () => {
    const tenant = await createTenant({ plan: "free" });
    const before = Date.now();
    await changePlan(tenant, "standard");
    await changePlan(tenant, "standard");
    const rename = await call(`/v1/tenants/${tenant.id}`, jsonBody({ name: "Renamed" }, ADMIN_TOKEN, "PATCH"));
    expect(rename.status).toBe(200);
    const rows = await database(env.DB).select().from(planChanges).where(eq(planChanges.tenantId, tenant.id)).all();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ fromPlan: "free", toPlan: "standard" });
    const at = Date.parse(rows[0]?.changedAt ?? "");
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it("exports one row per tenant with every figure and its plan periods, as JSON and as RFC 4180 CSV", async () => {
    const tenant = await createTenant({ plan: "free" });
    await flushUsage();
    await changePlan(tenant, "premium");
    const [change] = await database(env.DB).select().from(planChanges).where(eq(planChanges.tenantId, tenant.id)).all();
    const now = Date.now();
    await rollUpTenants(env, [{ id: tenant.id, jurisdiction: null }], now);
    const month = monthPeriod(now);
    const [row] = await database(env.DB)
      .select()
      .from(usageMonthly)
      .where(and(eq(usageMonthly.tenantId, tenant.id), eq(usageMonthly.month, month)))
      .all();

    type Item = Record<string, unknown> & {
      tenantId: string;
      planPeriods: { plan: string; from: string; to: string }[];
    };
    const items: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ month, limit: "90", ...(cursor ? { cursor } : {}) });
      const res = await call(`/v1/admin/usage?${query}`, { headers: bearer(ADMIN_TOKEN) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Item[]; nextCursor: string | null };
      items.push(...body.items);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    const mine = items.find((item) => item.tenantId === tenant.id);
    expect(mine).toMatchObject({ slug: tenant.slug, month, requests: row?.requests, rolledUpAt: row?.rolledUpAt });
    const monthStart = `${month}-01T00:00:00.000Z`;
    expect(mine?.planPeriods.map((period) => [period.plan, period.from])).toEqual([
      ["free", monthStart],
      ["premium", change?.changedAt],
    ]);

    const csv = await call(`/v1/admin/usage?month=${month}&format=csv&limit=90`, { headers: bearer(ADMIN_TOKEN) });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const records = parseCsv(await csv.text());
    const header = records[0] as string[];
    expect(header.slice(0, 4)).toEqual(["tenant_id", "slug", "month", "requests"]);
    expect(header.at(-1)).toBe("plan_periods");
    const line = records.find((record) => record[0] === tenant.id);
    expect(line).toBeDefined();
    const record = Object.fromEntries(header.map((name, index) => [name, line?.[index]]));
    expect(record.requests).toBe(String(row?.requests));
    expect(record.triples_peak).toBe(String(row?.triplesPeak));
    expect(JSON.parse(record.plan_periods as string)).toEqual(mine?.planPeriods);
  });

  it("pages the CSV with a Link header and refuses a forged cursor", async () => {
    await createTenant();
    await createTenant();
    const now = Date.now();
    const month = monthPeriod(now);
    const run = await rollUpUsage(env, now, 1000);
    expect(run.failed).toBe(0);
    const first = await call(`/v1/admin/usage?month=${month}&format=csv&limit=1`, { headers: bearer(ADMIN_TOKEN) });
    expect(first.status).toBe(200);
    const link = first.headers.get("link");
    expect(link).toMatch(/^<\/v1\/admin\/usage\?.*cursor=.*>; rel="next"$/);
    const next = await call((link as string).slice(1, link?.indexOf(">")), { headers: bearer(ADMIN_TOKEN) });
    expect(next.status).toBe(200);
    const [firstRow, secondRow] = [parseCsv(await first.text())[1]?.[0], parseCsv(await next.text())[1]?.[0]];
    expect(firstRow && secondRow && firstRow < secondRow).toBe(true);
    await expectProblem(
      await call(`/v1/admin/usage?month=${month}&cursor=%25%25`, { headers: bearer(ADMIN_TOKEN) }),
      400,
      "validation-error",
    );
  });

  it("refuses tenant credentials, a missing token and bad input", async () => {
    const tenant = await createTenant({ plan: "enterprise" });
    const month = monthPeriod(Date.now());
    await expectProblem(
      await call(`/v1/admin/usage?month=${month}`, { headers: bearer(tenant.apiKey) }),
      401,
      "unauthorized",
    );
    await expectProblem(await call(`/v1/admin/usage?month=${month}`), 401, "unauthorized");
    for (const query of ["", "?month=2026-00", `?month=${month}&format=xml`, `?month=${month}&limit=1000`]) {
      await expectProblem(
        await call(`/v1/admin/usage${query}`, { headers: bearer(ADMIN_TOKEN) }),
        400,
        "validation-error",
      );
    }
  });
});

/** RFC 4180 reader for the test: quoted fields with doubled quotes, CRLF record ends. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 1;
    } else field += char;
  }
  expect(field).toBe("");
  expect(record).toEqual([]);
  return records;
}
