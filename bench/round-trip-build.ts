// The bench build with a simulated central round trip: a wrangler configuration derived from the project's,
// whose `main` is bench/round-trip-worker.ts and which sets `RTT_MS`. It is written in the repository root
// (wrangler resolves `main`, aliases and migrations relative to the configuration) under a gitignored name,
// and removed by the caller once the server is stopped.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PRODUCT_MAIN = 'main = "workers/index.ts"';
const BENCH_MAIN = 'main = "bench/round-trip-worker.ts"';

export interface BenchBuild {
  /** The configuration to pass to `wrangler --config`. */
  config: string;
  remove(): void;
}

/** Writes the round-trip build's configuration, with `rttMs` of delay per central call. */
export function writeRoundTripBuild(rttMs: number): BenchBuild {
  const product = readFileSync(`${ROOT}wrangler.toml`, "utf8");
  if (!product.includes(PRODUCT_MAIN)) throw new Error(`wrangler.toml no longer has ${PRODUCT_MAIN}`);
  // The first [vars] table is the top-level one, the environment `wrangler dev` runs without --env.
  if (!/^\[vars\]$/m.test(product)) throw new Error("wrangler.toml has no top-level [vars]");
  const bench = product.replace(PRODUCT_MAIN, BENCH_MAIN).replace(/^\[vars\]$/m, `[vars]\nRTT_MS = "${rttMs}"`);
  const config = `${ROOT}wrangler.bench-round-trip.toml`;
  writeFileSync(config, `# Written by bench/round-trip-build.ts for one bench run; not the product's build.\n${bench}`);
  return { config, remove: () => rmSync(config, { force: true }) };
}
