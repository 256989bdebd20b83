import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The import direction of the code, checked: a module imports from its own layer group or from a
 * lower layer, never upward and never sideways into a sibling group. `shared/core` is the bottom;
 * the Worker and the Durable Object (the HTTP and RPC edges) are the top.
 */
const LAYERS: ReadonlyArray<{ rank: number; group: string; folders: readonly string[] }> = [
  { rank: 0, group: "core", folders: ["shared/core"] },
  { rank: 1, group: "regex", folders: ["shared/regex"] },
  { rank: 1, group: "crypto", folders: ["shared/crypto"] },
  { rank: 1, group: "sql", folders: ["shared/sql"] },
  {
    rank: 1,
    group: "platform",
    folders: ["shared/plans.ts", "shared/version.ts", "shared/jurisdictions.ts", "shared/quota-errors.ts"],
  },
  { rank: 2, group: "rdf", folders: ["shared/rdf"] },
  { rank: 2, group: "template", folders: ["shared/template"] },
  { rank: 3, group: "contracts", folders: ["shared/contracts"] },
  { rank: 4, group: "generate", folders: ["shared/generate"] },
  { rank: 5, group: "drift", folders: ["shared/drift"] },
  { rank: 6, group: "app", folders: ["workers", "durable-objects"] },
];

const root = join(dirname(new URL(import.meta.url).pathname), "..", "..");

function layerOf(path: string) {
  return LAYERS.find((layer) => layer.folders.some((folder) => path === folder || path.startsWith(`${folder}/`)));
}

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, folder))) {
    const path = `${folder}/${name}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|cjs|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function resolveImport(from: string, specifier: string): string {
  const target = relative(root, normalize(join(root, dirname(from), specifier)));
  return target.replace(/\.(ts|js|cjs|mjs)$/, "");
}

describe("layers", () => {
  it("every module of shared/ belongs to a layer", () => {
    const unplaced = sourceFiles("shared").filter((file) => !file.startsWith("shared/shims/") && !layerOf(file));
    expect(unplaced).toEqual([]);
  });

  it("imports point down the layers or stay inside their group", () => {
    const violations: string[] = [];
    for (const file of [...sourceFiles("shared"), ...sourceFiles("workers"), ...sourceFiles("durable-objects")]) {
      const from = layerOf(file);
      if (!from) continue;
      const source = readFileSync(join(root, file), "utf8");
      for (const match of source.matchAll(/(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = resolveImport(file, match[1] as string);
        const to = layerOf(target) ?? layerOf(`${target}.ts`);
        if (!to || to.group === from.group) continue;
        if (to.rank >= from.rank) violations.push(`${file} (${from.group}) imports ${target} (${to.group})`);
      }
    }
    expect(violations).toEqual([]);
  });
});
