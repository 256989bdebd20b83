import { describe, expect, it } from "vitest";
import {
  effectiveFlagValues,
  FLAG_NAMES,
  FLAGS,
  flagOverridesSchema,
  resolveFlag,
  rolloutBucket,
  tenantFlagsView,
} from "../../../shared/contracts/flags";
import { sha256BytesSync } from "../../../shared/core/sha256";
import { PLAN_NAMES } from "../../../shared/plans";

const ids = (count: number) => Array.from({ length: count }, (_, index) => `tn_${index.toString(36).padStart(8, "0")}`);

describe("the flag registry", () => {
  it("has a description and a default valid for its own schema on every plan", () => {
    expect(FLAG_NAMES).toEqual(["eventStreams", "maxTokenTtlSeconds", "triggers", "webhooks"]);
    for (const name of FLAG_NAMES) {
      expect(FLAGS[name].description.length).toBeGreaterThan(10);
      for (const plan of PLAN_NAMES)
        expect(FLAGS[name].schema.safeParse(FLAGS[name].defaults[plan]).success).toBe(true);
    }
  });

  it("resolves plan defaults when there are no overrides, and for a plan it does not know", () => {
    expect(effectiveFlagValues({ id: "tn_a", plan: "free", flags: {} })).toEqual({
      eventStreams: true,
      maxTokenTtlSeconds: 900,
      triggers: true,
      webhooks: true,
    });
    expect(resolveFlag("webhooks", { id: "tn_a", plan: "retired-plan", flags: null })).toEqual({
      value: true,
      source: "plan",
    });
  });

  it("applies a fixed override, and ignores a stored one that no longer validates", () => {
    expect(resolveFlag("webhooks", { id: "tn_a", plan: "free", flags: { webhooks: false } })).toEqual({
      value: false,
      source: "override",
    });
    const stale = { webhooks: "yes", maxTokenTtlSeconds: 5 } as never;
    expect(effectiveFlagValues({ id: "tn_a", plan: "free", flags: stale })).toMatchObject({
      webhooks: true,
      maxTokenTtlSeconds: 900,
    });
  });
});

describe("rollouts", () => {
  it("buckets by the first four bytes of sha256(flag:tenantId), big-endian, modulo 100", () => {
    const digest = sha256BytesSync("webhooks:tn_example");
    const expected =
      ((digest[0] as number) * 2 ** 24 +
        (digest[1] as number) * 2 ** 16 +
        (digest[2] as number) * 2 ** 8 +
        (digest[3] as number)) %
      100;
    expect(rolloutBucket("webhooks", "tn_example")).toBe(expected);
  });

  it("is stable for a tenant and roughly proportional over many tenants", () => {
    const tenants = ids(10_000);
    for (const percentage of [0, 10, 30, 50, 100]) {
      const overrides = { webhooks: { percentage, value: false, otherwise: true } };
      const off = tenants.filter(
        (id) => resolveFlag("webhooks", { id, plan: "standard", flags: overrides }).value === false,
      ).length;
      expect(Math.abs(off / tenants.length - percentage / 100)).toBeLessThan(0.02);
      // The same tenant always lands on the same side.
      const again = tenants.filter(
        (id) => resolveFlag("webhooks", { id, plan: "standard", flags: overrides }).value === false,
      ).length;
      expect(again).toBe(off);
    }
  });

  it("splits tenants independently per flag", () => {
    const tenants = ids(4_000);
    const inWebhooks = new Set(tenants.filter((id) => rolloutBucket("webhooks", id) < 50));
    const inBoth = tenants.filter((id) => inWebhooks.has(id) && rolloutBucket("triggers", id) < 50).length;
    expect(Math.abs(inBoth / tenants.length - 0.25)).toBeLessThan(0.03);
  });

  it("falls back to the plan default outside the rollout when `otherwise` is left out, and reports the bucket", () => {
    const tenant = { id: "tn_rollout", plan: "free", flags: { maxTokenTtlSeconds: { percentage: 0, value: 120 } } };
    const resolved = resolveFlag("maxTokenTtlSeconds", tenant);
    expect(resolved).toEqual({
      value: 900,
      source: "rollout",
      rollout: { percentage: 0, bucket: rolloutBucket("maxTokenTtlSeconds", "tn_rollout"), included: false },
    });
    const all = { ...tenant, flags: { maxTokenTtlSeconds: { percentage: 100, value: 120 } } };
    expect(resolveFlag("maxTokenTtlSeconds", all).value).toBe(120);
    expect(tenantFlagsView(all).flags.maxTokenTtlSeconds).toMatchObject({
      value: 120,
      source: "rollout",
      planDefault: 900,
      override: { percentage: 100, value: 120 },
    });
  });
});

describe("override validation", () => {
  const fieldsOf = (input: unknown) => {
    const parsed = flagOverridesSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join("."));
  };

  it("accepts fixed values and rollouts that fit each flag's schema", () => {
    const parsed = flagOverridesSchema.parse({
      webhooks: false,
      maxTokenTtlSeconds: { percentage: 25, value: 300, otherwise: 600 },
    });
    expect(parsed).toEqual({ webhooks: false, maxTokenTtlSeconds: { percentage: 25, value: 300, otherwise: 600 } });
  });

  it("names the flag of every value that does not fit, and refuses unknown flags", () => {
    expect(fieldsOf({ webhooks: 1 })).toEqual(["webhooks"]);
    expect(fieldsOf({ maxTokenTtlSeconds: 30 })).toEqual(["maxTokenTtlSeconds"]);
    expect(fieldsOf({ maxTokenTtlSeconds: 120.5 })).toEqual(["maxTokenTtlSeconds"]);
    expect(fieldsOf({ telemetry: true })).toEqual(["telemetry"]);
    expect(fieldsOf({ triggers: { percentage: 101, value: true } })).toEqual(["triggers.percentage"]);
    expect(fieldsOf({ triggers: { percentage: 50, value: "on" } })).toEqual(["triggers.value"]);
    expect(fieldsOf({ triggers: { percentage: 50, value: true, otherwise: 0 } })).toEqual(["triggers.otherwise"]);
    expect(fieldsOf({ triggers: { percentage: 50, value: true, extra: 1 } })).toEqual(["triggers"]);
    expect(fieldsOf({ triggers: [true] })).toEqual(["triggers"]);
  });

  it("answers a body of many unknown flags with one issue", () => {
    const hostile = Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`flag${index}`, true]));
    expect(fieldsOf(hostile)).toEqual([""]);
  });
});
