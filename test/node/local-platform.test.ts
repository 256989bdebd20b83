import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startLocalPlatform } from "../support/local-platform";

describe("the local platform harness", () => {
  it("serves the Worker with migrated D1 and operator-created tenants, and leaves nothing behind when disposed", async () => {
    const logs: string[] = [];
    const platform = await startLocalPlatform({ onLog: (level, message) => logs.push(`${level} ${message}`) });
    expect(existsSync(join(platform.bundleDir, "index.js"))).toBe(true);
    try {
      expect(platform.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const refused = await fetch(`${platform.url}/v1/tenants`, { headers: { authorization: "Bearer not-the-token" } });
      expect(refused.status).toBe(401);
      const tenant = await platform.createTenant("harness-check");
      expect(tenant).toMatchObject({ slug: "harness-check", id: expect.stringMatching(/^tn_/) });
      const me = await fetch(`${platform.url}/v1/me`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
      expect(me.status).toBe(200);
      // D1 holds the migrated schema: the tenant row is there.
      const db = await platform.miniflare.getD1Database("DB");
      const row = await db.prepare("SELECT slug FROM tenants WHERE id = ?").bind(tenant.id).first<{ slug: string }>();
      expect(row?.slug).toBe("harness-check");
      expect(logs.some((line) => line.includes("/v1/me"))).toBe(true);
    } finally {
      await platform.dispose();
      await platform.dispose();
    }
    await expect(fetch(`${platform.url}/v1/health`)).rejects.toThrow();
    expect(existsSync(platform.bundleDir)).toBe(false);
  }, 180_000);
});
