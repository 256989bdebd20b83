#!/usr/bin/env node
// Creates what a deployed environment's bindings need, idempotently, with wrangler:
//   npm run provision -- --env staging|production [--dry-run]
// Names come from wrangler.toml as wrangler itself reads it (its own parser and environment rules).
// A resource that already exists counts as created, so the script can be run again at any time.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// KGEN_WRANGLER_BIN: another wrangler entry point to run (a Node script); the tests use a recording stand-in.
const wranglerBin = process.env.KGEN_WRANGLER_BIN || join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

function usage(message) {
  console.error(`provision: ${message}`);
  console.error("usage: npm run provision -- --env <staging|production> [--dry-run]");
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: { env: { type: "string" }, "dry-run": { type: "boolean", default: false } },
    strict: true,
  }));
} catch (error) {
  usage(error.message);
}

const { experimental_readRawConfig, unstable_readConfig } = await import("wrangler");
const configPath = join(root, "wrangler.toml");
const declaredEnvironments = Object.keys(experimental_readRawConfig({ config: configPath }).rawConfig.env ?? {});
if (!options.env) usage(`--env is required (one of: ${declaredEnvironments.join(", ")})`);
if (!declaredEnvironments.includes(options.env)) {
  usage(`no [env.${options.env}] in wrangler.toml (declared: ${declaredEnvironments.join(", ")})`);
}
const env = options.env;
const dryRun = options["dry-run"];
const config = unstable_readConfig({ config: configPath, env });

/** Queue names in declaration order: producers, consumers, then their dead-letter queues. */
function queueNames() {
  const names = [
    ...(config.queues.producers ?? []).map((producer) => producer.queue),
    ...(config.queues.consumers ?? []).flatMap((consumer) => [consumer.queue, consumer.dead_letter_queue]),
  ];
  return [...new Set(names.filter(Boolean))];
}

/** `wrangler <args>`; the output is captured and returned (and echoed when `echo`). */
function wrangler(args, { echo = true } = {}) {
  const result = spawnSync(process.execPath, [wranglerBin, ...args], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (echo && output.trim()) console.log(output.trimEnd().replace(/^/gm, "    "));
  return { ok: result.status === 0, output };
}

function command(args) {
  return `wrangler ${args.join(" ")}`;
}

const failures = [];

/**
 * Runs `create` unless `exists` says the resource is there; a create that fails is success when the resource
 * exists afterwards ("already exists", or created concurrently), whatever wrangler's message says.
 */
function ensure(label, createArgs, exists) {
  console.log(`$ ${command(createArgs)}`);
  if (dryRun) return;
  if (exists()) {
    console.log(`    ${label}: already exists`);
    return;
  }
  const created = wrangler(createArgs);
  if (created.ok) console.log(`    ${label}: created`);
  else if (/already exists/i.test(created.output) || exists()) console.log(`    ${label}: already exists`);
  else failures.push(label);
}

function d1Databases() {
  const listed = wrangler(["d1", "list", "--json"], { echo: false });
  if (!listed.ok) return [];
  try {
    return JSON.parse(listed.output.slice(listed.output.indexOf("[")));
  } catch {
    return [];
  }
}

console.log(`Provisioning ${config.name} (--env ${env})${dryRun ? ": dry run, nothing is created" : ""}\n`);
// One clear stop before anything is attempted when wrangler has no account to act on.
if (!dryRun && !wrangler(["whoami", "--json"], { echo: false }).ok) {
  console.error("provision: wrangler is not logged in (set CLOUDFLARE_API_TOKEN, or run `wrangler login`)");
  process.exit(1);
}

console.log("D1 databases");
const databaseIdsToSet = [];
for (const database of config.d1_databases) {
  const find = () => d1Databases().find((listed) => listed.name === database.database_name);
  ensure(`D1 ${database.database_name} (${database.binding})`, ["d1", "create", database.database_name], () =>
    Boolean(find()),
  );
  if (dryRun) continue;
  const uuid = find()?.uuid;
  if (uuid && uuid !== database.database_id) databaseIdsToSet.push({ ...database, uuid });
}

console.log("\nR2 buckets");
for (const bucket of config.r2_buckets) {
  const jurisdiction = bucket.jurisdiction ? ["--jurisdiction", bucket.jurisdiction] : [];
  ensure(
    `R2 ${bucket.bucket_name} (${bucket.binding})`,
    ["r2", "bucket", "create", bucket.bucket_name, ...jurisdiction],
    () => wrangler(["r2", "bucket", "info", bucket.bucket_name, ...jurisdiction], { echo: false }).ok,
  );
}

console.log("\nQueues and dead-letter queues");
for (const queue of queueNames()) {
  ensure(`queue ${queue}`, ["queues", "create", queue], () => wrangler(["queues", "info", queue], { echo: false }).ok);
}

console.log("\nAnalytics Engine datasets (nothing to create: a dataset is created by its first write)");
const datasets = config.analytics_engine_datasets ?? [];
if (datasets.length === 0) console.log("    none declared");
for (const dataset of datasets) console.log(`    ${dataset.binding}: ${dataset.dataset ?? dataset.binding}`);

console.log(
  "\nRate-limit namespaces (nothing to create: declared in wrangler.toml, they exist once a deploy binds them)",
);
const rateLimits = config.ratelimits ?? [];
if (rateLimits.length === 0) console.log("    none declared");
for (const limit of rateLimits) {
  console.log(
    `    ${limit.name}: namespace_id ${limit.namespace_id}, ${limit.simple.limit} per ${limit.simple.period} s`,
  );
}

console.log("\nDurable Objects (nothing to create: the first `wrangler deploy` applies the [[migrations]])");
for (const binding of config.durable_objects.bindings) console.log(`    ${binding.name}: ${binding.class_name}`);

if (databaseIdsToSet.length > 0) {
  console.log("\nPut these database ids into wrangler.toml before deploying:");
  for (const database of databaseIdsToSet) {
    console.log(`    [[env.${env}.d1_databases]] binding = "${database.binding}": database_id = "${database.uuid}"`);
  }
} else if (dryRun && config.d1_databases.some((database) => database.database_id === PLACEHOLDER_DATABASE_ID)) {
  console.log(`\nwrangler.toml still has the placeholder database_id for --env ${env}: the run prints the one to set.`);
}

// The secrets are the names in .dev.vars.example (what `wrangler types` also reads); an empty example value
// marks a secret that is optional.
const exampleSecrets = readFileSync(join(root, ".dev.vars.example"), "utf8")
  .split("\n")
  .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
  .filter(Boolean)
  .map(([, name, value]) => ({ name, required: value.trim() !== "" }));

let alreadySet = new Set();
if (!dryRun) {
  const listed = wrangler(["secret", "list", "--env", env, "--format", "json"], { echo: false });
  if (listed.ok) {
    try {
      alreadySet = new Set(JSON.parse(listed.output.slice(listed.output.indexOf("["))).map((secret) => secret.name));
    } catch {
      alreadySet = new Set();
    }
  }
}
const toSet = exampleSecrets.filter((secret) => !alreadySet.has(secret.name));
console.log(`\nSecrets still to set${dryRun ? " (a dry run does not ask which are set)" : ""}:`);
if (toSet.length === 0) console.log("    none");
for (const secret of toSet) {
  console.log(`    ${secret.required ? "required" : "optional"}  wrangler secret put ${secret.name} --env ${env}`);
}

if (failures.length > 0) {
  console.error(`\nprovision: could not create ${failures.join(", ")} (wrangler's output above)`);
  process.exit(1);
}
