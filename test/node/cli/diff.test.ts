import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, type LocalTenant, startLocalPlatform } from "../../support/local-platform";
import { filesUnder, itemsProject, type RemoteProject } from "./remote-project";
import { jsonOf } from "./run-cli";

let platform: LocalPlatform;
const temporary: string[] = [];

beforeAll(async () => {
  platform = await startLocalPlatform();
}, 180_000);

afterAll(async () => {
  await platform?.dispose();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function triples(labels: readonly string[]): string {
  return labels
    .map(
      (label, index) =>
        `<urn:item:${index}> a <urn:Item> ; <http://www.w3.org/2000/01/rdf-schema#label> "${label}" .\n`,
    )
    .join("");
}

async function generatedJob(project: RemoteProject): Promise<string> {
  const push = await project.kgen(["push"]);
  expect(push.status, push.stderr).toBe(0);
  const run = await project.kgen(["--json", "remote", "generate", "--wait"]);
  expect(run.status, run.stderr).toBe(0);
  const job = jsonOf(run) as { id: string; status: string };
  expect(job.status).toBe("completed");
  return job.id;
}

/** A job's files, read through the API, written into a fresh git work tree with their modes. */
async function checkout(tenant: LocalTenant, jobId: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kgen-diff-checkout-"));
  temporary.push(dir);
  execFileSync("git", ["init", "-q"], { cwd: dir });
  const headers = { authorization: `Bearer ${tenant.apiKey}` };
  const listing = (await (
    await fetch(`${platform.url}/v1/jobs/${jobId}/artifacts?limit=1000`, { headers })
  ).json()) as {
    items: { id: string; path: string; chmod: string | null }[];
  };
  for (const artifact of listing.items) {
    const bytes = new Uint8Array(
      await (await fetch(`${platform.url}/v1/artifacts/${artifact.id}`, { headers })).arrayBuffer(),
    );
    mkdirSync(dirname(join(dir, artifact.path)), { recursive: true });
    writeFileSync(join(dir, artifact.path), bytes, {
      mode: artifact.chmod ? Number.parseInt(artifact.chmod, 8) : 0o644,
    });
  }
  return dir;
}

function tree(dir: string): Record<string, { hex: string; executable: boolean }> {
  return Object.fromEntries(
    filesUnder(dir)
      .filter((path) => !path.startsWith(".git/"))
      .map((path) => [
        path,
        {
          hex: readFileSync(join(dir, path)).toString("hex"),
          executable: (statSync(join(dir, path)).mode & 0o100) !== 0,
        },
      ]),
  );
}

describe("kgen diff against the real Worker", () => {
  it("prints a patch that git apply turns job a's files into job b's, and lists the files with --json", async () => {
    const project = itemsProject(4);
    const tenant = await platform.createTenant();
    const login = await project.kgen(["login", "--url", platform.url, "--key", tenant.apiKey]);
    expect(login.status, login.stderr).toBe(0);
    const jobA = await generatedJob(project);

    // item-0 goes, item-4 comes, every item's text changes, and an executable script appears.
    writeFileSync(join(project.root, "items.ttl"), triples(["item-1", "item-2", "item-3", "item-4"]));
    writeFileSync(
      join(project.root, "generator", "item.txt.njk"),
      readFileSync(join(project.root, "generator", "item.txt.njk"), "utf8").replace(
        "{{ item.label }} of",
        "{{ item.label | upper }} of",
      ),
    );
    writeFileSync(
      join(project.root, "generator", "run.sh.njk"),
      '---\nto: run.sh\nchmod: "0755"\n---\n#!/bin/sh\necho items\n',
    );
    const jobB = await generatedJob(project);

    const diff = await project.kgen(["diff", jobA, jobB]);
    expect(diff.status, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("diff --git a/items/item-0.txt b/items/item-0.txt\ndeleted file mode 100644\n");
    expect(diff.stdout).toContain("diff --git a/run.sh b/run.sh\nnew file mode 100755\n");
    const work = await checkout(tenant, jobA);
    execFileSync("git", ["apply", "--check", "-"], { cwd: work, input: diff.stdout });
    execFileSync("git", ["apply", "-"], { cwd: work, input: diff.stdout });
    expect(tree(work)).toEqual(tree(await checkout(tenant, jobB)));

    const listed = await project.kgen(["--json", "diff", jobA, jobB]);
    expect(listed.status, listed.stderr).toBe(0);
    const result = jsonOf(listed) as { summary: unknown; files: { path: string; status: string }[] };
    expect(result.summary).toEqual({ added: 2, removed: 1, changed: 3, unchanged: 0 });
    expect(result.files.map((file) => `${file.status} ${file.path}`)).toEqual([
      "removed items/item-0.txt",
      "changed items/item-1.txt",
      "changed items/item-2.txt",
      "changed items/item-3.txt",
      "added items/item-4.txt",
      "added run.sh",
    ]);

    const same = await project.kgen(["diff", jobB, jobB]);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toBe("");
    const unknown = await project.kgen(["diff", jobA, "job_missing"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not-found");
  }, 300_000);
});
