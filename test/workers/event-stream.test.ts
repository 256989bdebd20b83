import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SSE_BUFFER_BYTES, STREAM_PAGE_EVENTS } from "../../durable-objects/tenant/event-streams";
import type { TenantObject } from "../../durable-objects/tenant-object";
import { tenantObject } from "../../workers/tenant-object-stub";
import { cloudEventOf, sseClient } from "./event-stream-client";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, type TestTenant } from "./helpers";

const TTL = `@prefix ex: <http://example.org/> . ex:a ex:b ex:c .`;

const stubOf = (tenant: TestTenant) => tenantObject(env, { id: tenant.id, jurisdiction: null });

async function putGraph(tenant: TestTenant, name: string, body = TTL) {
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body,
  });
  expect(res.status).toBe(201);
}

async function putTemplate(tenant: TestTenant, path: string, source: string) {
  const res = await call(`/v1/templates/gen/${path}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: source,
  });
  expect(res.status).toBeLessThan(300);
}

/** Runs the fan-out alarm if the runtime has not run it yet (delivery to open streams happens there). */
async function fanOut(tenant: TestTenant) {
  await runDurableObjectAlarm(stubOf(tenant));
}

const stream = (tenant: TestTenant, query = "", headers: Record<string, string> = {}) =>
  call(`/v1/events/stream${query}`, { headers: { ...bearer(tenant.apiKey), ...headers } });

describe("event stream (SSE)", () => {
  it("sends the backlog, then live events, only of the requested types, as CloudEvents", async () => {
    const tenant = await createTenant({ plan: "standard" });
    await putGraph(tenant, "one");
    await putTemplate(tenant, "a.njk", "a");
    const res = await stream(tenant, "?types=dev.kgen.graph.*");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const client = sseClient(res);
    try {
      const [backlog] = await client.until((seen) => seen.length >= 1);
      expect(backlog).toMatchObject({ id: "1", event: "dev.kgen.graph.version.created" });
      expect(cloudEventOf(backlog as never)).toMatchObject({
        specversion: "1.0",
        id: "1",
        source: `/tenants/${tenant.id}`,
        type: "dev.kgen.graph.version.created",
        subject: "graphs/one",
      });
      await putTemplate(tenant, "b.njk", "b");
      await putGraph(tenant, "two");
      await fanOut(tenant);
      await client.until((seen) => seen.length >= 2);
      expect(client.messages.map((m) => [m.id, m.event])).toEqual([
        ["1", "dev.kgen.graph.version.created"],
        ["4", "dev.kgen.graph.version.created"],
      ]);
    } finally {
      await client.close();
    }
  });

  it("resumes after Last-Event-ID (which wins over after)", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "one");
    await putGraph(tenant, "two");
    await putGraph(tenant, "three");
    const client = sseClient(await stream(tenant, "?after=0", { "last-event-id": "2" }));
    try {
      await client.until((seen) => seen.length >= 1);
      expect(client.messages.map((m) => m.id)).toEqual(["3"]);
    } finally {
      await client.close();
    }
    const fromAfter = sseClient(await stream(tenant, "?after=1"));
    try {
      await fromAfter.until((seen) => seen.length >= 2);
      expect(fromAfter.messages.map((m) => m.id)).toEqual(["2", "3"]);
    } finally {
      await fromAfter.close();
    }
  });

  it("with after=latest delivers only events appended after the stream opened", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "one");
    await putGraph(tenant, "two");
    const client = sseClient(await stream(tenant, "?after=latest"));
    try {
      await putGraph(tenant, "three");
      await client.until((seen) => seen.length >= 1);
      expect(client.messages.map((m) => m.id)).toEqual(["3"]);
      expect(cloudEventOf(client.messages[0] as (typeof client.messages)[number]).data).toMatchObject({
        graph: "three",
      });
    } finally {
      await client.close();
    }
    await expectProblem(await stream(tenant, "?after=earliest"), 400, "validation-error");
  });

  it("lets a client watch a queued job to completion without polling", async () => {
    const tenant = await createTenant();
    const entities = Array.from({ length: 60 }, (_, i) => `ex:E${i} a ex:Entity ; rdfs:label "entity ${i}" .`);
    await putGraph(
      tenant,
      "model",
      `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${entities.join("\n")}`,
    );
    await putTemplate(
      tenant,
      "e.njk",
      `---\nto: "out/{{ e.name | kebabCase }}.txt"\nsparql: "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?x a ex:Entity ; rdfs:label ?name } ORDER BY ?name"\nforeach: e\n---\n{{ e.name }}`,
    );
    const client = sseClient(await stream(tenant, "?types=job.*&after=2"));
    try {
      const started = await call("/v1/jobs", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
        body: JSON.stringify({ graph: "model", generator: "gen" }),
      });
      expect(started.status).toBe(202);
      const { id: jobId } = (await started.json()) as { id: string };
      // The queue consumer appends progress and completion; the alarm after each append delivers them.
      await client.until((seen) => seen.some((m) => m.event === "dev.kgen.job.completed"), 20_000);
      const types = client.messages.map((m) => m.event);
      expect(types[0]).toBe("dev.kgen.job.started");
      expect(types.filter((type) => type === "dev.kgen.job.progress")).toHaveLength(2);
      expect(types[types.length - 1]).toBe("dev.kgen.job.completed");
      const completed = cloudEventOf(client.messages[client.messages.length - 1] as never);
      expect(completed).toMatchObject({ subject: `jobs/${jobId}`, data: { jobId, artifacts: 60 } });
    } finally {
      await client.close();
    }
  }, 30_000);

  it("keeps an idle stream alive with a ping comment", async () => {
    const tenant = await createTenant();
    const client = sseClient(await stream(tenant));
    try {
      // The interval is 25 s; the test sends one beat the way the interval does.
      await runInDurableObject(stubOf(tenant), (instance: TenantObject) =>
        (instance as unknown as { eventStreams: { sendHeartbeat(): void } }).eventStreams.sendHeartbeat(),
      );
      await client.until(() => client.comments.some((comment) => comment.trim() === "ping"));
      expect(client.messages).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("sends a long backlog completely and in order, a bounded number of pages at a time", async () => {
    const tenant = await createTenant();
    const backlog = 1_234;
    await runInDurableObject(stubOf(tenant), (_instance: TenantObject, state) => {
      for (let i = 0; i < backlog; i++) {
        state.storage.sql.exec(
          "INSERT INTO event_log (type, data, created_at) VALUES ('graph.deleted', ?, ?)",
          JSON.stringify({ graph: `g${i}`, padding: "x".repeat(500) }),
          Date.now(),
        );
      }
    });
    const client = sseClient(await stream(tenant, "?types=graph.deleted"));
    try {
      await client.until((seen) => seen.length >= backlog, 20_000);
      expect(client.messages.map((m) => Number(m.id))).toEqual(Array.from({ length: backlog }, (_, i) => i + 1));
    } finally {
      await client.close();
    }
  }, 30_000);

  it("holds a bounded amount for a reader that does not read, and sends the rest when it does", async () => {
    const tenant = await createTenant();
    const res = await stream(tenant);
    const events = 1_500;
    const padding = "x".repeat(2_000);
    await runInDurableObject(stubOf(tenant), (_instance: TenantObject, state) => {
      for (let i = 0; i < events; i++) {
        state.storage.sql.exec(
          "INSERT INTO event_log (type, data, created_at) VALUES ('graph.deleted', ?, ?)",
          JSON.stringify({ graph: `g${i}`, padding }),
          Date.now(),
        );
      }
      state.storage.setAlarm(Date.now());
    });
    await fanOut(tenant);
    await fanOut(tenant);
    const queued = await runInDurableObject(stubOf(tenant), (instance: TenantObject) => {
      const streams = (instance as unknown as { eventStreams: { sseStreams: Set<{ cursor: number }> } }).eventStreams
        .sseStreams;
      return [...streams].map((open) => open.cursor);
    });
    // ~3.3 MB of events: the stream stopped near its buffer bound instead of queueing them all.
    const frameBytes = 2_300;
    expect(queued).toHaveLength(1);
    expect(queued[0]).toBeLessThan((SSE_BUFFER_BYTES + STREAM_PAGE_EVENTS * frameBytes) / frameBytes + 200);
    const client = sseClient(res);
    try {
      await client.until((seen) => seen.length >= events, 20_000);
      expect(client.messages.map((m) => Number(m.id))).toEqual(Array.from({ length: events }, (_, i) => i + 1));
    } finally {
      await client.close();
    }
  }, 30_000);

  it("caps open streams per tenant, and a closed stream frees its place", async () => {
    const tenant = await createTenant({ plan: "free" });
    const open = [];
    for (let i = 0; i < 5; i++) {
      const res = await stream(tenant);
      expect(res.status).toBe(200);
      open.push(sseClient(res));
    }
    await expectProblem(await stream(tenant), 429, "too-many-streams");
    await expectProblem(
      await call("/v1/events/ws", { headers: { ...bearer(tenant.apiKey), upgrade: "websocket" } }),
      429,
      "too-many-streams",
    );
    await open[0]?.close();
    await expect.poll(() => stubOf(tenant).openEventStreams()).toBe(4);
    const again = sseClient(await stream(tenant));
    await again.close();
    for (const client of open.slice(1)) await client.close();
    await expect.poll(() => stubOf(tenant).openEventStreams()).toBe(0);
  });

  it("ends open streams when the tenant is deleted", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "one");
    const client = sseClient(await stream(tenant));
    await client.until((seen) => seen.length >= 1);
    const deleted = await call(`/v1/tenants/${tenant.id}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) });
    expect(deleted.status).toBe(202);
    await expect(client.until(() => false)).rejects.toThrow("the stream ended");
  });

  it("refuses bad input and unauthenticated callers", async () => {
    const tenant = await createTenant();
    await expectProblem(await stream(tenant, "?types=Job.*"), 400, "validation-error");
    await expectProblem(await stream(tenant, `?types=${"a.".repeat(600)}*`), 400, "validation-error");
    await expectProblem(await stream(tenant, "?after=-1"), 400, "validation-error");
    await expectProblem(await stream(tenant, "", { "last-event-id": "x" }), 400, "validation-error");
    await expectProblem(await call("/v1/events/stream"), 401, "unauthorized");
    await expectProblem(await call("/v1/events/ws", { headers: { upgrade: "websocket" } }), 401, "unauthorized");
    await expectProblem(await call("/v1/events/tickets", { method: "POST" }), 401, "unauthorized");
    await expectProblem(
      await call("/v1/events/ws", { headers: bearer(tenant.apiKey) }),
      426,
      "websocket-upgrade-required",
    );
  });
});

