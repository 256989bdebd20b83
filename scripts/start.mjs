// `npm start`: prepare local state quietly, then run the Worker with embedded D1, R2, Durable Objects and Queues.
// `npm start -- --port 8788` (any `wrangler dev` option) picks another port.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const DEFAULT_PORT = "8787";

/** Runs wrangler; its output is shown only when it fails. */
function quietly(args) {
  const result = spawnSync("npx", ["wrangler", ...args], { encoding: "utf8" });
  if (result.status === 0) return;
  process.stdout.write(result.stdout ?? "");
  process.stderr.write(result.stderr ?? "");
  console.error(`\`wrangler ${args.join(" ")}\` failed${result.error ? `: ${result.error.message}` : ""}.`);
  process.exit(result.status ?? 1);
}

/** The value of `--port N` or `--port=N` among the arguments for `wrangler dev`. */
function portOf(args) {
  for (const [index, arg] of args.entries()) {
    if (arg === "--port") return args[index + 1] ?? DEFAULT_PORT;
    if (arg.startsWith("--port=")) return arg.slice("--port=".length);
  }
  return DEFAULT_PORT;
}

const devArgs = process.argv.slice(2);
if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local-only secrets).");
}
quietly(["types", "--env-file", ".dev.vars.example"]);
quietly(["d1", "migrations", "apply", "DB", "--local"]);

const url = `http://localhost:${portOf(devArgs)}`;
console.log(`
KGEN Edge on ${url}  (API description: ${url}/v1/openapi.json)
  operator token: ADMIN_TOKEN in .dev.vars
  clients:        KGEN_URL=${url} npm run demo
`);
const dev = spawnSync("npx", ["wrangler", "dev", ...devArgs], { stdio: "inherit" });
process.exit(dev.status ?? 1);
