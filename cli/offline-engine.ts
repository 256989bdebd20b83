import { type Dirent, globSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, resolve, sep } from "node:path";
import type * as RDF from "@rdfjs/types";
import { DataFactory } from "n3";
import { GraphService } from "../durable-objects/tenant/graph-service";
import { type ArtifactData, JobService } from "../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../shared/core/sha256";
import { computeLock, deriveBuildTime, type Lock } from "../shared/generate/lock";
import type { PlanTemplate, SkippedUnit } from "../shared/generate/template-unit";
import { RDF_MEDIA_TYPES } from "../shared/rdf/formats";
import { parseRdfStream } from "../shared/rdf/parse-stream";
import { QuadStore } from "../shared/rdf/store/quad-store";
import { applySchemaMigrations } from "../shared/sql/migrations";
import { ENGINE_VERSION } from "../shared/version";
import { CliError } from "./exit-codes";
import { nodeSqlDatabase } from "./node-sql-database";

/**
 * The creation time of every offline graph version. The platform derives a lock's build time from
 * the pinned version's creation; offline there is no upload moment, and any clock would make two
 * runs differ, so the version is dated at the Unix epoch: the build time is then a pure function
 * of nothing but the inputs (SOURCE_DATE_EPOCH semantics).
 */
export const OFFLINE_VERSION_CREATED_AT = "1970-01-01T00:00:00.000Z";

/** The platform's generous defaults for one offline run: the user's own machine bounds it. */
const QUERY_LIMITS = { maxRows: 1_000_000, maxSteps: 1_000_000_000 };
const MAX_ARTIFACTS = 100_000;

const MEDIA_TYPE_BY_EXTENSION: Record<string, string> = {
  ".ttl": RDF_MEDIA_TYPES.turtle,
  ".trig": RDF_MEDIA_TYPES.trig,
  ".nt": RDF_MEDIA_TYPES.ntriples,
  ".nq": RDF_MEDIA_TYPES.nquads,
  ".jsonld": RDF_MEDIA_TYPES.jsonld,
  ".json": RDF_MEDIA_TYPES.jsonld,
};

export interface OfflineInputs {
  graph: { name: string; files: string[] };
  generator: { name: string; folder: string };
  params: Record<string, unknown>;
  /**
   * The graph version an existing lock pins (e.g. the one `kgen pull` wrote). When its content hash is
   * the hash of the files, the run keeps its number and build time: a platform job regenerates offline
   * to the same bytes and lock. Otherwise the files are version 1 of the Unix epoch.
   */
  pinned?: { version: number | string; hash: string; buildTime: string };
}

export interface OfflineRun {
  lock: Lock;
  artifacts: ArtifactData[];
  skipped: SkippedUnit[];
}

/** The templates of a generator folder, every file by its `/`-separated path, sorted, each hashed. */
export async function readGeneratorTemplates(folder: string): Promise<PlanTemplate[]> {
  const paths: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw new CliError(
        `cannot read generator folder ${dir}: ${(error as Error).message}`,
        "check `path` in kgen.config.json",
      );
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) paths.push(relative(folder, full).split(sep).join("/"));
    }
  };
  walk(folder);
  paths.sort();
  if (paths.length === 0) throw new CliError(`generator folder ${folder} holds no templates`, "add templates to it");
  const templates: PlanTemplate[] = [];
  // Decoded as the platform decodes an upload: strict UTF-8, a leading BOM dropped (so it is in no hash).
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  for (const path of paths) {
    let source: string;
    try {
      source = decoder.decode(readFileSync(join(folder, path)));
    } catch {
      throw new CliError(`template ${path} is not UTF-8`, "save it as UTF-8 (`kgen templates lint` names it)");
    }
    templates.push({ path, hash: await sha256Hex(source), source });
  }
  return templates;
}

/** Renames a later file's blank nodes so that files merged into one graph never share one by accident. */
function scopedBlankNodes(fileIndex: number, quad: RDF.Quad): RDF.Quad {
  if (fileIndex === 0) return quad;
  const scope = <T extends RDF.Term>(term: T): T =>
    (term.termType === "BlankNode" ? DataFactory.blankNode(`f${fileIndex}_${term.value}`) : term) as T;
  return DataFactory.quad(scope(quad.subject), quad.predicate, scope(quad.object), quad.graph);
}

