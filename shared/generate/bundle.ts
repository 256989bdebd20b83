import { type Zippable, zipSync } from "fflate";
import type { Lock } from "../contracts/lock";
import type { DsseEnvelope } from "./attestation";
import { canonicalJson, sha256Hex } from "./canonical-json";
import { serializeLock } from "./lock";
import { normalizeOutputPath } from "./paths";

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
 * comments, and deflate at a fixed level. The bytes are stable for a given fflate version;
 * `level: 0` (stored) makes them independent of the compressor as well.
 */
export interface BundleArtifact {
  /** Normalized output path. */
  path: string;
  content: Uint8Array;
  /** `write` (default) for a whole file, else the patch mode. */
  mode?: string;
  /** Unix permission bits from `chmod:` (≤ 0o777); default 0o644. */
  unixMode?: number;
  attestation?: DsseEnvelope;
}

export interface BundleInput {
  lock: Lock;
  artifacts: readonly BundleArtifact[];
}

export interface BundleOptions {
  /** Deflate level 0–9; default 6. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

export interface BundleManifestEntry {
  path: string;
  mode: string;
  sha256: string;
  size: number;
  entry: string;
  attestation: string | null;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

export const BUNDLE_LOCK_ENTRY = "kgen.lock.json";
export const BUNDLE_MANIFEST_ENTRY = "manifest.json";
const PATCH_MODE = /^[a-z][A-Za-z]*$/;

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

interface PlannedEntry {
  artifact: BundleArtifact;
  row: BundleManifestEntry;
}

async function planEntries(artifacts: readonly BundleArtifact[]): Promise<PlannedEntry[]> {
  const hashed = await Promise.all(
    artifacts.map(async (artifact) => ({
      artifact,
      path: normalizeOutputPath(artifact.path),
      mode: artifact.mode ?? "write",
      sha256: await sha256Hex(artifact.content),
    })),
  );
  hashed.sort(
    (a, b) =>
      compare(a.path, b.path) ||
      compare(a.mode, b.mode) ||
      compare(a.sha256, b.sha256) ||
      compare(a.artifact.attestation?.payload ?? "", b.artifact.attestation?.payload ?? ""),
  );
  const written = new Set<string>();
  const patchCounts = new Map<string, number>();
  return hashed.map(({ artifact, path, mode, sha256 }) => {
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
    const attestation = artifact.attestation ? `attestations/${entry}.intoto.json` : null;
    return { artifact, row: { path, mode, sha256, size: artifact.content.length, entry, attestation } };
  });
}

/** The manifest.json rows of a bundle, in bundle order. */
export async function buildBundleManifest(artifacts: readonly BundleArtifact[]): Promise<BundleManifestEntry[]> {
  return (await planEntries(artifacts)).map(({ row }) => row);
}

/** The zip bytes of a job bundle (see the layout above). */
export async function buildBundle(input: BundleInput, options: BundleOptions = {}): Promise<Uint8Array> {
  const level = options.level ?? 6;
  const encoder = new TextEncoder();
  const planned = await planEntries(input.artifacts);
  const entries = new Map<string, { data: Uint8Array; unixMode: number }>();
  const add = (name: string, data: Uint8Array, unixMode = 0o644) => {
    if (entries.has(name)) throw new BundleError(`duplicate bundle entry ${JSON.stringify(name)}`);
    entries.set(name, { data, unixMode });
  };
  add(BUNDLE_LOCK_ENTRY, encoder.encode(`${serializeLock(input.lock)}\n`));
  add(BUNDLE_MANIFEST_ENTRY, encoder.encode(`${canonicalJson({ artifacts: planned.map(({ row }) => row) })}\n`));
  for (const { artifact, row } of planned) {
    const unixMode = artifact.unixMode ?? 0o644;
    if (!Number.isInteger(unixMode) || unixMode < 0 || unixMode > 0o777) {
      throw new BundleError(`invalid unix mode for ${JSON.stringify(row.path)}`);
    }
    add(row.entry, artifact.content, unixMode);
    if (artifact.attestation && row.attestation) {
      add(row.attestation, encoder.encode(`${canonicalJson(artifact.attestation)}\n`));
    }
  }

  const mtime = dosEpoch();
  const zippable: Zippable = {};
  for (const name of [...entries.keys()].sort(compare)) {
    const { data, unixMode } = entries.get(name) as { data: Uint8Array; unixMode: number };
    // os 3 = Unix, so the permission bits in the high half of attrs are honoured (regular file 0o100000).
    zippable[name] = [data, { level, mtime, os: 3, attrs: ((0o100000 | unixMode) << 16) >>> 0 }];
  }
  return zipSync(zippable);
}
