import { describe, expect, it } from "vitest";
import { GOLDEN_GENERATION, goldenGeneration } from "../../fixtures/generate-golden";

describe("generateFromLock in workerd", () => {
  it("gives the same artifacts and signatures as Node", async () => {
    const { result } = await goldenGeneration();
    expect(result.lockHash).toBe(GOLDEN_GENERATION.lockHash);
    expect(
      result.artifacts.map((artifact) => ({
        path: artifact.path,
        sha256: artifact.sha256,
        sig: artifact.envelope?.signatures[0]?.sig,
      })),
    ).toEqual(GOLDEN_GENERATION.artifacts);
  });
});
