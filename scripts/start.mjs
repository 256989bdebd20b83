// `npm start`: prepare local state, then run the Worker with embedded D1, R2, Durable Objects and Queues.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const run = (args) => {
  const result = spawnSync("npx", ["wrangler", ...args], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local-only secrets).");
}
run(["types", "--env-file", ".dev.vars.example"]);
run(["d1", "migrations", "apply", "DB", "--local"]);
run(["dev", ...process.argv.slice(2)]);
