import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import type { TenantObject } from "../../../durable-objects/tenant-object";

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
        "rate_bucket",
        "quota_usage",
        "request_usage",
        "event_log",
        "graph_version_prefix",
      ]),
    );
  });

  it("does not re-run migrations after eviction", async () => {
    const stub = stubFor("schema-evict");
    await stub.ping();
    // A marker row in a migrated table: re-running migration 1 would fail (tables exist) or wipe it.
    await runInDurableObject(stub, (_instance: TenantObject, state) => {
      state.storage.sql.exec("INSERT INTO rate_bucket (name, units, updated_at) VALUES ('marker', 1, 2)");
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
      marker: state.storage.sql.exec("SELECT units, updated_at FROM rate_bucket WHERE name = 'marker'").toArray(),
      description: state.storage.sql
        .exec("SELECT description FROM schema_version WHERE component = 'tenant-core'")
        .one().description,
    }));
    expect(after.marker).toEqual([{ units: 1, updated_at: 2 }]);
    expect(after.description).toBe("seen");
  });
});
