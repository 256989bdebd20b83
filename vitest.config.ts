import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// nunjucks/src/* in workerd: asap's browser build breaks under the bundler, chokidar is an optional Node watcher.
const workerdAliases = {
  asap: fileURLToPath(new URL("./shared/template/asap-workerd.cjs", import.meta.url)),
  chokidar: fileURLToPath(new URL("./shared/template/empty-module.cjs", import.meta.url)),
};

export default defineConfig({
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
