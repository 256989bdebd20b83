// A local `wrangler dev` for benchmarks: its own state folder, fixed secrets, stopped by the caller.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";

export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const BENCH_MASTER_SECRET = "bench-master-secret-0123456789abcdef0123";

export interface DevServer {
  url: string;
  /** The process group of wrangler and everything it started (workerd included). */
  processGroup: number;
  stop(): void;
}

export interface DevServerOptions {
  /** A wrangler configuration other than the project's `wrangler.toml` (a bench build). */
  config?: string;
  /** File that receives wrangler's output (the Worker's logs); discarded when absent. */
  logFile?: string;
}

/** Applies the D1 migrations to `stateDir` (first start only) and serves the Worker on 127.0.0.1:`port`. */
export async function startDevServer(
  stateDir: string,
  port: number,
  options: DevServerOptions = {},
): Promise<DevServer> {
  const configArgs = options.config ? ["--config", options.config] : [];
  const applied = spawnSync(
    "npx",
    ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir, ...configArgs],
    {
      encoding: "utf8",
    },
  );
  if (applied.status !== 0) throw new Error(`migrations failed: ${applied.stderr}`);
  const server: ChildProcess = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      stateDir,
      "--var",
      `ADMIN_TOKEN:${BENCH_ADMIN_TOKEN}`,
      "--var",
      `MASTER_SECRET:${BENCH_MASTER_SECRET}`,
      ...configArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  if (options.logFile) {
    const log = createWriteStream(options.logFile);
    server.stdout?.pipe(log);
    server.stderr?.pipe(log);
  } else {
    server.stdout?.resume();
    server.stderr?.resume();
  }
  const url = `http://127.0.0.1:${port}`;
  const processGroup = server.pid ?? 0;
  const stop = () => {
    if (server.pid) process.kill(-server.pid, "SIGTERM");
  };
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return { url, processGroup, stop };
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  stop();
  throw new Error("wrangler dev did not start");
}

/** A new tenant on a running server, created with the bench's admin token; its API key. */
export async function createBenchTenant(
  url: string,
  tenant: { slug: string; name: string; plan: string },
): Promise<string> {
  const { secret } = await callApi(url, "POST", "/v1/tenants", BENCH_ADMIN_TOKEN, JSON.stringify(tenant));
  return secret as string;
}

/** A JSON API call; throws with the problem document on a non-2xx answer. */
export async function callApi(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: string,
  contentType = "application/json",
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": contentType }) },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}
