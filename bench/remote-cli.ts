// `npm run bench -- remote-cli [runs]`: examples/shop through the platform (`kgen remote generate --wait`
// then `kgen pull`, against the Worker on a local Miniflare) against an offline `kgen generate`, both as
// the user runs them (a `kgen` process per command), in one run. Prints the median wall time of each and
// the ratio; ends with {"bench":"remote-cli","runs":N,"remoteMs":R,"offlineMs":O,"ratio":R/O}.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { shopProject } from "../test/node/cli/shop-project";
import { startLocalPlatform } from "../test/support/local-platform";

const run = promisify(execFile);
const KGEN = fileURLToPath(new URL("../cli/kgen.mjs", import.meta.url));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export default async function remoteCli(args: string[]): Promise<void> {
  const runs = Number(args[0] ?? 3);
  const platform = await startLocalPlatform();
  try {
    const tenant = await platform.createTenant();
    const env = { ...process.env, NO_COLOR: "1", KGEN_URL: platform.url, KGEN_API_KEY: tenant.apiKey };
    const kgen = async (cwd: string, ...argv: string[]) =>
      (await run(process.execPath, [KGEN, ...argv], { cwd, env })).stdout;
    const remote = shopProject({}, "kgen-bench-remote-");
    const offline = shopProject({}, "kgen-bench-remote-");
    await kgen(remote, "push");
    await kgen(offline, "keys", "init");
    const remoteMs: number[] = [];
    const offlineMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const root of [remote, offline]) {
        for (const written of ["out", ".kgen/attestations", "kgen.lock.json"])
          rmSync(join(root, written), { recursive: true, force: true });
      }
      let started = performance.now();
      const job = JSON.parse(await kgen(remote, "--json", "remote", "generate", "--wait")) as { id: string };
      await kgen(remote, "pull", job.id);
      remoteMs.push(performance.now() - started);
      started = performance.now();
      await kgen(offline, "generate");
      offlineMs.push(performance.now() - started);
    }
    const r = median(remoteMs);
    const o = median(offlineMs);
    console.log(`remote generate --wait + pull: ${r.toFixed(0)} ms (median of ${runs})`);
    console.log(`offline generate:              ${o.toFixed(0)} ms (median of ${runs})`);
    console.log(
      JSON.stringify({
        bench: "remote-cli",
        runs,
        remoteMs: Math.round(r),
        offlineMs: Math.round(o),
        ratio: Number((r / o).toFixed(2)),
      }),
    );
    rmSync(remote, { recursive: true, force: true });
    rmSync(offline, { recursive: true, force: true });
  } finally {
    await platform.dispose();
  }
}
