import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { type CliRun, runKgenAsync } from "./run-cli";
import { shopProject } from "./shop-project";

/** A project folder with its own credentials folder, and `kgen` run in it without KGEN_* from this process. */
export interface RemoteProject {
  root: string;
  configHome: string;
  kgen(args: readonly string[], env?: Record<string, string>): Promise<CliRun>;
}

function isolatedEnv(configHome: string, extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, XDG_CONFIG_HOME: configHome, ...extra };
  if (!("KGEN_URL" in extra)) delete env.KGEN_URL;
  if (!("KGEN_API_KEY" in extra)) delete env.KGEN_API_KEY;
  return env;
}

export function remoteProject(root: string): RemoteProject {
  const configHome = join(root, ".config-home");
  return {
    root,
    configHome,
    kgen: (args, env = {}) => runKgenAsync(args, { cwd: root, env: isolatedEnv(configHome, env) }),
  };
}

/** examples/shop as a remote project. */
export function remoteShop(): RemoteProject {
  return remoteProject(shopProject({}, "kgen-remote-"));
}

/**
 * A project with `items` entities and one template writing a file per entity: with more units than a
 * free tenant's synchronous job (50), its job goes through the generate queue.
 */
export function itemsProject(items: number, body = "{{ item.label }} of {{ kgen.graph.name }}\n"): RemoteProject {
  const root = mkdtempSync(join(tmpdir(), "kgen-remote-items-"));
  const triples = Array.from(
    { length: items },
    (_, index) => `<urn:item:${index}> a <urn:Item> ; <http://www.w3.org/2000/01/rdf-schema#label> "item-${index}" .`,
  );
  writeFileSync(join(root, "items.ttl"), `${triples.join("\n")}\n`);
  mkdirSync(join(root, "generator"));
  writeFileSync(
    join(root, "generator", "item.txt.njk"),
    [
      "---",
      'to: "items/{{ item.label }}.txt"',
      'sparql: "SELECT ?label WHERE { ?i a <urn:Item> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"',
      "foreach: item",
      "---",
      body,
    ].join("\n"),
  );
  writeFileSync(
    join(root, "kgen.config.json"),
    JSON.stringify({
      graphs: [{ name: "items", files: ["items.ttl"] }],
      generators: [{ name: "items", path: "generator" }],
      output: "out",
    }),
  );
  return remoteProject(root);
}

/** Every file under `folder`, `/`-separated and sorted. */
export function filesUnder(folder: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(relative(folder, full).split(sep).join("/"));
    }
  };
  walk(folder);
  return files.sort();
}
