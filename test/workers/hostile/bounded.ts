import { expect } from "vitest";
import { bearer, call, expectProblem, type TestTenant } from "../helpers";

/**
 * Generous wall-clock bounds for hostile requests inside the test runtime: far above what a bounded
 * request takes (tens to hundreds of ms) and far below what an unbounded one did (tens of seconds to
 * a crash). `npm run bench -- hostile` measures the real figures against `wrangler dev`.
 */
export const HOSTILE_BOUND_MS = 5_000;
export const OTHER_TENANT_BOUND_MS = 5_000;

/**
 * Sends a hostile request and, while it runs, a request of another tenant. Asserts that the hostile
 * request is refused with the given problem within HOSTILE_BOUND_MS and that the other tenant was
 * answered (200) within OTHER_TENANT_BOUND_MS. Returns the problem document.
 */
export async function expectRefusedPromptly(
  hostile: () => Promise<Response>,
  expected: { status: number; type: string },
  bystander: TestTenant,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const hostileDone = hostile().then(async (res) => ({ res, ms: performance.now() - started }));
  const bystanderStarted = performance.now();
  const bystanderDone = call("/v1/me", { headers: bearer(bystander.apiKey) }).then(async (res) => {
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - bystanderStarted };
  });
  const [{ res, ms }, other] = await Promise.all([hostileDone, bystanderDone]);
  const problem = await expectProblem(res, expected.status, expected.type);
  expect(ms, "hostile request answered within its bound").toBeLessThan(HOSTILE_BOUND_MS);
  expect(other.status).toBe(200);
  expect(other.ms, "another tenant answered while the hostile request ran").toBeLessThan(OTHER_TENANT_BOUND_MS);
  return problem;
}
