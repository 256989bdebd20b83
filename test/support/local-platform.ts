import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));

export interface LocalPlatformOptions {
  /** The Worker's wrangler.toml; its bindings, aliases and queue consumers are the platform's. */
  configPath?: string;
  /** The D1 migrations folder applied before the first request (default: `migrations` next to the config). */
  migrationsDir?: string;
  /** Extra bindings (secrets) on top of the generated ADMIN_TOKEN and MASTER_SECRET. */
  bindings?: Record<string, string>;
  /** Receives the Worker's log lines (its JSON request and error logs); dropped when absent. */
  onLog?: (level: string, message: string) => void;
}

export interface LocalTenant {
  id: string;
  slug: string;
  /** The tenant owner's API key. */
  apiKey: string;
}

export interface LocalPlatform {
  /** Where the Worker answers, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** The operator token of this instance (random per start). */
  adminToken: string;
  miniflare: Miniflare;
  /** The folder holding the Worker bundle (removed by `dispose`). */
  bundleDir: string;
  /** Creates a tenant through `POST /v1/tenants` and returns its owner key. */
  createTenant(slug?: string): Promise<LocalTenant>;
  /** Stops workerd and removes the bundle; safe to call twice. */
  dispose(): Promise<void>;
}

const run = promisify(execFile);

/** Bundles the Worker exactly as `wrangler deploy` would (aliases included) into `outdir`; returns the entry. */
async function bundleWorker(configPath: string, outdir: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const wrangler = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
  await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir, "--config", configPath], {
    cwd: dirname(configPath),
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  return join(outdir, "index.js");
}

/** Applies every `*.sql` migration in name order, each split into statements as wrangler does. */
async function applyMigrations(miniflare: Miniflare, migrationsDir: string): Promise<void> {
  const db = await miniflare.getD1Database("DB");
  const files = readdirSync(migrationsDir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(readFileSync(join(migrationsDir, file), "utf8"))
      .flatMap((chunk) => chunk.split("--> statement-breakpoint"))
      .map((statement) => statement.trim())
      .filter((statement) => statement.length > 0);
    await db.batch(statements.map((statement) => db.prepare(statement)));
  }
}

/**
 * The real Worker on workerd, in this process's control: bundled once with wrangler, run by Miniflare
 * with the bindings of wrangler.toml (D1, R2, Durable Objects, Queues with their consumers), all state in
 * memory, on a free port of 127.0.0.1. Start one per test file and dispose it in `afterAll`.
 */
export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const configPath = resolve(options.configPath ?? join(REPOSITORY, "wrangler.toml"));
  const migrationsDir = resolve(options.migrationsDir ?? join(dirname(configPath), "migrations"));
  const outdir = mkdtempSync(join(tmpdir(), "kgen-local-platform-"));
  let miniflare: Miniflare | null = null;
  try {
    const entry = await bundleWorker(configPath, outdir);
    // The bundle is one ES module: wrangler's module rules describe the sources it was built from.
    const {
      modulesRules: _sourceRules,
      rootPath: _sourceRoot,
      ...workerOptions
    } = unstable_getMiniflareWorkerOptions(configPath).workerOptions;
    const adminToken = `local-admin-${randomBytes(16).toString("hex")}`;
    miniflare = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        // The default would fetch a `request.cf` object from the network at every start.
        cf: false,
        handleStructuredLogs: (log: { level: string; message: string }) => options.onLog?.(log.level, log.message),
        workers: [
          {
            ...workerOptions,
            name: "kgen-local-platform",
            modules: true,
            scriptPath: entry,
            // Module names are paths relative to this root; the bundle lives outside the working folder.
            modulesRoot: outdir,
            bindings: {
              ...(workerOptions.bindings as Record<string, unknown>),
              ADMIN_TOKEN: adminToken,
              MASTER_SECRET: `local-master-${randomBytes(24).toString("hex")}`,
              AUTH_JWKS_URL: "",
              AUTH_JWKS: "",
              AUTH_ISSUER: "",
              AUTH_AUDIENCE: "",
              ...options.bindings,
            },
          },
        ],
      } as Parameters<typeof convertV4MiniflareOptions>[0]),
    );
    const ready = await miniflare.ready;
    await applyMigrations(miniflare, migrationsDir);
    const url = ready.origin;
    const started = miniflare;
    let disposed = false;
    return {
      url,
      adminToken,
      miniflare: started,
      bundleDir: outdir,
      async createTenant(slug = `t-${randomBytes(4).toString("hex")}`) {
        const response = await fetch(`${url}/v1/tenants`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ slug, name: `Tenant ${slug}` }),
        });
        if (response.status !== 201) {
          throw new Error(`POST /v1/tenants answered ${response.status}: ${await response.text()}`);
        }
        const body = (await response.json()) as { tenant: { id: string; slug: string }; secret: string };
        return { id: body.tenant.id, slug: body.tenant.slug, apiKey: body.secret };
      },
      async dispose() {
        if (disposed) return;
        disposed = true;
        try {
          await started.dispose();
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await miniflare?.dispose().catch(() => undefined);
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
