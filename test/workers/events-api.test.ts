import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_OPEN_EVENT_TICKETS } from "../../durable-objects/tenant/event-tickets";
import { cloudEventSchema } from "../../shared/contracts/events";
import { tenantObject } from "../../workers/tenant-object-stub";
import { ADMIN_TOKEN, bearer, call, createKey, createTenant, expectProblem, jsonBody } from "./helpers";

type Page = { events: { id: string; type: string }[]; nextCursor: number; hasMore: boolean };

describe("GET /v1/events", () => {
  it("returns CloudEvents, filtered by type patterns with or without the dev.kgen. prefix", async () => {
    const tenant = await createTenant();
    const viewer = await createKey(tenant, "viewer");
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    for (const type of ["job.started", "graph.deleted", "job.progress", "template.updated", "job.completed"]) {
      await stub.appendEvent({ type, data: { jobId: "job_1", graph: "g", path: "p.njk" }, createdAt: t0 });
    }
    const read = async (query: string) =>
      (await (await call(`/v1/events${query}`, { headers: bearer(viewer.secret) })).json()) as Page;

    const all = await read("");
    expect(all.events).toHaveLength(5);
    for (const event of all.events) expect(cloudEventSchema.safeParse(event).success).toBe(true);
    expect(all.events[0]).toEqual({
      specversion: "1.0",
      id: "1",
      source: `/tenants/${tenant.id}`,
      type: "dev.kgen.job.started",
      time: "2026-01-02T03:04:05.000Z",
      subject: "jobs/job_1",
      datacontenttype: "application/json",
      data: { jobId: "job_1", graph: "g", path: "p.njk" },
    });

    const jobsAndDeletes = await read("?types=job.*,dev.kgen.graph.deleted");
    expect(jobsAndDeletes.events.map((event) => event.id)).toEqual(["1", "2", "3", "5"]);
    const paged = await read("?types=job.*&limit=2");
    expect(paged).toMatchObject({ nextCursor: 3, hasMore: true });
    expect(paged.events.map((event) => event.type)).toEqual(["dev.kgen.job.started", "dev.kgen.job.progress"]);
    const rest = await read(`?types=job.*&after=${paged.nextCursor}`);
    expect(rest).toMatchObject({ nextCursor: 5, hasMore: false });
    expect(rest.events.map((event) => event.type)).toEqual(["dev.kgen.job.completed"]);
    expect((await read("?types=webhook.*")).events).toEqual([]);
  });

  it("answers 400 for bad type patterns", async () => {
    const tenant = await createTenant();
    for (const types of [
      "Job.*",
      "job.",
      "job.*.x",
      ",",
      "*.job",
      Array.from({ length: 21 }, () => "job.*").join(","),
    ]) {
      const res = await call(`/v1/events?types=${encodeURIComponent(types)}`, { headers: bearer(tenant.apiKey) });
      const problem = await expectProblem(res, 400, "validation-error");
      expect((problem.errors as { field: string }[])[0]?.field).toBe("types");
    }
    await expectProblem(
      await call(`/v1/events?types=${"a".repeat(1001)}`, { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
  });
});

describe("POST /v1/events/tickets", () => {
  it("issues tickets to viewers, at most a bounded number unredeemed at once", async () => {
    const tenant = await createTenant();
    const viewer = await createKey(tenant, "viewer");
    const res = await call("/v1/events/tickets", { method: "POST", headers: bearer(viewer.secret) });
    expect(res.status).toBe(201);
    const { ticket } = (await res.json()) as { ticket: string };
    expect(ticket.startsWith(`kgt.${tenant.id}.`)).toBe(true);
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    for (let i = 1; i < MAX_OPEN_EVENT_TICKETS; i++)
      expect((await stub.issueEventTicket(tenant.id, Date.now())).issued).toBe(true);
    await expectProblem(
      await call("/v1/events/tickets", { method: "POST", headers: bearer(viewer.secret) }),
      429,
      "too-many-tickets",
    );
    // Redeeming one frees its place.
    const opened = await call(`/v1/events/stream?ticket=${encodeURIComponent(ticket)}`);
    expect(opened.status).toBe(200);
    await opened.body?.cancel();
    expect((await call("/v1/events/tickets", { method: "POST", headers: bearer(viewer.secret) })).status).toBe(201);
  });

  it("a suspended tenant's ticket opens nothing", async () => {
    const tenant = await createTenant();
    const { ticket } = (await (
      await call("/v1/events/tickets", { method: "POST", headers: bearer(tenant.apiKey) })
    ).json()) as { ticket: string };
    await call(`/v1/tenants/${tenant.id}`, jsonBody({ status: "suspended" }, ADMIN_TOKEN, "PATCH"));
    await expectProblem(await call(`/v1/events/stream?ticket=${encodeURIComponent(ticket)}`), 403, "tenant-suspended");
  });
});
