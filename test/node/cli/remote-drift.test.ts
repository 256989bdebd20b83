import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Lock, serializeLock } from "../../../shared/generate/lock";
import { type LocalPlatform, startLocalPlatform } from "../../support/local-platform";
import { type RemoteProject, remoteShop } from "./remote-project";
import { jsonOf } from "./run-cli";

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startLocalPlatform();
}, 180_000);

afterAll(async () => {
  await platform?.dispose();
});

interface RemoteDriftReport {
  id: string;
  job: string;
  status: string;
  exitCode: number;
  summary: { expected: number; matched: number; modified: number; missing: number; unexpected: number };
  modified: { path: string; reason: string; diff?: string }[];
  missing: string[];
}

/**
 * The shop (plus an append template) generated on the platform, its lock written into the project and
 * the files generated offline from that lock: the same bytes the job wrote (pull writes no patches).
 */
async function pulledShop(): Promise<{ project: RemoteProject; job: string }> {
  const project = remoteShop();
  writeFileSync(
    join(project.root, "generator", "notes.njk"),
    "---\nto: notes.txt\nappend: true\n---\n// generated footer\n",
  );
  const tenant = await platform.createTenant();
  expect((await project.kgen(["login", "--url", platform.url, "--key", tenant.apiKey])).status).toBe(0);
  expect((await project.kgen(["push"])).status).toBe(0);
  const generate = await project.kgen(["--json", "remote", "generate", "--wait"]);
  expect(generate.status, generate.stderr).toBe(0);
  const job = jsonOf(generate) as { id: string; lockHash: string };
  const remoteJob = (await (
    await fetch(`${platform.url}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } })
  ).json()) as { lock: Lock };
  writeFileSync(join(project.root, "kgen.lock.json"), serializeLock(remoteJob.lock));
  expect((await project.kgen(["keys", "init"])).status).toBe(0);
  const offline = await project.kgen(["--json", "generate"]);
  expect(offline.status, offline.stderr).toBe(0);
  expect(jsonOf(offline)).toMatchObject({ lockHash: job.lockHash });
  return { project, job: job.id };
}

describe("kgen drift --remote against the real Worker", () => {
  it("is clean for the job of the lock, exit 3 for an edit, a deletion or an edit inside a block; edits around a block pass", async () => {
    const { project, job } = await pulledShop();
    const drift = async () => {
      const run = await project.kgen(["--json", "drift", "--remote"]);
      return { status: run.status, report: jsonOf(run) as unknown as RemoteDriftReport, stderr: run.stderr };
    };
    const clean = await drift();
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.report).toMatchObject({ job, status: "clean", exitCode: 0, modified: [], missing: [] });
    expect(clean.report.summary.expected).toBe(11);

    const notes = join(project.root, "out", "notes.txt");
    writeFileSync(notes, `user notes\n${readFileSync(notes, "utf8")}`);
    expect((await drift()).report.status).toBe("clean");

    const types = join(project.root, "out", "openapi.yaml");
    writeFileSync(types, `${readFileSync(types, "utf8")}# hand edit\n`);
    writeFileSync(notes, "user notes\n// generated footer, edited\n");
    rmSync(join(project.root, "out", "src", "types", "index.ts"));
    const drifted = await drift();
    expect(drifted.status).toBe(3);
    expect(drifted.report.modified.map(({ path, reason }) => [path, reason])).toEqual([
      ["notes.txt", "content"],
      ["openapi.yaml", "content"],
    ]);
    // The block's file went with its content: a diff against the file with the block put back. The other by hash: none.
    expect(drifted.report.modified[0]?.diff).toContain("-// generated footer\n");
    expect(drifted.report.modified[1]?.diff).toBeUndefined();
    expect(drifted.report.missing).toEqual(["src/types/index.ts"]);

    const human = await project.kgen(["drift", "--remote"]);
    expect(human.status).toBe(3);
    expect(human.stdout).toContain("~ openapi.yaml (content)");
  }, 300_000);

  it("fails with exit 1 when the lock's job was never generated on the platform", async () => {
    const { project } = await pulledShop();
    const lockPath = join(project.root, "kgen.lock.json");
    const lock = JSON.parse(readFileSync(lockPath, "utf8"));
    writeFileSync(lockPath, JSON.stringify({ ...lock, buildTime: "2001-01-01T00:00:00Z" }));
    const run = await project.kgen(["--json", "drift", "--remote"]);
    expect(run.status).toBe(1);
    expect(JSON.stringify(jsonOf(run))).toContain("no completed job");
  }, 300_000);
});
