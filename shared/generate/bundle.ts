import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import type { Lock } from "../contracts/lock";
import { canonicalJson } from "../core/canonical-json";
import { sha256Hex } from "../core/sha256";
import { normalizeOutputPath } from "../template/output-path";
import type { DsseEnvelope } from "./attestation";
import { serializeLock } from "./lock";

/**
 * A deterministic zip of one job: the same artifacts, attestations and lock give the same bytes.
 *
 * Layout:
 *   kgen.lock.json                          the lock (canonical JSON + "\n")
 *   manifest.json                           every artifact: path, mode, sha256, size, entry names
 *   artifacts/<path>                        whole-file artifacts (mode "write")
 *   patches/<path>/<n>.<mode>               patch artifacts (inject/append/prepend/lineAt), n = 1, 2, …
 *   attestations/<entry>.intoto.json        DSSE envelope of each artifact that has one, e.g.
 *                                           attestations/artifacts/src/a.ts.intoto.json
 *
 * Determinism: entries sorted by name (UTF-16 code units), every mtime the DOS epoch
 * 1980-01-01 00:00:00, Unix permissions 0644 (or the artifact's chmod), no extra fields or
 * comments, each entry compressed in one piece at a fixed level. The bytes are stable for a
 * given fflate version; `level: 0` (stored) makes them independent of the compressor as well.
 *
 * The archive is produced as a stream (streamBundle), reading one artifact at a time, so a job
 * of any size is bundled in bounded memory; buildBundle collects the same stream in memory.
 */
export type BundleLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export interface BundleOptions {
  /** Deflate level 0–9; default 6. 0 stores entries uncompressed. */
  level?: BundleLevel;
}

/** What the bundle needs to know of an artifact up front (e.g. a row of the artifact index). */
export interface BundleArtifactMeta {
  /** Normalized output path. */
  path: string;
  /** `write` (default) for a whole file, else the patch mode. */
  mode?: string;
  sha256: string;
  size: number;
  /** Unix permission bits from `chmod:` (≤ 0o777); default 0o644. */
  unixMode?: number;
  hasAttestation: boolean;
  /** Tie-breakers for identical (path, mode, sha256) patches, e.g. template path and row index. */
  template?: string;
  rowIndex?: number | null;
}

export interface BundleManifestEntry {
  path: string;
  mode: string;
  sha256: string;
  size: number;
  entry: string;
  attestation: string | null;
}

