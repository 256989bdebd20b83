import { is } from "drizzle-orm";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as schema from "../../workers/db/schema";
import { TENANT_TABLES } from "../../workers/erasure/tenant-records";

const schemaTables: SQLiteTable[] = (Object.values(schema) as unknown[]).filter((value): value is SQLiteTable =>
  is(value, SQLiteTable),
);

/** Tables that keep a tenant's id after its erasure, on purpose: the record that it was erased. */
const KEPT = ["tenant_erasures"];

describe("tenant erasure covers every tenant table", () => {
  it("erases every D1 table with a tenant_id column, each once", () => {
    const withTenantId = schemaTables
      .map((table) => getTableConfig(table))
      .filter((config) => config.columns.some((column) => column.name === "tenant_id"))
      .map((config) => config.name);
    const erased = TENANT_TABLES.map((table) => table.name);
    expect(new Set(erased).size).toBe(erased.length);
    expect([...erased, ...KEPT].sort()).toEqual([...withTenantId].sort());
  });

  it("empties a table before the tables its rows reference, so no delete cascades", () => {
    const position = (name: string) => TENANT_TABLES.findIndex((table) => table.name === name);
    const checked: string[] = [];
    for (const table of schemaTables) {
      const config = getTableConfig(table);
      if (position(config.name) < 0) continue;
      for (const key of config.foreignKeys) {
        const parent = getTableConfig(key.reference().foreignTable).name;
        if (parent === "tenants") continue;
        expect(position(config.name), `${config.name} before ${parent}`).toBeLessThan(position(parent));
        checked.push(`${config.name} → ${parent}`);
      }
    }
    expect(checked).toEqual(expect.arrayContaining(["artifacts → jobs", "trigger_deliveries → triggers"]));
  });
});
