import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const SHOP = fileURLToPath(new URL("../../../examples/shop", import.meta.url));

/** A copy of examples/shop in a fresh temporary folder, with a kgen.config.json writing into `out/`. */
export function shopProject(config: Record<string, unknown> = {}, prefix = "kgen-cli-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  cpSync(SHOP, root, { recursive: true });
  writeFileSync(
    join(root, "kgen.config.json"),
    JSON.stringify({
      graphs: [{ name: "shop", files: ["model.ttl"] }],
      generators: [{ name: "shop", path: "generator" }],
      output: "out",
      ...config,
    }),
  );
  return root;
}
