import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPlatform, type LocalTenant, startLocalPlatform } from "../../support/local-platform";
import { type FaultProxy, startFaultProxy } from "./fault-proxy";
import { filesUnder, type RemoteProject, remoteShop } from "./remote-project";
import { jsonOf } from "./run-cli";

let platform: LocalPlatform;
let proxy: FaultProxy;
let tenant: LocalTenant;
/** One pushed project with one completed job, shared by the pull cases. */
let pushed: RemoteProject;
let jobId: string;

beforeAll(async () => {
  platform = await startLocalPlatform();
  proxy = await startFaultProxy(platform.url);
  tenant = await platform.createTenant();
  pushed = remoteShop();
  const env = { KGEN_URL: platform.url, KGEN_API_KEY: tenant.apiKey };
  expect((await pushed.kgen(["push"], env)).status).toBe(0);
  jobId = (jsonOf(await pushed.kgen(["--json", "remote", "generate", "--wait"], env)) as { id: string }).id;
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  await platform?.dispose();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function expectOneLineError(stderr: string, message: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^hint: /);
}

describe("kgen login and logout", () => {
  it("checks the key with GET /v1/me, stores it 0600 in a 0700 folder, never prints it; logout removes it", async () => {
    const project = remoteShop();
    const login = await project.kgen(["--json", "login", "--url", `${platform.url}/`, "--key", tenant.apiKey]);
    expect(login.status, login.stderr).toBe(0);
    expect(jsonOf(login)).toMatchObject({
      url: platform.url,
      tenant: { id: tenant.id, slug: tenant.slug },
      role: "owner",
    });
    expect(login.stdout + login.stderr).not.toContain(tenant.apiKey);
    const file = join(project.configHome, "kgen", "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(project.configHome, "kgen")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url: platform.url, apiKey: tenant.apiKey });

    const human = await project.kgen(["login", "--url", platform.url, "--key", tenant.apiKey]);
    expect(human.stdout).toContain(`as owner of ${tenant.slug}`);
    expect(human.stdout + human.stderr).not.toContain(tenant.apiKey);

    const logout = await project.kgen(["--json", "logout"]);
    expect(jsonOf(logout)).toEqual({ removed: true, credentials: file });
    expect(existsSync(file)).toBe(false);
  }, 120_000);

  it("refuses a key the platform refuses (exit 4), stores nothing and does not echo the key", async () => {
    const project = remoteShop();
    const badKey = "kgen_not-a-real-key-0123456789abcdefghijklmnop";
    const login = await project.kgen(["login", "--url", platform.url, "--key", badKey]);
    expect(login.status).toBe(4);
    expectOneLineError(login.stderr, /refused the API key \(401/);
    expect(login.stdout + login.stderr).not.toContain(badKey);
    expect(existsSync(join(project.configHome, "kgen", "credentials.json"))).toBe(false);
    const json = await project.kgen(["--json", "login", "--url", platform.url, "--key", badKey]);
    expect(json.stdout).not.toContain(badKey);
    expect(jsonOf(json)).toMatchObject({ exitCode: 4 });
  }, 60_000);

  it("refuses to send a key over plain http to anything but this machine", async () => {
    const project = remoteShop();
    const login = await project.kgen(["login", "--url", "http://kgen.example.com", "--key", tenant.apiKey]);
    expect(login.status).toBe(1);
    expectOneLineError(login.stderr, /^error: http:\/\/kgen\.example\.com is plain http/);
    expect(login.stderr).not.toContain(tenant.apiKey);
    const inUrl = await project.kgen([
      "login",
      "--url",
      `https://user:${tenant.apiKey}@kgen.example.com`,
      "--key",
      "x",
    ]);
    expect(inUrl.status).toBe(1);
    expectOneLineError(inUrl.stderr, /^error: the platform URL carries credentials/);
    expect(inUrl.stderr).not.toContain(tenant.apiKey);
    const push = await project.kgen(["push"], { KGEN_URL: "http://kgen.example.com", KGEN_API_KEY: tenant.apiKey });
    expect(push.status).toBe(1);
    expect(existsSync(join(project.configHome, "kgen", "credentials.json"))).toBe(false);
  }, 60_000);

  it("KGEN_URL and KGEN_API_KEY override the stored credentials", async () => {
    const project = remoteShop();
    mkdirSync(join(project.configHome, "kgen"), { recursive: true });
    writeFileSync(
      join(project.configHome, "kgen", "credentials.json"),
      JSON.stringify({ url: `http://127.0.0.1:${await closedPort()}`, apiKey: "kgen_stale" }),
    );
    const pull = await project.kgen(["--json", "pull", jobId, "--force"], {
      KGEN_URL: platform.url,
      KGEN_API_KEY: tenant.apiKey,
    });
    expect(pull.status, pull.stdout).toBe(0);
    expect(filesUnder(join(project.root, "out"))).toHaveLength(10);
  }, 60_000);
});

describe("remote commands on bad input", () => {
  it("without a login: one line, a hint, exit 4, for every remote command", async () => {
    const project = remoteShop();
    for (const args of [["push"], ["remote", "generate"], ["pull", jobId]]) {
      const run = await project.kgen(args);
      expect(run.status, args.join(" ")).toBe(4);
      expectOneLineError(run.stderr, /^error: not logged in to a KGEN platform$/);
      expect(run.stderr).toContain("hint: run `kgen login --url <platform> --key <api key>`");
    }
  }, 60_000);

  it("an unreachable platform: exit 5", async () => {
    const run = await remoteShop().kgen(["push"], {
      KGEN_URL: `http://127.0.0.1:${await closedPort()}`,
      KGEN_API_KEY: tenant.apiKey,
    });
    expect(run.status).toBe(5);
    expectOneLineError(run.stderr, /cannot reach the platform at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  }, 60_000);

  it("a revoked or wrong key (401): exit 4", async () => {
    const run = await remoteShop().kgen(["remote", "generate"], { KGEN_URL: platform.url, KGEN_API_KEY: "kgen_wrong" });
    expect(run.status).toBe(4);
    expectOneLineError(run.stderr, /refused the API key \(401/);
  }, 60_000);

  it("429 is retried after Retry-After seconds, a bounded number of times", async () => {
    const env = { KGEN_URL: proxy.url, KGEN_API_KEY: tenant.apiKey };
    const limited = { kind: "status", status: 429, headers: { "retry-after": "1" }, body: "" } as const;
    proxy.seen.length = 0;
    proxy.rule = (_method, _path, index) => (index < 2 ? limited : { kind: "pass" });
    const started = performance.now();
    const recovered = await pushed.kgen(["--json", "push"], env);
    expect(recovered.status, recovered.stdout).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(2000);
    expect(proxy.seen.slice(0, 3)).toEqual(["PUT /v1/graphs/shop", "PUT /v1/graphs/shop", "PUT /v1/graphs/shop"]);

    proxy.seen.length = 0;
    proxy.rule = () => limited;
    const exhausted = await pushed.kgen(["push"], env);
    expect(exhausted.status).toBe(5);
    expectOneLineError(exhausted.stderr, /rate-limiting PUT \/v1\/graphs\/shop \(429 after 4 attempts/);
    expect(proxy.seen).toHaveLength(4);
    proxy.rule = () => ({ kind: "pass" });
  }, 90_000);

  it("--wait polls when the platform serves no event stream", async () => {
    proxy.seen.length = 0;
    proxy.rule = (_method, path) =>
      path.startsWith("/v1/events/stream") ? { kind: "status", status: 404, body: "" } : { kind: "pass" };
    const run = await pushed.kgen(["--json", "remote", "generate", "--wait"], {
      KGEN_URL: proxy.url,
      KGEN_API_KEY: tenant.apiKey,
    });
    proxy.rule = () => ({ kind: "pass" });
    expect(run.status, run.stderr).toBe(0);
    expect(jsonOf(run)).toMatchObject({ status: "completed", followedBy: "polling" });
    expect(proxy.seen.filter((seen) => seen.startsWith("GET /v1/events/stream"))).toHaveLength(1);
  }, 90_000);

  it("a 5xx answer: exit 5 with the problem's detail", async () => {
    proxy.rule = () => ({
      kind: "status",
      status: 503,
      headers: { "content-type": "application/problem+json" },
      body: JSON.stringify({
        type: "https://kgen.dev/problems/unavailable",
        title: "Unavailable",
        detail: "Down for upkeep.",
      }),
    });
    const run = await pushed.kgen(["pull", jobId], { KGEN_URL: proxy.url, KGEN_API_KEY: tenant.apiKey });
    proxy.rule = () => ({ kind: "pass" });
    expect(run.status).toBe(5);
    expectOneLineError(run.stderr, /the platform failed on GET \/v1\/jobs\/job_\w+ \(503: Down for upkeep\.\)/);
  }, 60_000);

  it("an interrupted download writes nothing (no files, no temporary files, no lock)", async () => {
    const project = remoteShop();
    proxy.rule = (_method, path) => (path.endsWith("/bundle") ? { kind: "cut" } : { kind: "pass" });
    const run = await project.kgen(["pull", jobId], { KGEN_URL: proxy.url, KGEN_API_KEY: tenant.apiKey });
    proxy.rule = () => ({ kind: "pass" });
    expect(run.status).toBe(5);
    expectOneLineError(run.stderr, /^error: the answer to GET \/v1\/jobs\/job_\w+\/bundle was cut off/);
    expect(existsSync(join(project.root, "out"))).toBe(false);
    expect(existsSync(join(project.root, "kgen.lock.json"))).toBe(false);
    expect(readdirSync(project.root).filter((name) => name.includes(".tmp"))).toEqual([]);
  }, 60_000);

  it("attestations that do not verify with the tenant's published keys: nothing is written, exit 1", async () => {
    const project = remoteShop();
    const otherTenant = await platform.createTenant();
    const otherKeys = await (await fetch(`${platform.url}/v1/tenants/${otherTenant.id}/jwks.json`)).arrayBuffer();
    proxy.rule = (_method, path) =>
      path.endsWith("/jwks.json") ? { kind: "rewrite", rewrite: () => new Uint8Array(otherKeys) } : { kind: "pass" };
    const run = await project.kgen(["--json", "pull", jobId], { KGEN_URL: proxy.url, KGEN_API_KEY: tenant.apiKey });
    proxy.rule = () => ({ kind: "pass" });
    expect(run.status).toBe(1);
    const error = jsonOf(run) as { error: string; details: { failures: string[] } };
    expect(error.error).toMatch(/^10 artifact\(s\) of job job_\w+ failed verification, nothing was written/);
    expect(error.details.failures[0]).toContain("unknown-key");
    expect(existsSync(join(project.root, "out"))).toBe(false);
    expect(existsSync(join(project.root, "kgen.lock.json"))).toBe(false);
  }, 60_000);

  it("an unknown job: exit 1 with a hint", async () => {
    const run = await pushed.kgen(["pull", "job_does_not_exist"], {
      KGEN_URL: platform.url,
      KGEN_API_KEY: tenant.apiKey,
    });
    expect(run.status).toBe(1);
    expectOneLineError(run.stderr, /^error: no job job_does_not_exist on http/);
  }, 60_000);
});
