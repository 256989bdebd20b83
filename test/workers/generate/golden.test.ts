import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../shared/core/sha256";
import { lockHash } from "../../../shared/generate/lock";
import { GOLDEN, goldenJob } from "../../fixtures/generate-golden";

describe("golden job in workerd", () => {
  it("gives the same lock hash, signature and bundle bytes as Node", async () => {
    const job = await goldenJob();
    expect(await lockHash(job.lock)).toBe(GOLDEN.lockHash);
    expect(job.envelope.signatures).toEqual([{ keyid: GOLDEN.keyid, sig: GOLDEN.sig }]);
    expect(await sha256Hex(job.stored)).toBe(GOLDEN.storedBundleSha256);
    expect(await sha256Hex(job.deflated)).toBe(GOLDEN.deflatedBundleSha256);
  });
});
