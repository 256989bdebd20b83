import { resolve } from "node:path";
import type { Command } from "commander";
import { DataFactory, Writer } from "n3";
import { loadProject } from "../config";
import { forEachGraphQuad, graphFiles, readGeneratorTemplates } from "../offline-engine";
import { outputOf } from "../output";
import { resolveCredentials } from "../platform/credentials";
import { PlatformClient } from "../platform/platform-client";

interface GraphVersion {
  graph: string;
  version: number;
  hash: string | null;
  triples: number;
}

interface RemoteGenerator {
  templates: { path: string; hash: string }[];
}

export interface PushSummary {
  url: string;
  graphs: { name: string; version: number; hash: string | null; triples: number; changed: boolean }[];
  generators: { name: string; uploaded: string[]; deleted: string[]; unchanged: number }[];
}

/**
 * The graph's files merged as the offline engine merges them (same order, same blank-node scoping),
 * as one N-Triples document: the platform stores and hashes exactly the graph `kgen generate` renders.
 */
export async function mergedGraphDocument(files: readonly string[]): Promise<string> {
  const writer = new Writer({ format: "N-Triples" });
  await forEachGraphQuad(files, (quad) =>
    writer.addQuad(DataFactory.quad(quad.subject, quad.predicate, quad.object, DataFactory.defaultGraph())),
  );
  return new Promise((resolveText, reject) => writer.end((error, text) => (error ? reject(error) : resolveText(text))));
}

const templateAddress = (generator: string, path: string) =>
  `/v1/templates/${encodeURIComponent(generator)}/${path.split("/").map(encodeURIComponent).join("/")}`;

/** `kgen push`: the project's graphs and generators onto the platform, only what changed. */
export function registerPushCommand(program: Command): void {
  program
    .command("push")
    .description("upload the project's graphs (a new version when they changed) and its changed templates")
    .action(async (_options: unknown, command: Command) => {
      const output = outputOf(command);
      const project = loadProject(process.cwd());
      const client = new PlatformClient(resolveCredentials());
      const summary: PushSummary = { url: client.url, graphs: [], generators: [] };
      // Everything local is read and checked before the first upload.
      const generators = [];
      for (const generator of project.config.generators) {
        generators.push({
          name: generator.name,
          templates: await readGeneratorTemplates(resolve(project.root, generator.path)),
        });
      }
      const documents = [];
      for (const graph of project.config.graphs) {
        documents.push({
          name: graph.name,
          document: await mergedGraphDocument(graphFiles(project.root, graph.files)),
        });
      }
      for (const { name, document } of documents) {
        const response = await client.request("PUT", `/v1/graphs/${encodeURIComponent(name)}`, {
          body: document,
          contentType: "application/n-triples",
          accept: "application/json",
        });
        const version = JSON.parse(new TextDecoder().decode(response.bytes)) as GraphVersion;
        summary.graphs.push({
          name,
          version: version.version,
          hash: version.hash,
          triples: version.triples,
          changed: response.status === 201,
        });
      }
      for (const generator of generators) {
        const remote = await client.json<RemoteGenerator | null>(
          "GET",
          `/v1/generators/${encodeURIComponent(generator.name)}`,
          undefined,
          { expect: [404] },
        );
        const remoteHashes = new Map(
          remote.status === 404 || !remote.value ? [] : remote.value.templates.map((t) => [t.path, t.hash] as const),
        );
        const uploaded: string[] = [];
        for (const template of generator.templates) {
          if (remoteHashes.get(template.path) === template.hash) continue;
          await client.request("PUT", templateAddress(generator.name, template.path), {
            body: template.source,
            contentType: "text/plain; charset=utf-8",
            accept: "application/json",
          });
          uploaded.push(template.path);
        }
        const local = new Set(generator.templates.map((template) => template.path));
        const deleted: string[] = [];
        for (const path of [...remoteHashes.keys()].sort()) {
          if (local.has(path)) continue;
          await client.request("DELETE", templateAddress(generator.name, path), { expect: [404] });
          deleted.push(path);
        }
        summary.generators.push({
          name: generator.name,
          uploaded,
          deleted,
          unchanged: generator.templates.length - uploaded.length,
        });
      }
      output.result(summary, (value) =>
        [
          ...value.graphs.map(
            (graph) =>
              `graph ${graph.name}: version ${graph.version}${graph.changed ? " (new)" : " (unchanged)"}, ${graph.triples} triples, ${graph.hash}`,
          ),
          ...value.generators.map(
            (generator) =>
              `generator ${generator.name}: ${generator.uploaded.length} uploaded, ${generator.unchanged} unchanged, ${generator.deleted.length} deleted`,
          ),
        ].join("\n"),
      );
    });
}