describe("event socket (WebSocket, hibernatable)", () => {
  it("delivers events appended after connect, also after the object hibernated", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, "before");
    const res = await call("/v1/events/ws?types=graph.*&after=1", {
      headers: { ...bearer(tenant.apiKey), upgrade: "websocket" },
    });
    expect(res.status).toBe(101);
    const socket = res.webSocket as WebSocket;
    const received: { id: string; type: string; subject: string }[] = [];
    socket.addEventListener("message", (message) => received.push(JSON.parse(message.data as string)));
    socket.accept();
    await putTemplate(tenant, "t.njk", "t");
    await putGraph(tenant, "after");
    await fanOut(tenant);
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toMatchObject({ id: "3", type: "dev.kgen.graph.version.created", subject: "graphs/after" });

    // Evicted with the socket hibernated: the next event wakes a new instance, which knows the socket's
    // filter and position from its attachment alone.
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(stubOf(tenant));
    await putGraph(tenant, "woken");
    await fanOut(tenant);
    await expect.poll(() => received.map((event) => event.id)).toEqual(["3", "4"]);
    socket.close(1000, "done");
  });
});

describe("event socket protocol", () => {
  it("answers ping with pong and closes on any other message", async () => {
    const tenant = await createTenant();
    const res = await call("/v1/events/ws", { headers: { ...bearer(tenant.apiKey), upgrade: "websocket" } });
    const socket = res.webSocket as WebSocket;
    const texts: string[] = [];
    let closedWith: number | undefined;
    socket.addEventListener("message", (message) => texts.push(message.data as string));
    socket.addEventListener("close", (event) => {
      closedWith = event.code;
    });
    socket.accept();
    socket.send("ping");
    await expect.poll(() => texts).toEqual(["pong"]);
    socket.send("hello");
    await expect.poll(() => closedWith).toBe(1003);
    await expect.poll(() => stubOf(tenant).openEventStreams()).toBe(0);
  });
});

