import { expect } from "vitest";
import { bearer, call, expectProblem, jsonBody, type TestTenant } from "../helpers";
import { type JobView, settledJob } from "../job-helpers";

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

/**
 * A job whose plan must be refused: planning runs on the queue, so the job is accepted (202) and fails
 * within HOSTILE_BOUND_MS with the problem's wording as its error, while another tenant is answered within
 * OTHER_TENANT_BOUND_MS; the same request as a dry run, which plans in the request, is refused with the
 * problem itself. Returns the problem document.
 */
export async function expectPlanRefusedPromptly(
  owner: TestTenant,
  path: "/v1/jobs" | "/v1/generations",
  body: Record<string, unknown>,
  expected: { status: number; type: string },
  bystander: TestTenant,
): Promise<Record<string, unknown>> {
  const problem = await expectRefusedPromptly(
    () => call(path, jsonBody({ ...body, dryRun: true }, owner.apiKey)),
    expected,
    bystander,
  );
  const started = performance.now();
  const res = await call(path, jsonBody(body, owner.apiKey));
  const accepted = (await res.json()) as JobView;
  expect(res.status, JSON.stringify(accepted)).toBe(202);
  const bystanderStarted = performance.now();
  const bystanderDone = call("/v1/me", { headers: bearer(bystander.apiKey) }).then(async (answer) => {
    await answer.arrayBuffer();
    return { status: answer.status, ms: performance.now() - bystanderStarted };
  });
  const [job, other] = await Promise.all([settledJob(owner.apiKey, accepted.id, HOSTILE_BOUND_MS), bystanderDone]);
  expect(performance.now() - started, "hostile job failed within its bound").toBeLessThan(HOSTILE_BOUND_MS);
  expect(job).toMatchObject({ status: "failed", counts: { artifacts: 0 } });
  expect(job.error).toBe(problem.detail);
  expect(other.status).toBe(200);
  expect(other.ms, "another tenant answered while the hostile job ran").toBeLessThan(OTHER_TENANT_BOUND_MS);
  return problem;
}