/**
 * Every triple of a graph's files, file by file in the given order, each file parsed as the platform
 * parses an upload. A later file's blank nodes are renamed so that files never share one by accident.
 */
export async function forEachGraphQuad(files: readonly string[], onQuad: (quad: RDF.Quad) => void): Promise<void> {
  for (const [index, file] of files.entries()) {
    const mediaType = MEDIA_TYPE_BY_EXTENSION[extname(file).toLowerCase()];
    if (!mediaType) {
      throw new CliError(`${file}: unknown RDF file extension`, "use .ttl, .trig, .nt, .nq or .jsonld");
    }
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new CliError(
        `cannot read ${file}: ${(error as Error).message}`,
        "check `graphs[].files` in kgen.config.json",
      );
    }
    try {
      await parseRdfStream(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), mediaType, (quad) =>
        onQuad(scopedBlankNodes(index, quad)),
      );
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`${file}: ${(error as Error).message}`, "fix the RDF file");
    }
  }
}

/** Loads the graph's files, merged, as one version through the platform's upload path. */
async function loadGraph(db: ReturnType<typeof nodeSqlDatabase>, graph: OfflineInputs["graph"]): Promise<void> {
  const store = new QuadStore(db);
  const upload = store.beginUpload(graph.name);
  try {
    await forEachGraphQuad(graph.files, (quad) => upload.add(quad));
    await upload.seal();
    upload.commit({ createdAt: OFFLINE_VERSION_CREATED_AT });
  } finally {
    upload.close();
  }
}

/**
 * One generator over one graph with the platform's own services: the graph is stored and hashed by
 * the quad store, the lock computed as a job's is, and the plan rendered by JobService.
 */
export async function runOffline(inputs: OfflineInputs): Promise<OfflineRun> {
  const db = nodeSqlDatabase();
  try {
    applySchemaMigrations(db, TENANT_SCHEMA);
    await loadGraph(db, inputs.graph);
    const stored = new GraphService(db).latest(inputs.graph.name);
    if (!stored.hash) throw new CliError(`graph ${inputs.graph.name} has no canonical hash`, "check its files");
    const pinned = inputs.pinned?.hash === stored.hash ? inputs.pinned : undefined;
    // The one stored version holds the triples of whichever version the lock names.
    const graphs = new GraphService(db, { storedVersion: () => stored.version });
    const templates = await readGeneratorTemplates(inputs.generator.folder);
    const lock = await computeLock({
      graph: { name: inputs.graph.name, version: pinned?.version ?? stored.version, hash: stored.hash },
      generator: { name: inputs.generator.name, templates: templates.map(({ path, hash }) => ({ path, hash })) },
      params: inputs.params,
      engineVersion: ENGINE_VERSION,
      buildTime: pinned?.buildTime ?? deriveBuildTime({ graphVersionCreatedAt: stored.createdAt }),
    });
    const rendered = await new JobService(graphs).renderAll({
      lock,
      params: inputs.params,
      templates,
      limits: QUERY_LIMITS,
      maxArtifacts: MAX_ARTIFACTS,
    });
    return { lock, artifacts: rendered.artifacts, skipped: rendered.skipped };
  } finally {
    db.close();
  }
}

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * The graph's files, absolute: plain paths as given, glob patterns expanded relative to the project
 * and sorted (so the merge order never depends on the file system). A pattern matching nothing is an error.
 */
export function graphFiles(root: string, files: readonly string[]): string[] {
  return files.flatMap((file) => {
    if (!GLOB_CHARACTERS.test(file)) return [resolve(root, file)];
    const matches = globSync(file, { cwd: root }).sort();
    if (matches.length === 0) {
      throw new CliError(`no file matches ${file}`, "check `graphs[].files` in kgen.config.json");
    }
    return matches.map((match) => resolve(root, match));
  });
}
