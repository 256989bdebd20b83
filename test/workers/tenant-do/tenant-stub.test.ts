import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { InvalidJurisdictionError, type TenantNamespace, tenantStub } from "../../../durable-objects/tenant-stub";

const t0 = Date.UTC(2026, 10, 26);

/** A namespace that records how it was addressed (workerd itself has no jurisdictions). */
function recordingNamespace(calls: string[], scope = ""): TenantNamespace {
  return {
    idFromName(name) {
      calls.push(`${scope}idFromName(${name})`);
      return env.TENANT.idFromName(`${scope}${name}`);
    },
    get(id) {
      calls.push(`${scope}get`);
      return env.TENANT.get(id);
    },
    jurisdiction(jurisdiction) {
      calls.push(`jurisdiction(${jurisdiction})`);
      return recordingNamespace(calls, `${jurisdiction}:`);
    },
  };
}

describe("tenantStub", () => {
  it("addresses the same object for the same tenant id", async () => {
    const a = tenantStub(env.TENANT, "tenant-addr-1");
    const b = tenantStub(env.TENANT, "tenant-addr-1");
    expect(a.id.equals(b.id)).toBe(true);
    await a.appendEvent({ type: "tenant.created", data: {}, createdAt: t0 });
    expect((await b.readEvents({})).events).toHaveLength(1);
    const other = tenantStub(env.TENANT, "tenant-addr-2");
    expect(other.id.equals(a.id)).toBe(false);
    expect((await other.readEvents({})).events).toEqual([]);
    expect(tenantStub(env.TENANT, "tenant-addr-1", null).id.equals(a.id)).toBe(true);
  });

  it("names the object inside the jurisdiction's namespace", () => {
    const calls: string[] = [];
    tenantStub(recordingNamespace(calls), "t-1", "eu");
    expect(calls).toEqual(["jurisdiction(eu)", "eu:idFromName(t-1)", "eu:get"]);
    calls.length = 0;
    tenantStub(recordingNamespace(calls), "t-1", "fedramp");
    expect(calls).toEqual(["jurisdiction(fedramp)", "fedramp:idFromName(t-1)", "fedramp:get"]);
    calls.length = 0;
    tenantStub(recordingNamespace(calls), "t-1");
    expect(calls).toEqual(["idFromName(t-1)", "get"]);
  });

  it("reaches workerd's real jurisdiction call, which local workerd does not implement", () => {
    expect(() => tenantStub(env.TENANT, "tenant-eu", "eu")).toThrow(/not implemented in workerd/);
  });

  it("emulates a jurisdiction locally as a separate object when asked", async () => {
    const local = { emulateJurisdictions: true };
    const plain = tenantStub(env.TENANT, "tenant-eu", undefined, local);
    const eu = tenantStub(env.TENANT, "tenant-eu", "eu", local);
    const fedramp = tenantStub(env.TENANT, "tenant-eu", "fedramp", local);
    expect(eu.id.equals(plain.id)).toBe(false);
    expect(eu.id.equals(fedramp.id)).toBe(false);
    expect(eu.id.equals(tenantStub(env.TENANT, "tenant-eu", "eu", local).id)).toBe(true);
    await eu.appendEvent({ type: "tenant.created", data: { region: "eu" }, createdAt: t0 });
    expect((await tenantStub(env.TENANT, "tenant-eu", "eu", local).readEvents({})).events).toHaveLength(1);
    expect((await plain.readEvents({})).events).toEqual([]);
  });

  it("rejects other jurisdictions, even when emulating, and empty tenant ids", () => {
    for (const bad of ["us", "fedramp-high", "EU", ""]) {
      expect(() => tenantStub(env.TENANT, "tenant-x", bad)).toThrow(InvalidJurisdictionError);
      expect(() => tenantStub(env.TENANT, "tenant-x", bad, { emulateJurisdictions: true })).toThrow(
        InvalidJurisdictionError,
      );
    }
    let caught: unknown;
    try {
      tenantStub(env.TENANT, "tenant-x", "mars");
    } catch (err) {
      caught = err;
    }
    expect((caught as InvalidJurisdictionError).jurisdiction).toBe("mars");
    expect(() => tenantStub(env.TENANT, "")).toThrow(TypeError);
  });
});
