import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";

const run = promisify(execFile);

type Outcome = { code: number; stdout: string; stderr: string };

/** What these tests read of one environment as wrangler resolves it. */
type EnvironmentConfig = {
  name: string;
  d1_databases: { binding: string; database_name: string }[];
  r2_buckets: { bucket_name: string }[];
  queues: { producers?: { queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
  ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
  analytics_engine_datasets: { binding: string; dataset?: string }[];
};

// An empty home: no `wrangler login` of whoever runs the tests is found.
const home = mkdtempSync(join(tmpdir(), "kgen-provision-"));

/** `node scripts/provision.mjs <args>` with no Cloudflare credentials, so nothing could reach an account. */
async function provision(args: string[], extraEnv: Record<string, string> = {}): Promise<Outcome> {
  const env = {
    ...process.env,
    CLOUDFLARE_API_TOKEN: "",
    CLOUDFLARE_ACCOUNT_ID: "",
    CI: "true",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    ...extraEnv,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ["scripts/provision.mjs", ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const commandsOf = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("$ "))
    .map((line) => line.slice(2));

const secretNames = readFileSync(".dev.vars.example", "utf8")
  .split("\n")
  .flatMap((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);

const ENVIRONMENTS = ["staging", "production"] as const;
const dryRuns = new Map<string, Outcome>();

beforeAll(async () => {
  const outcomes = await Promise.all(ENVIRONMENTS.map((env) => provision(["--env", env, "--dry-run"])));
  for (const [index, env] of ENVIRONMENTS.entries()) dryRuns.set(env, outcomes[index] as Outcome);
}, 120_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe.each(ENVIRONMENTS)("npm run provision -- --env %s --dry-run", (env) => {
  const config = unstable_readConfig({ config: "wrangler.toml", env }) as unknown as EnvironmentConfig;

  it("exits 0 and only prints: no wrangler command ran", () => {
    const outcome = dryRuns.get(env) as Outcome;
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`Provisioning ${config.name} (--env ${env}): dry run, nothing is created`);
    expect(outcome.stdout).not.toMatch(/: (created|already exists)$/m);
  });

  it("creates every D1 database, R2 bucket, queue and dead-letter queue wrangler.toml declares, each once", () => {
    const queues = new Set([
      ...(config.queues.producers ?? []).map((producer) => producer.queue),
      ...(config.queues.consumers ?? []).flatMap((consumer) =>
        consumer.dead_letter_queue ? [consumer.queue, consumer.dead_letter_queue] : [consumer.queue],
      ),
    ]);
    const expected = [
      ...config.d1_databases.map((database) => `wrangler d1 create ${database.database_name}`),
      ...config.r2_buckets.map((bucket) => `wrangler r2 bucket create ${bucket.bucket_name}`),
      ...[...queues].map((queue) => `wrangler queues create ${queue}`),
    ];
    expect(config.d1_databases.length).toBeGreaterThan(0);
    expect([...queues].filter((queue) => queue.endsWith("-dlq")).length).toBe(4);
    expect(commandsOf((dryRuns.get(env) as Outcome).stdout).sort()).toEqual(expected.sort());
  });

  it("names the environment's own resources, not the development ones", () => {
    for (const command of commandsOf((dryRuns.get(env) as Outcome).stdout)) expect(command).toContain(env);
  });

  it("lists each rate-limit namespace and says what needs no creation", () => {
    const { stdout } = dryRuns.get(env) as Outcome;
    expect(config.ratelimits.length).toBe(5);
    for (const limit of config.ratelimits) {
      expect(stdout).toContain(`${limit.name}: namespace_id ${limit.namespace_id}, ${limit.simple.limit} per 60 s`);
    }
    const datasets = config.analytics_engine_datasets;
    if (datasets.length === 0) expect(stdout).toMatch(/Analytics Engine datasets[^\n]*\n {4}none declared\n/);
    for (const dataset of datasets)
      expect(stdout).toContain(`${dataset.binding}: ${dataset.dataset ?? dataset.binding}`);
    expect(stdout).toContain("TENANT: TenantObject");
  });

  it("prints the secrets to set: every name of .dev.vars.example, required ones marked", () => {
    const { stdout } = dryRuns.get(env) as Outcome;
    expect(secretNames).toEqual(expect.arrayContaining(["ADMIN_TOKEN", "MASTER_SECRET"]));
    for (const name of secretNames) expect(stdout).toContain(`wrangler secret put ${name} --env ${env}`);
    expect(stdout).toContain(`required  wrangler secret put MASTER_SECRET --env ${env}`);
    expect(stdout).toContain(`optional  wrangler secret put AUTH_JWKS --env ${env}`);
  });
});

describe("npm run provision: bad invocations", () => {
  it("refuses a missing --env, an environment wrangler.toml does not declare and an unknown option", async () => {
    const [missing, unknownEnv, unknownOption] = await Promise.all([
      provision(["--dry-run"]),
      provision(["--env", "development", "--dry-run"]),
      provision(["--env", "staging", "--force"]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--env is required (one of: staging, production)");
    expect(unknownEnv.code).toBe(2);
    expect(unknownEnv.stderr).toContain("no [env.development] in wrangler.toml");
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("Unknown option '--force'");
    for (const outcome of [missing, unknownEnv, unknownOption]) expect(commandsOf(outcome.stdout)).toEqual([]);
  }, 120_000);

  it("stops before creating anything when wrangler has no account to act on", async () => {
    const outcome = await provision(["--env", "staging"]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("wrangler is not logged in");
    expect(commandsOf(outcome.stdout)).toEqual([]);
  }, 120_000);
});

/**
 * A stand-in for the wrangler CLI that answers like the Cloudflare account below and records every call:
 * the D1 database exists, the bucket's create answers "already exists", one queue's create fails although
 * the queue was created, one fails for good, and ADMIN_TOKEN is set.
 */
const STAND_IN = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
const [state, log] = [process.env.STAND_IN_STATE, process.env.STAND_IN_LOG];
const args = process.argv.slice(2);
appendFileSync(log, args.join(" ") + "\\n");
const queues = existsSync(state) ? JSON.parse(readFileSync(state, "utf8")) : [];
const answer = (code, text) => { (code === 0 ? process.stdout : process.stderr).write(text + "\\n"); process.exit(code); };
const call = args.slice(0, 2).join(" ");
if (args[0] === "whoami") answer(0, "{}");
if (call === "d1 list") answer(0, JSON.stringify([{ name: "kgen-edge-staging", uuid: "5f0e0d59-2a65-4a8b-9d2e-0c4b5b1f7a10" }]));
if (call === "r2 bucket") answer(1, args[2] === "info" ? "The specified bucket does not exist." : "The bucket you tried to create already exists, and you own it. [code: 10004]");
if (call === "queues info") answer(queues.includes(args[2]) ? 0 : 1, "Queue info");
if (call === "queues create") {
  if (args[2] === "kgen-drift-staging-dlq") answer(1, "Internal error");
  writeFileSync(state, JSON.stringify([...queues, args[2]]));
  answer(args[2] === "kgen-deliver-staging" ? 1 : 0, args[2] === "kgen-deliver-staging" ? "Request timed out" : "Created");
}
if (call === "secret list") answer(0, JSON.stringify([{ name: "ADMIN_TOKEN", type: "secret_text" }]));
answer(3, "unexpected call: " + args.join(" "));
`;

describe("npm run provision against an account (wrangler stand-in)", () => {
  it("leaves what exists, counts 'already exists' and a create that left the resource as done, names real failures", async () => {
    const folder = mkdtempSync(join(tmpdir(), "kgen-provision-account-"));
    try {
      const bin = join(folder, "wrangler.mjs");
      writeFileSync(bin, STAND_IN);
      const log = join(folder, "calls.log");
      const outcome = await provision(["--env", "staging"], {
        KGEN_WRANGLER_BIN: bin,
        STAND_IN_STATE: join(folder, "queues.json"),
        STAND_IN_LOG: log,
      });
      const calls = readFileSync(log, "utf8").trim().split("\n");

      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain("could not create queue kgen-drift-staging-dlq (wrangler's output above)");
      expect(outcome.stderr).not.toMatch(/could not create.*(D1|R2|kgen-deliver-staging\b)/);
      expect(outcome.stdout).toContain("D1 kgen-edge-staging (DB): already exists");
      expect(calls).not.toContain("d1 create kgen-edge-staging");
      expect(outcome.stdout).toContain("R2 kgen-edge-artifacts-staging (ARTIFACTS): already exists");
      expect(outcome.stdout).toContain("queue kgen-generate-staging: created");
      expect(outcome.stdout).toContain("queue kgen-deliver-staging: already exists");
      expect(outcome.stdout).toContain('database_id = "5f0e0d59-2a65-4a8b-9d2e-0c4b5b1f7a10"');
      expect(outcome.stdout).not.toContain("wrangler secret put ADMIN_TOKEN");
      expect(outcome.stdout).toContain("required  wrangler secret put MASTER_SECRET --env staging");
      expect(calls.filter((call) => call.startsWith("queues create"))).toHaveLength(8);
      expect(calls).toContain("secret list --env staging --format json");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
