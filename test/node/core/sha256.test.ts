import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex, sha256HexSync } from "../../../shared/core/sha256";

const samples = ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "é€😀".repeat(40), "x".repeat(1000)];

describe("sha256", () => {
  it("the synchronous and WebCrypto forms match node:crypto on several lengths and non-ASCII text", async () => {
    for (const s of samples) {
      const expected = createHash("sha256").update(s, "utf8").digest("hex");
      expect(sha256HexSync(s)).toBe(expected);
      expect(await sha256Hex(s)).toBe(expected);
      expect(sha256HexSync(new TextEncoder().encode(s))).toBe(expected);
    }
  });
});
