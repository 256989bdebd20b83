import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";

// Same aliases as wrangler.toml [alias]: n3 and shacl-engine import `readable-stream`, whose polyfill hangs later
// requests in workerd (CONVENTIONS.md); jsonld's Node loader imports an HTTP client that compiles WASM at runtime.
const workerdAliases: Record<string, string> = {
  "readable-stream": fileURLToPath(new URL("./shared/shims/readable-stream.js", import.meta.url)),
  "@digitalbazaar/http-client": fileURLToPath(new URL("./shared/shims/digitalbazaar-http-client.cjs", import.meta.url)),
};

// The workers pool resolves CommonJS `require()` calls (jsonld requires the HTTP client) through the root Vite
// server, not the project's, so the same mapping is also installed there as a resolveId hook.
const workerdAliasPlugin: Plugin = {
  name: "kgen:workerd-aliases",
  enforce: "pre",
  resolveId: (id) => workerdAliases[id] ?? null,
};

export default defineConfig({
  plugins: [workerdAliasPlugin],
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        resolve: { alias: workerdAliases },
        test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
      },
      {
        test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
      },
    ],
  },
});
