import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
async function provision(...args: string[]): Promise<Outcome> {
  const env = {
    ...process.env,
    CLOUDFLARE_API_TOKEN: "",
    CLOUDFLARE_ACCOUNT_ID: "",
    CI: "true",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
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
  const outcomes = await Promise.all(ENVIRONMENTS.map((env) => provision("--env", env, "--dry-run")));
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
    expect([...queues].filter((queue) => queue.endsWith("-dlq")).length).toBe(3);
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
      provision("--dry-run"),
      provision("--env", "development", "--dry-run"),
      provision("--env", "staging", "--force"),
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
    const outcome = await provision("--env", "staging");
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain("wrangler is not logged in");
    expect(commandsOf(outcome.stdout)).toEqual([]);
  }, 120_000);
});
