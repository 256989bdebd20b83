import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { PLAN_NAMES, planLimits } from "../../../shared/plans";

const ENVIRONMENTS = [undefined, "staging", "production"] as const;

interface RateLimitBinding {
  name: string;
  namespace_id: string;
  simple: { limit: number; period: number };
}

describe("per-plan rate-limit bindings in wrangler.toml", () => {
  it("declares one binding per plan in every environment, limited to the plan's requests per minute", () => {
    const namespaces = new Set<string>();
    for (const env of ENVIRONMENTS) {
      const config = unstable_readConfig({ config: "wrangler.toml", ...(env ? { env } : {}) }, {});
      const declared = config.ratelimits as RateLimitBinding[];
      const bindings = new Map(declared.map((binding) => [binding.name, binding]));
      for (const plan of PLAN_NAMES) {
        const binding = bindings.get(`RATE_LIMIT_${plan.toUpperCase()}`);
        expect(binding, `${env ?? "top level"}: RATE_LIMIT_${plan.toUpperCase()}`).toBeDefined();
        expect(binding?.simple).toEqual({ limit: planLimits(plan).requestsPerMinute, period: 60 });
        namespaces.add(binding?.namespace_id ?? "");
      }
      expect(bindings.has("ABUSE_LIMITER")).toBe(true);
      expect(Number(config.vars.USAGE_FLUSH_DELAY_MS)).toBeGreaterThan(0);
    }
    // Each environment counts in namespaces of its own.
    expect(namespaces.size).toBe(ENVIRONMENTS.length * PLAN_NAMES.length);
  });
});
