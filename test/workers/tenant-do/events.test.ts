import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_EVENT_DATA_BYTES, MAX_EVENT_PAGE } from "../../../durable-objects/tenant/event-log";
import type { TenantObject } from "../../../durable-objects/tenant-object";
import { rejection } from "./rejection";

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

const t0 = Date.UTC(2026, 10, 26, 12, 0, 0);

describe("TenantObject event log", () => {
  it("appends events with increasing ids and returns them as given", async () => {
    const stub = stubFor("events-append");
    const first = await stub.appendEvent({ type: "job.started", data: { jobId: "j1" }, createdAt: t0 });
    expect(first).toEqual({ id: 1, type: "job.started", data: { jobId: "j1" }, createdAt: t0, replayed: false });
    const second = await stub.appendEvent({
      type: "job.completed",
      data: { jobId: "j1", artifacts: 3, nested: [1, "two", null, true] },
      createdAt: t0 - 5, // a caller's clock may lag; order still follows append order
    });
    expect(second.id).toBe(2);
    expect(await stub.readEvents({})).toEqual({
      events: [
        { id: 1, type: "job.started", data: { jobId: "j1" }, createdAt: t0 },
        {
          id: 2,
          type: "job.completed",
          data: { jobId: "j1", artifacts: 3, nested: [1, "two", null, true] },
          createdAt: t0 - 5,
        },
      ],
      nextCursor: 2,
      hasMore: false,
    });
  });

  it("keeps append order under parallel appends and pages through by cursor", async () => {
    const stub = stubFor("events-paging");
    const appended = await Promise.all(
      Array.from({ length: 25 }, (_, i) => stub.appendEvent({ type: "graph.version.created", data: i, createdAt: t0 })),
    );
    const ids = appended.map((e) => e.id);
    expect(new Set(ids).size).toBe(25);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const seen: number[] = [];
    let cursor = 0;
    let pages = 0;
    for (;;) {
      const page = await stub.readEvents({ after: cursor, limit: 10 });
      pages++;
      for (const event of page.events) {
        expect(event.id).toBeGreaterThan(cursor);
        seen.push(event.id);
      }
      cursor = page.nextCursor;
      if (!page.hasMore) break;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const tail = await stub.readEvents({ after: cursor });
    expect(tail).toEqual({ events: [], nextCursor: 25, hasMore: false });
    await stub.appendEvent({ type: "drift.detected", data: null, createdAt: t0 });
    expect((await stub.readEvents({ after: cursor })).events.map((e) => e.id)).toEqual([26]);
  });

  it("appends an idempotency key once and returns the first event on retry", async () => {
    const stub = stubFor("events-idempotent");
    const input = { type: "job.completed", data: { jobId: "j7" }, createdAt: t0, idempotencyKey: "j7:done" };
    const first = await stub.appendEvent(input);
    const retries = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stub.appendEvent({ ...input, createdAt: t0 + i + 1 })),
    );
    for (const retry of retries) {
      expect(retry).toEqual({ ...first, replayed: true });
    }
    expect((await stub.readEvents({})).events).toHaveLength(1);
    const clash = await rejection(() =>
      stub.appendEvent({ type: "job.failed", data: {}, createdAt: t0, idempotencyKey: "j7:done" }),
    );
    expect(clash).toBeInstanceOf(RangeError);
  });

  it("survives eviction and never reuses an id", async () => {
    const stub = stubFor("events-evict");
    await stub.appendEvent({ type: "a.one", data: 1, createdAt: t0 });
    await stub.appendEvent({ type: "a.two", data: 2, createdAt: t0 });
    // Even if the newest row were removed, AUTOINCREMENT keeps cursors monotonic.
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec("DELETE FROM event_log WHERE id = 2");
    });
    await evictDurableObject(stub);
    const third = await stub.appendEvent({ type: "a.three", data: 3, createdAt: t0 });
    expect(third.id).toBe(3);
    expect((await stub.readEvents({})).events.map((e) => e.type)).toEqual(["a.one", "a.three"]);
  });

  it("caps the page size at the maximum", async () => {
    const stub = stubFor("events-max");
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      for (let i = 0; i < MAX_EVENT_PAGE + 5; i++) {
        state.storage.sql.exec("INSERT INTO event_log (type, data, created_at) VALUES ('bulk.row', ?, ?)", `${i}`, t0);
      }
    });
    const page = await stub.readEvents({ limit: MAX_EVENT_PAGE * 10 });
    expect(page.events).toHaveLength(MAX_EVENT_PAGE);
    expect(page.hasMore).toBe(true);
    expect(page.nextCursor).toBe(MAX_EVENT_PAGE);
  });

  it("rejects bad types, oversized or non-JSON data, and bad cursors", async () => {
    const stub = stubFor("events-invalid");
    const bad: unknown[] = [
      { type: "Generation Started", data: {}, createdAt: t0 },
      { type: "", data: {}, createdAt: t0 },
      { type: "x.y", data: "a".repeat(MAX_EVENT_DATA_BYTES), createdAt: t0 },
      { type: "x.y", data: {}, createdAt: -1 },
    ];
    for (const input of bad) {
      // @ts-expect-error deliberately invalid input
      expect(await rejection(() => stub.appendEvent(input))).toBeInstanceOf(RangeError);
    }
    // @ts-expect-error data must be present
    expect(await rejection(() => stub.appendEvent({ type: "x.y", createdAt: t0 }))).toBeInstanceOf(TypeError);
    expect(await rejection(() => stub.readEvents({ after: -1 }))).toBeInstanceOf(RangeError);
    expect(await rejection(() => stub.readEvents({ limit: 0 }))).toBeInstanceOf(RangeError);
    expect((await stub.readEvents({})).events).toEqual([]);
  });
});
