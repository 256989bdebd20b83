import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";

/** Secrets the workerd tests run with (production-like values, not the .dev.vars ones). */
const TEST_SECRETS = {
  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
  MASTER_SECRET: "test-master-secret-0123456789abcdef0123456789",
  AUTH_JWKS_URL: "",
  AUTH_JWKS: "",
  AUTH_ISSUER: "",
  AUTH_AUDIENCE: "",
  // Usage batches are written 5 s after their first request in production; tests read usage sooner.
  USAGE_FLUSH_DELAY_MS: "50",
  // Operator metrics likewise (10 s in production).
  METRICS_FLUSH_DELAY_MS: "50",
};

// shared/rdf in workerd: n3 and shacl-engine import `readable-stream`, whose polyfill hangs later requests
// (CONVENTIONS.md); jsonld's Node document loader requires an HTTP client (undici) that compiles WASM at runtime.
const rdfAliases: Record<string, string> = {
  "readable-stream": fileURLToPath(new URL("./shared/shims/readable-stream.js", import.meta.url)),
  "@digitalbazaar/http-client": fileURLToPath(new URL("./shared/shims/digitalbazaar-http-client.cjs", import.meta.url)),
};

// Same as wrangler.toml [alias]. nunjucks/src/* in workerd: asap's browser build breaks under the bundler,
// chokidar is an optional Node watcher.
const workerdAliases = {
  asap: fileURLToPath(new URL("./shared/template/asap-workerd.cjs", import.meta.url)),
  chokidar: fileURLToPath(new URL("./shared/template/empty-module.cjs", import.meta.url)),
  ...rdfAliases,
};

// The workers pool resolves CommonJS `require()` calls (jsonld requires the HTTP client) through the root Vite
// server, not the project's, so the RDF mapping is also installed there as a resolveId hook.
const rdfRequireAliasPlugin: Plugin = {
  name: "kgen:rdf-require-aliases",
  enforce: "pre",
  resolveId: (id) => rdfAliases[id] ?? null,
};

export default defineConfig({
  plugins: [rdfRequireAliasPlugin],
  test: {
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...TEST_SECRETS,
                TEST_MIGRATIONS: await readD1Migrations(path.join(import.meta.dirname, "migrations")),
              },
            },
          })),
        ],
        resolve: { alias: workerdAliases },
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["./test/workers/setup.ts"],
          // The SPARQL client libraries the Protocol tests drive are CommonJS trees: bundled once for workerd.
          deps: {
            optimizer: {
              ssr: {
                enabled: true,
                include: ["fetch-sparql-endpoint", "sparql-http-client"],
                rolldownOptions: { platform: "node", external: [/^node:/] },
              },
            },
          },
        },
      },
      {
        test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
      },
    ],
  },
});