/** A manifest row plus what it takes to write it. */
export interface BundleEntryPlan extends BundleManifestEntry {
  unixMode: number;
  /** Index of the artifact in the input list. */
  index: number;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

export const BUNDLE_LOCK_ENTRY = "kgen.lock.json";
export const BUNDLE_MANIFEST_ENTRY = "manifest.json";
/** The tenant's public signing keys (a JWK Set), so the bundle verifies offline with nothing else. */
export const BUNDLE_JWKS_ENTRY = "jwks.json";
const PATCH_MODE = /^[a-z][A-Za-z]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Local-time Date whose getters read 1980-01-01 00:00:00: fflate encodes DOS times from local
 * getters, so a UTC instant would give different bytes in different time zones.
 */
function dosEpoch(): Date {
  return new Date(1980, 0, 1, 0, 0, 0);
}

/** Sorts artifacts into bundle order and names their entries; the rows are manifest.json. */
export function planBundle(artifacts: readonly BundleArtifactMeta[]): BundleEntryPlan[] {
  const keyed = artifacts.map((artifact, index) => {
    const unixMode = artifact.unixMode ?? 0o644;
    if (!Number.isInteger(unixMode) || unixMode < 0 || unixMode > 0o777) {
      throw new BundleError(`invalid unix mode for ${JSON.stringify(artifact.path)}`);
    }
    if (!SHA256_HEX.test(artifact.sha256)) throw new BundleError(`invalid sha256 for ${JSON.stringify(artifact.path)}`);
    return { artifact, index, unixMode, path: normalizeOutputPath(artifact.path), mode: artifact.mode ?? "write" };
  });
  keyed.sort(
    (a, b) =>
      compare(a.path, b.path) ||
      compare(a.mode, b.mode) ||
      compare(a.artifact.sha256, b.artifact.sha256) ||
      compare(a.artifact.template ?? "", b.artifact.template ?? "") ||
      (a.artifact.rowIndex ?? -1) - (b.artifact.rowIndex ?? -1),
  );
  const written = new Set<string>();
  const patchCounts = new Map<string, number>();
  return keyed.map(({ artifact, index, unixMode, path, mode }) => {
    let entry: string;
    if (mode === "write") {
      if (written.has(path)) throw new BundleError(`two whole-file artifacts for ${JSON.stringify(path)}`);
      written.add(path);
      entry = `artifacts/${path}`;
    } else {
      if (!PATCH_MODE.test(mode)) throw new BundleError(`invalid artifact mode ${JSON.stringify(mode)}`);
      const n = (patchCounts.get(path) ?? 0) + 1;
      patchCounts.set(path, n);
      entry = `patches/${path}/${n}.${mode}`;
    }
    // Mirrors the entry name, so attestation names can never collide.
    const attestation = artifact.hasAttestation ? `attestations/${entry}.intoto.json` : null;
    return { path, mode, sha256: artifact.sha256, size: artifact.size, entry, attestation, unixMode, index };
  });
}

/** The manifest.json document for planned rows. */
export function bundleManifest(rows: readonly BundleEntryPlan[]): { artifacts: BundleManifestEntry[] } {
  return {
    artifacts: rows.map(({ path, mode, sha256, size, entry, attestation }) => ({
      path,
      mode,
      sha256,
      size,
      entry,
      attestation,
    })),
  };
}

export interface BundleSource {
  lock: Lock;
  /** Rows from planBundle. */
  rows: readonly BundleEntryPlan[];
  /** Bytes of a row's artifact; checked against the row's sha256 and size. */
  readArtifact(row: BundleEntryPlan): Promise<Uint8Array>;
  /** The envelope of a row whose attestation is not null. */
  readAttestation(row: BundleEntryPlan): Promise<DsseEnvelope>;
  /** The JWK Set that verifies the attestations, written as `jwks.json` when given. */
  jwks?: { keys: readonly unknown[] };
}

interface PendingEntry {
  name: string;
  unixMode: number;
  read: () => Promise<Uint8Array>;
}

/** The bundle as a byte stream, one entry read and compressed per pull. */
export function streamBundle(source: BundleSource, options: BundleOptions = {}): ReadableStream<Uint8Array> {
  const level = options.level ?? 6;
  const encoder = new TextEncoder();
  const pending: PendingEntry[] = [
    { name: BUNDLE_LOCK_ENTRY, unixMode: 0o644, read: async () => encoder.encode(`${serializeLock(source.lock)}\n`) },
    {
      name: BUNDLE_MANIFEST_ENTRY,
      unixMode: 0o644,
      read: async () => encoder.encode(`${canonicalJson(bundleManifest(source.rows))}\n`),
    },
  ];
  const jwks = source.jwks;
  if (jwks) {
    pending.push({
      name: BUNDLE_JWKS_ENTRY,
      unixMode: 0o644,
      read: async () => encoder.encode(`${canonicalJson(jwks)}\n`),
    });
  }
  for (const row of source.rows) {
    pending.push({
      name: row.entry,
      unixMode: row.unixMode,
      read: async () => {
        const bytes = await source.readArtifact(row);
        if (bytes.length !== row.size || (await sha256Hex(bytes)) !== row.sha256) {
          throw new BundleError(`content of ${JSON.stringify(row.entry)} does not match its sha256`);
        }
        return bytes;
      },
    });
    if (row.attestation !== null) {
      pending.push({
        name: row.attestation,
        unixMode: 0o644,
        read: async () => encoder.encode(`${canonicalJson(await source.readAttestation(row))}\n`),
      });
    }
  }
  pending.sort((a, b) => compare(a.name, b.name));
  for (let i = 1; i < pending.length; i++) {
    if (pending[i]?.name === pending[i - 1]?.name) {
      throw new BundleError(`duplicate bundle entry ${JSON.stringify(pending[i]?.name)}`);
    }
  }

  let next = 0;
  let zip: Zip;
  let failure: unknown = null;
  let finished = false;
  const chunks: Uint8Array[] = [];
  return new ReadableStream<Uint8Array>({
    start() {
      zip = new Zip((error, data, final) => {
        if (error) failure = error;
        else chunks.push(data);
        if (final) finished = true;
      });
    },
    async pull(controller) {
      if (next < pending.length) {
        const item = pending[next++] as PendingEntry;
        const data = await item.read();
        const file = level === 0 ? new ZipPassThrough(item.name) : new ZipDeflate(item.name, { level });
        file.mtime = dosEpoch();
        // os 3 = Unix, so the permission bits in the high half of attrs are honoured (regular file 0o100000).
        file.os = 3;
        file.attrs = ((0o100000 | item.unixMode) << 16) >>> 0;
        zip.add(file);
        // One push with final=true: the compressed bytes do not depend on how the data was chunked.
        file.push(data, true);
      } else {
        zip.end();
      }
      if (failure !== null) throw failure;
      for (const chunk of chunks.splice(0)) controller.enqueue(chunk);
      if (finished) controller.close();
    },
  });
}

/** An artifact held in memory. */
export interface BundleArtifact {
  path: string;
  content: Uint8Array;
  mode?: string;
  unixMode?: number;
  attestation?: DsseEnvelope;
  template?: string;
  rowIndex?: number | null;
}

export interface BundleInput {
  lock: Lock;
  artifacts: readonly BundleArtifact[];
  jwks?: { keys: readonly unknown[] };
}

async function metasOf(artifacts: readonly BundleArtifact[]): Promise<BundleArtifactMeta[]> {
  return Promise.all(
    artifacts.map(async (artifact) => ({
      path: artifact.path,
      mode: artifact.mode,
      sha256: await sha256Hex(artifact.content),
      size: artifact.content.length,
      unixMode: artifact.unixMode,
      hasAttestation: artifact.attestation !== undefined,
      template: artifact.template,
      rowIndex: artifact.rowIndex,
    })),
  );
}

/** The manifest rows of in-memory artifacts, in bundle order. */
export async function buildBundleManifest(artifacts: readonly BundleArtifact[]): Promise<BundleManifestEntry[]> {
  return bundleManifest(planBundle(await metasOf(artifacts))).artifacts;
}

/** The zip bytes of a job bundle held in memory (same bytes as streamBundle). */
export async function buildBundle(input: BundleInput, options: BundleOptions = {}): Promise<Uint8Array> {
  const rows = planBundle(await metasOf(input.artifacts));
  const artifactAt = (row: BundleEntryPlan) => input.artifacts[row.index] as BundleArtifact;
  const stream = streamBundle(
    {
      lock: input.lock,
      rows,
      readArtifact: async (row) => artifactAt(row).content,
      readAttestation: async (row) => artifactAt(row).attestation as DsseEnvelope,
      jwks: input.jwks,
    },
    options,
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
