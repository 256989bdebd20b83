import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantObject } from "../../../durable-objects/tenant-object";
import { rejection } from "./rejection";

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

const createdAt = "2026-11-26T12:00:00.000Z";
const lines = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `<http://e/s${i + from}> <http://e/p> "${i + from}" .`).join("\n");

function ingest(stub: ReturnType<typeof stubFor>, name: string, text: string, tripleLimit = 1_000) {
  return stub.graphIngest({
    name,
    mediaType: "application/n-triples",
    body: new Blob([text]).stream(),
    createdAt,
    tripleLimit,
    maxBytes: 1_000_000,
  });
}

async function graphEvents(stub: ReturnType<typeof stubFor>) {
  return (await stub.readEvents({})).events.map((event) => ({ type: event.type, data: event.data }));
}

describe("graph events, appended by the TenantObject in the call that makes the change", () => {
  it("appends graph.version.created for each new version of an upload or patch, and graph.deleted", async () => {
    const stub = stubFor("graph-events-written");
    const first = await ingest(stub, "g", lines(3));
    if (!first.ok) throw new Error("the upload was refused");
    expect(await stub.readEvents({})).toMatchObject({
      events: [{ id: 1, type: "graph.version.created", data: first.value.version, createdAt: Date.parse(createdAt) }],
    });
    expect(await ingest(stub, "g", lines(3))).toMatchObject({ ok: true, value: { created: false } });
    const patched = await stub.graphPatch({ name: "g", add: lines(1, 3), remove: "", createdAt, tripleLimit: 1_000 });
    if (!patched.ok) throw new Error("the patch was refused");
    expect(await stub.graphDelete("g")).toEqual({ ok: true, value: true });
    expect(await stub.graphDelete("g")).toEqual({ ok: true, value: false });
    expect(await graphEvents(stub)).toEqual([
      { type: "graph.version.created", data: first.value.version },
      { type: "graph.version.created", data: patched.value.version },
      { type: "graph.deleted", data: { graph: "g" } },
    ]);
  });

  it("appends nothing for an upload refused by the triple quota", async () => {
    const stub = stubFor("graph-events-quota");
    expect((await ingest(stub, "a", lines(3), 5)).ok).toBe(true);
    const refused = await ingest(stub, "b", lines(3), 5);
    expect(refused).toMatchObject({ ok: false, problem: { status: 403, type: "quota-exceeded" } });
    expect(await stub.graphList()).toMatchObject({ ok: true, value: [{ graph: "a" }] });
    expect((await graphEvents(stub)).map((event) => event.type)).toEqual(["graph.version.created"]);
  });

  it("stores no version when its event cannot be appended (one transaction)", async () => {
    const stub = stubFor("graph-events-broken-log");
    expect((await ingest(stub, "g", lines(2))).ok).toBe(true);
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec(
        "CREATE TRIGGER event_log_broken BEFORE INSERT ON event_log BEGIN SELECT RAISE(ABORT, 'event log broken'); END",
      );
    });
    expect(String(await rejection(() => ingest(stub, "g", lines(4))))).toMatch(/event log broken/);
    expect(String(await rejection(() => ingest(stub, "new", lines(1))))).toMatch(/event log broken/);
    expect(String(await rejection(() => stub.graphDelete("g")))).toMatch(/event log broken/);
    const versions = await stub.graphVersions("g");
    expect(versions.ok && versions.value.map((v) => [v.version, v.triples])).toEqual([[1, 2]]);
    expect(await stub.graphLatest("new")).toMatchObject({ ok: false, problem: { status: 404 } });
    const leftovers = await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec("DROP TRIGGER event_log_broken");
      return state.storage.sql
        .exec("SELECT (SELECT count(*) FROM rdf_quad) AS quads, (SELECT count(*) FROM rdf_staging) AS staged")
        .one();
    });
    expect(leftovers).toEqual({ quads: 2, staged: 0 });
    expect(await graphEvents(stub)).toHaveLength(1);
  });
});
