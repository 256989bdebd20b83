import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, startLocalPlatform } from "../../support/local-platform";
import { filesUnder, itemsProject, type RemoteProject, remoteShop } from "./remote-project";
import { jsonOf } from "./run-cli";

let platform: LocalPlatform;

beforeAll(async () => {
  platform = await startLocalPlatform();
}, 180_000);

afterAll(async () => {
  await platform?.dispose();
});

async function loggedIn(project: RemoteProject): Promise<void> {
  const tenant = await platform.createTenant();
  const login = await project.kgen(["login", "--url", platform.url, "--key", tenant.apiKey]);
  expect(login.status, login.stderr).toBe(0);
}

describe("kgen push, remote generate, pull against the real Worker", () => {
  it("one engine: a pulled platform job is byte for byte the offline generate, and its lock regenerates offline", async () => {
    const remote = remoteShop();
    const offline = remoteShop();
    // A template saved with a byte order mark: the platform drops it on upload, so must the offline engine.
    for (const project of [remote, offline]) {
      const template = join(project.root, "generator", "index.ts.njk");
      writeFileSync(template, `\uFEFF${readFileSync(template, "utf8")}`);
      // And a file mode: pull applies it as generate does.
      const openapi = join(project.root, "generator", "openapi.yaml.njk");
      writeFileSync(
        openapi,
        readFileSync(openapi, "utf8").replace("to: openapi.yaml\n", 'to: openapi.yaml\nchmod: "0750"\n'),
      );
    }
    await loggedIn(remote);
    const push = await remote.kgen(["--json", "push"]);
    expect(push.status, push.stderr).toBe(0);
    expect(jsonOf(push)).toMatchObject({
      graphs: [{ name: "shop", version: 1, changed: true }],
      generators: [{ name: "shop", uploaded: expect.arrayContaining(["types.ts.njk"]), deleted: [] }],
    });
    const generate = await remote.kgen(["--json", "remote", "generate", "--wait"]);
    expect(generate.status, generate.stderr).toBe(0);
    const job = jsonOf(generate) as { id: string; status: string; lockHash: string };
    expect(job.status).toBe("completed");
    const pull = await remote.kgen(["--json", "pull", job.id]);
    expect(pull.status, pull.stderr).toBe(0);
    expect(jsonOf(pull)).toMatchObject({ job: job.id, lockHash: job.lockHash });

    expect((await offline.kgen(["keys", "init"])).status).toBe(0);
    const generated = await offline.kgen(["--json", "generate"]);
    expect(generated.status, generated.stderr).toBe(0);

    const pulledFiles = filesUnder(join(remote.root, "out"));
    expect(pulledFiles).toEqual(filesUnder(join(offline.root, "out")));
    expect(pulledFiles.length).toBe(10);
    for (const file of pulledFiles) {
      expect(readFileSync(join(remote.root, "out", file)), file).toEqual(readFileSync(join(offline.root, "out", file)));
      expect(statSync(join(remote.root, "out", file)).mode & 0o777, file).toBe(
        statSync(join(offline.root, "out", file)).mode & 0o777,
      );
    }
    expect(statSync(join(remote.root, "out", "openapi.yaml")).mode & 0o777).toBe(0o750);
    // Without the platform's lock the offline run has no upload moment: it differs in the build time only.
    const platformLock = JSON.parse(readFileSync(join(remote.root, "kgen.lock.json"), "utf8"));
    const offlineLock = JSON.parse(readFileSync(join(offline.root, "kgen.lock.json"), "utf8"));
    expect(offlineLock.buildTime).toBe("1970-01-01T00:00:00Z");
    expect(platformLock.buildTime).not.toBe(offlineLock.buildTime);
    expect({ ...offlineLock, buildTime: platformLock.buildTime }).toEqual(platformLock);
    // With it, the offline engine pins the same version and build time: the same lock hash, nothing to rewrite.
    copyFileSync(join(remote.root, "kgen.lock.json"), join(offline.root, "kgen.lock.json"));
    const again = await offline.kgen(["--json", "generate"]);
    expect(jsonOf(again)).toMatchObject({ lockHash: job.lockHash, written: [] });
    expect(readFileSync(join(offline.root, "kgen.lock.json"))).toEqual(
      readFileSync(join(remote.root, "kgen.lock.json")),
    );

    const drift = await remote.kgen(["--json", "drift"]);
    expect(jsonOf(drift)).toMatchObject({ status: "clean", lockChanged: false });
    const verify = await remote.kgen(["--json", "verify", "out/openapi.yaml", "--jwks", ".kgen/platform-jwks.json"]);
    expect(verify.status, verify.stdout).toBe(0);
    expect(jsonOf(verify)).toMatchObject({ valid: true });

    // A file edited after the pull is never overwritten silently: the drift is shown, nothing is written.
    const edited = join(remote.root, "out", "openapi.yaml");
    const original = readFileSync(edited, "utf8");
    writeFileSync(edited, original.replace("components:", "components: # hand edit"));
    const refused = await remote.kgen(["pull", job.id]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain("error: 1 file(s) changed locally, nothing was written: openapi.yaml");
    expect(refused.stderr).toContain("hint: keep your changes elsewhere, or pass --force");
    expect(refused.stderr).toMatch(/^-components: # hand edit$/m);
    expect(refused.stderr).toMatch(/^\+components:$/m);
    expect(readFileSync(edited, "utf8")).toContain("# hand edit");
    const refusedJson = await remote.kgen(["--json", "pull", job.id]);
    expect(jsonOf(refusedJson)).toMatchObject({ exitCode: 3, details: { modified: [{ path: "openapi.yaml" }] } });
    const forced = await remote.kgen(["--json", "pull", job.id, "--force"]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(jsonOf(forced)).toMatchObject({ written: ["openapi.yaml"], overwritten: ["openapi.yaml"] });
    expect(readFileSync(edited, "utf8")).toBe(original);

    // Files as their attestations say they were generated are simply replaced by a newer job's.
    const docs = join(remote.root, "generator", "docs.md.njk");
    writeFileSync(docs, `${readFileSync(docs, "utf8")}\nRevised.\n`);
    expect((await remote.kgen(["push"])).status).toBe(0);
    const next = jsonOf(await remote.kgen(["--json", "remote", "generate", "--wait"])) as { id: string };
    const updated = await remote.kgen(["--json", "pull", next.id]);
    expect(updated.status, updated.stdout).toBe(0);
    expect(jsonOf(updated)).toMatchObject({
      written: ["docs/customer.md", "docs/order-line.md", "docs/order.md", "docs/product.md"],
      overwritten: [],
    });
    expect(readFileSync(join(remote.root, "out", "docs", "order.md"), "utf8")).toMatch(/Revised\.\n$/);
  }, 300_000);

  it("push sends only what changed: unchanged templates stay, edited ones go up, removed ones are deleted", async () => {
    const remote = remoteShop();
    await loggedIn(remote);
    expect((await remote.kgen(["push"])).status).toBe(0);
    const unchanged = await remote.kgen(["--json", "push"]);
    expect(jsonOf(unchanged)).toMatchObject({
      graphs: [{ name: "shop", version: 1, changed: false }],
      generators: [{ name: "shop", uploaded: [], deleted: [], unchanged: 5 }],
    });
    const docs = join(remote.root, "generator", "docs.md.njk");
    writeFileSync(docs, `${readFileSync(docs, "utf8")}\nEdited.\n`);
    rmSync(join(remote.root, "generator", "index.ts.njk"));
    writeFileSync(
      join(remote.root, "model.ttl"),
      `${readFileSync(join(remote.root, "model.ttl"), "utf8")}\n<urn:extra> <urn:p> "new" .\n`,
    );
    const changed = await remote.kgen(["push"]);
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toContain("graph shop: version 2 (new), 104 triples");
    expect(changed.stdout).toContain("generator shop: 1 uploaded, 3 unchanged, 1 deleted");
  }, 120_000);

  it("push merges a graph's files as generate does: blank nodes of different files stay apart, the same hash", async () => {
    const remote = itemsProject(2);
    writeFileSync(join(remote.root, "a.ttl"), '[] <urn:p> "same" .\n');
    writeFileSync(join(remote.root, "b.ttl"), '[] <urn:p> "same" .\n');
    const config = JSON.parse(readFileSync(join(remote.root, "kgen.config.json"), "utf8"));
    config.graphs[0].files = ["*.ttl"];
    writeFileSync(join(remote.root, "kgen.config.json"), JSON.stringify(config));
    await loggedIn(remote);
    const push = await remote.kgen(["--json", "push"]);
    expect(push.status, push.stdout).toBe(0);
    const pushed = jsonOf(push) as { graphs: { triples: number; hash: string }[] };
    // items.ttl holds 2 × 2 triples; a.ttl and b.ttl one each, about two different blank nodes.
    expect(pushed.graphs[0]?.triples).toBe(6);
    expect((await remote.kgen(["keys", "init"])).status).toBe(0);
    expect((await remote.kgen(["generate"])).status).toBe(0);
    const offlineLock = JSON.parse(readFileSync(join(remote.root, "kgen.lock.json"), "utf8"));
    expect(offlineLock.graph.hash).toBe(pushed.graphs[0]?.hash);
  }, 120_000);

  it("a job larger than a synchronous one runs on the generate queue; --wait follows it and pull writes every file", async () => {
    const remote = itemsProject(60);
    await loggedIn(remote);
    expect((await remote.kgen(["push"])).status).toBe(0);
    const generate = await remote.kgen(["--json", "remote", "generate", "--wait"]);
    expect(generate.status, generate.stderr).toBe(0);
    const job = jsonOf(generate) as { id: string; status: string; counts: { total: number; artifacts: number } };
    // Followed through the platform's event stream, not by polling.
    expect(job).toMatchObject({
      status: "completed",
      counts: { total: 60, artifacts: 60 },
      followedBy: "event-stream",
    });
    const pull = await remote.kgen(["pull", job.id]);
    expect(pull.status, pull.stderr).toBe(0);
    expect(filesUnder(join(remote.root, "out"))).toHaveLength(60);
    expect(readFileSync(join(remote.root, "out", "items", "item-42.txt"), "utf8")).toBe("item-42 of items\n");
    expect(existsSync(join(remote.root, ".kgen", "attestations", "items", "item-42.txt.dsse.json"))).toBe(true);
  }, 240_000);

  it("exits 1 with the platform's error when the job cannot run", async () => {
    const remote = itemsProject(3, "{{ nope() }}\n");
    await loggedIn(remote);
    expect((await remote.kgen(["push"])).status).toBe(0);
    const generate = await remote.kgen(["remote", "generate", "--wait"]);
    expect(generate.status).toBe(1);
    expect(generate.stderr).toMatch(/^error: .*Unable to call `nope`/m);
    expect(generate.stderr).toMatch(/^hint: /m);
  }, 120_000);

  it("--wait follows a queued job that fails and exits 1 with the job's error", async () => {
    const remote = itemsProject(60, "{{ nope() }}\n");
    await loggedIn(remote);
    expect((await remote.kgen(["push"])).status).toBe(0);
    const generate = await remote.kgen(["remote", "generate", "--wait"]);
    expect(generate.status).toBe(1);
    expect(generate.stderr).toMatch(/^error: job job_\w+ failed: .*Unable to call `nope`/m);
    expect(generate.stderr).toMatch(/^hint: /m);
  }, 120_000);
});
