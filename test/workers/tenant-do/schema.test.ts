import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import type { TenantObject } from "../../../durable-objects/tenant-object";
import { LEGACY_QUAD_STORE_SQL } from "../../support/legacy-quad-store-sql";

const currentVersions = Object.fromEntries(
  TENANT_SCHEMA.map((component) => [component.name, component.migrations.length]),
);

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

describe("TenantObject schema", () => {
  it("writes the schema_version row on first start", async () => {
    const stub = stubFor("schema-first-start");
    expect(await stub.getSchemaVersions()).toEqual(currentVersions);
    const tables = await runInDurableObject(stub, (_instance: TenantObject, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .toArray()
        .map((row) => row.name),
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        "schema_version",
        "quota_usage",
        "request_usage",
        "event_log",
        "rdf_term",
        "rdf_graph",
        "rdf_graph_version",
        "rdf_quad",
        "rdf_staging",
        "rdf_staging_remove",
        "graph_version_prefix",
      ]),
    );
  });

  it("does not re-run migrations after eviction", async () => {
    const stub = stubFor("schema-evict");
    await stub.ping();
    // A marker row in a migrated table: re-running migration 1 would fail (tables exist) or wipe it.
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec("INSERT INTO quota_usage (counter, period, used) VALUES ('marker', 'total', 12)");
      state.storage.sql.exec("UPDATE schema_version SET description = 'seen' WHERE component = 'tenant-core'");
    });
    await runInDurableObject(stub, (instance: TenantObject) => {
      (instance as unknown as { evictionMarker: boolean }).evictionMarker = true;
    });
    await evictDurableObject(stub);
    const freshInstance = await runInDurableObject(
      stub,
      (instance: TenantObject) => (instance as unknown as { evictionMarker?: boolean }).evictionMarker === undefined,
    );
    expect(freshInstance).toBe(true);
    expect(await stub.getSchemaVersions()).toEqual(currentVersions);
    const after = await runInDurableObject(stub, (_instance: TenantObject, state) => ({
      marker: state.storage.sql.exec("SELECT period, used FROM quota_usage WHERE counter = 'marker'").toArray(),
      description: state.storage.sql
        .exec("SELECT description FROM schema_version WHERE component = 'tenant-core'")
        .one().description,
    }));
    expect(after.marker).toEqual([{ period: "total", used: 12 }]);
    expect(after.description).toBe("seen");
  });

  it("adopts the quad tables of an object started by the code before the quad-store component, keeping its graphs", async () => {
    const stub = stubFor("schema-legacy-quad-store");
    await stub.ping();
    // Turn the object's storage into what the earlier code left: tenant-core at version 1, the quad tables
    // with their own rdf_schema row, and a graph with two versions.
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      for (const table of [
        "rdf_term",
        "rdf_graph",
        "rdf_graph_version",
        "rdf_quad",
        "rdf_staging",
        "rdf_staging_remove",
      ]) {
        state.storage.sql.exec(`DROP TABLE ${table}`);
      }
      state.storage.sql.exec("DELETE FROM schema_version WHERE component = 'quad-store'");
      for (const statement of LEGACY_QUAD_STORE_SQL) state.storage.sql.exec(statement);
    });
    await evictDurableObject(stub);

    expect(await stub.getSchemaVersions()).toEqual(currentVersions);
    const versions = await stub.graphVersions("people");
    expect(versions.ok && versions.value.map((v) => [v.version, v.triples, v.hash])).toEqual([
      [1, 2, `sha256:${"1".repeat(64)}`],
      [2, 2, `sha256:${"2".repeat(64)}`],
    ]);
    const legacy = await runInDurableObject(
      stub,
      (_instance: TenantObject, state) =>
        state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'rdf_schema'").one().n,
    );
    expect(legacy).toBe(0);
    const patched = await stub.graphPatch({
      name: "people",
      add: '<http://example.org/bob> <http://example.org/age> "40" .',
      remove: "",
      createdAt: "2026-01-03T00:00:00.000Z",
      tripleLimit: 1_000,
    });
    expect(patched.ok && patched.value.version).toMatchObject({ version: 3, triples: 3, added: 1 });
  });
});