describe("event tickets", () => {
  const ticketFor = async (tenant: TestTenant) => {
    const res = await call("/v1/events/tickets", { method: "POST", headers: bearer(tenant.apiKey) });
    expect(res.status).toBe(201);
    return (await res.json()) as { ticket: string; expiresAt: string };
  };

  it("opens the stream once, for its own tenant only, and not after it expired", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await putGraph(a, "secret-a");
    const issued = await ticketFor(a);
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);

    const opened = await call(`/v1/events/stream?ticket=${encodeURIComponent(issued.ticket)}`);
    expect(opened.status).toBe(200);
    const client = sseClient(opened);
    await client.until((seen) => seen.length >= 1);
    expect(cloudEventOf(client.messages[0] as never).source).toBe(`/tenants/${a.id}`);
    await client.close();
    await expectProblem(
      await call(`/v1/events/stream?ticket=${encodeURIComponent(issued.ticket)}`),
      401,
      "invalid-ticket",
    );

    // A's secret under B's name: B's object never issued it.
    const forged = (await ticketFor(a)).ticket.replace(a.id, b.id);
    await expectProblem(await call(`/v1/events/stream?ticket=${encodeURIComponent(forged)}`), 401, "invalid-ticket");
    await expectProblem(await call("/v1/events/stream?ticket=kgt.nobody.x"), 401, "invalid-ticket");
    const withBoth = await call(`/v1/events/stream?ticket=${encodeURIComponent((await ticketFor(a)).ticket)}`, {
      headers: bearer(b.apiKey),
    });
    await expectProblem(withBoth, 400, "ambiguous-credential");

    const expiring = await ticketFor(a);
    await runInDurableObject(stubOf(a), (_instance: TenantObject, state) => {
      state.storage.sql.exec("UPDATE event_ticket SET expires_at = ?", Date.now() - 1);
    });
    await expectProblem(
      await call(`/v1/events/stream?ticket=${encodeURIComponent(expiring.ticket)}`),
      401,
      "invalid-ticket",
    );

    const socketTicket = await ticketFor(a);
    const socket = await call(`/v1/events/ws?ticket=${encodeURIComponent(socketTicket.ticket)}`, {
      headers: { upgrade: "websocket" },
    });
    expect(socket.status).toBe(101);
    socket.webSocket?.accept();
    socket.webSocket?.close(1000, "done");
  });

  it("another tenant's stream never carries this tenant's events", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bClient = sseClient(await stream(b));
    const aClient = sseClient(await stream(a));
    try {
      await putGraph(a, "only-a");
      await putGraph(b, "only-b");
      await fanOut(a);
      await fanOut(b);
      await aClient.until((seen) => seen.length >= 1);
      await bClient.until((seen) => seen.length >= 1);
      expect(bClient.messages.map((m) => cloudEventOf(m).subject)).toEqual(["graphs/only-b"]);
      expect(bClient.messages.map((m) => cloudEventOf(m).source)).toEqual([`/tenants/${b.id}`]);
      expect(aClient.messages.map((m) => cloudEventOf(m).subject)).toEqual(["graphs/only-a"]);
    } finally {
      await aClient.close();
      await bClient.close();
    }
  });
});
