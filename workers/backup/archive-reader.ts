import { Unzip, UnzipInflate, UnzipPassThrough } from "fflate";
import { assertJsonTextDepth } from "../../shared/core/json-nesting";
import { sha256Hex } from "../../shared/core/sha256";
import { HttpError } from "../problems/http-error";
import { type ArchiveManifest, archiveManifestSchema, MANIFEST_ENTRY, MAX_ARCHIVE_ENTRIES } from "./tenant-archive";

export const invalidArchive = (detail: string) => new HttpError(422, "invalid-archive", "Invalid archive", detail);

const archiveTooLarge = (detail: string) => new HttpError(413, "archive-too-large", "Archive too large", detail);

/** Bytes of the zip handed to the unpacker at a time (a few hundred tiny entries at most). */
const PUSH_BYTES = 16 * 1024;

export interface ArchiveLimits {
  /** Largest unpacked entry. */
  maxEntryBytes: number;
  /** Largest sum of unpacked entries. */
  maxTotalBytes: number;
}

/** A verified archive: its manifest, and every entry it names, unpacked and matching its sha256 and size. */
export interface VerifiedArchive {
  manifest: ArchiveManifest;
  entries: Map<string, Uint8Array>;
}

/**
 * Unpacks a zip within limits counted on the inflated bytes themselves (a zip's declared sizes can lie):
 * an entry or a total over its limit stops the inflation there, so a zip bomb costs at most the limit.
 */
function unpack(zip: Uint8Array, limits: ArchiveLimits): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  let total = 0;
  let problem: HttpError | null = null;
  const unzip = new Unzip((file) => {
    if (problem) return;
    if (entries.size >= MAX_ARCHIVE_ENTRIES) {
      problem = archiveTooLarge(`An archive holds at most ${MAX_ARCHIVE_ENTRIES} entries.`);
      return;
    }
    if (entries.has(file.name)) {
      problem = invalidArchive(`The archive holds ${JSON.stringify(file.name)} twice.`);
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    file.ondata = (error, data, final) => {
      if (problem) return;
      if (error) {
        problem = invalidArchive(`Entry ${JSON.stringify(file.name)} is not a valid deflate stream.`);
        return;
      }
      size += data.byteLength;
      total += data.byteLength;
      if (size > limits.maxEntryBytes) {
        problem = archiveTooLarge(
          `Entry ${JSON.stringify(file.name)} unpacks to more than ${limits.maxEntryBytes} bytes.`,
        );
        file.terminate();
        return;
      }
      if (total > limits.maxTotalBytes) {
        problem = archiveTooLarge(`The archive unpacks to more than ${limits.maxTotalBytes} bytes.`);
        file.terminate();
        return;
      }
      chunks.push(data);
      if (final) {
        const bytes = new Uint8Array(size);
        let offset = 0;
        for (const chunk of chunks) {
          bytes.set(chunk, offset);
          offset += chunk.byteLength;
        }
        entries.set(file.name, bytes);
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  try {
    // In pieces: fflate's streaming unzip recurses once per entry it finds complete within one push.
    for (let offset = 0; offset < zip.byteLength && !problem; offset += PUSH_BYTES) {
      unzip.push(zip.subarray(offset, offset + PUSH_BYTES), offset + PUSH_BYTES >= zip.byteLength);
    }
    if (zip.byteLength === 0) unzip.push(zip, true);
  } catch (error) {
    if (problem) throw problem;
    throw invalidArchive(`The body is not a readable zip archive (${(error as Error).message}).`);
  }
  if (problem) throw problem;
  return entries;
}

/**
 * The archive's manifest and entries, checked before anything is restored: a known format version, every
 * entry the manifest names present with its sha256 and size, no entry it does not name.
 */
export async function readArchive(zip: Uint8Array, limits: ArchiveLimits): Promise<VerifiedArchive> {
  const entries = unpack(zip, limits);
  const manifestBytes = entries.get(MANIFEST_ENTRY);
  if (!manifestBytes) throw invalidArchive(`The archive has no ${MANIFEST_ENTRY}.`);
  let document: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(manifestBytes);
    assertJsonTextDepth(text, MANIFEST_ENTRY);
    document = JSON.parse(text);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw invalidArchive(`${MANIFEST_ENTRY} is not UTF-8 JSON.`);
  }
  const parsed = archiveManifestSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArchive(
      `${MANIFEST_ENTRY} is not a tenant archive manifest of a supported version (${issue?.path.join(".") || "document"}: ${issue?.message}).`,
    );
  }
  const manifest = parsed.data;
  const named = new Set<string>([MANIFEST_ENTRY]);
  for (const entry of manifest.entries) {
    if (named.has(entry.name)) throw invalidArchive(`${MANIFEST_ENTRY} names ${JSON.stringify(entry.name)} twice.`);
    named.add(entry.name);
    const bytes = entries.get(entry.name);
    if (!bytes) throw invalidArchive(`Entry ${JSON.stringify(entry.name)} is missing.`);
    if (bytes.byteLength !== entry.size || (await sha256Hex(bytes)) !== entry.sha256) {
      throw invalidArchive(`Entry ${JSON.stringify(entry.name)} does not match its sha256 in ${MANIFEST_ENTRY}.`);
    }
  }
  for (const name of entries.keys()) {
    if (!named.has(name)) throw invalidArchive(`Entry ${JSON.stringify(name)} is not named in ${MANIFEST_ENTRY}.`);
  }
  const referenced = [
    ...manifest.graphs.map((graph) => graph.entry),
    ...manifest.templates.map((template) => template.entry),
    ...manifest.generators.map((generator) => generator.entry),
  ];
  for (const name of referenced) {
    if (!named.has(name))
      throw invalidArchive(`${MANIFEST_ENTRY} refers to ${JSON.stringify(name)}, which it does not list.`);
  }
  return { manifest, entries };
}
