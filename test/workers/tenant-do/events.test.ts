import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_EVENT_DATA_BYTES, MAX_EVENT_PAGE, MAX_EVENT_SCAN } from "../../../durable-objects/tenant/event-log";
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

  it("filters by type patterns with a bounded scan whose cursor moves past skipped rows", async () => {
    const stub = stubFor("events-filter");
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec("INSERT INTO event_log (type, data, created_at) VALUES ('job.started', '1', ?)", t0);
      for (let i = 0; i < MAX_EVENT_SCAN + 10; i++) {
        state.storage.sql.exec(
          "INSERT INTO event_log (type, data, created_at) VALUES ('graph.deleted', ?, ?)",
          `${i}`,
          t0,
        );
      }
      state.storage.sql.exec("INSERT INTO event_log (type, data, created_at) VALUES ('job.completed', '2', ?)", t0);
    });
    const first = await stub.readEvents({ types: ["job.*"], limit: 10 });
    expect(first.events.map((e) => e.type)).toEqual(["job.started"]);
    // The scan stopped at its bound: the cursor is past the skipped rows, and more may follow.
    expect(first).toMatchObject({ nextCursor: MAX_EVENT_SCAN, hasMore: true });
    const second = await stub.readEvents({ after: first.nextCursor, types: ["job.*"], limit: 10 });
    expect(second.events.map((e) => [e.id, e.type])).toEqual([[MAX_EVENT_SCAN + 12, "job.completed"]]);
    expect(second).toMatchObject({ nextCursor: MAX_EVENT_SCAN + 12, hasMore: false });

    const exact = await stub.readEvents({ types: ["dev.kgen.job.completed", "job.started"], limit: 1 });
    expect(exact.events.map((e) => e.type)).toEqual(["job.started"]);
    expect(exact).toMatchObject({ nextCursor: MAX_EVENT_SCAN, hasMore: true });
    const everything = await stub.readEvents({ types: ["*"], limit: 3 });
    expect(everything.events.map((e) => e.id)).toEqual([1, 2, 3]);
    for (const types of [[], ["Job.*"], ["job.**"], Array.from({ length: 21 }, () => "job.*")]) {
      expect(await rejection(() => stub.readEvents({ types }))).toBeInstanceOf(RangeError);
    }
  });

  it("prunes the oldest events before a cutoff, bounded per call, never one with a kept event before it", async () => {
    const stub = stubFor("events-prune");
    const day = 86_400_000;
    for (const createdAt of [t0 - 10 * day, t0 - 9 * day, t0 - 8 * day, t0 - day, t0 - 9 * day, t0]) {
      await stub.appendEvent({ type: "graph.deleted", data: { createdAt }, createdAt });
    }
    expect(await stub.pruneEvents({ cutoff: t0 - 7 * day, maxRows: 2 })).toEqual({ deleted: 2, more: true });
    expect(await stub.pruneEvents({ cutoff: t0 - 7 * day, maxRows: 2 })).toEqual({ deleted: 1, more: false });
    expect(await stub.pruneEvents({ cutoff: t0 - 7 * day })).toEqual({ deleted: 0, more: false });
    // Event 5 is old but follows a kept one: it stays until its predecessors go.
    expect((await stub.readEvents({})).events.map((e) => e.id)).toEqual([4, 5, 6]);
    // Reading from before the oldest kept event starts at the oldest kept one.
    expect((await stub.readEvents({ after: 1, limit: 1 })).events.map((e) => e.id)).toEqual([4]);
    expect(await stub.pruneEvents({ cutoff: t0 + 1 })).toEqual({ deleted: 3, more: false });
    expect((await stub.appendEvent({ type: "graph.deleted", data: null, createdAt: t0 })).id).toBe(7);
    expect(await rejection(() => stub.pruneEvents({ cutoff: -1 }))).toBeInstanceOf(RangeError);
    expect(await rejection(() => stub.pruneEvents({ cutoff: t0, maxRows: 0 }))).toBeInstanceOf(RangeError);
  });
});
