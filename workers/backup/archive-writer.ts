import { Zip, ZipDeflate } from "fflate";
import { bytesToHex } from "../../shared/core/encoding";
import { incrementalSha256 } from "../../shared/crypto/incremental-sha256";
import type { ArchiveEntry } from "./tenant-archive";

/** One entry of a streamed archive: its name and its content, read only when its turn comes. */
export interface PendingArchiveEntry {
  name: string;
  open: () => Promise<ReadableStream<Uint8Array> | Uint8Array>;
}

/** Local-time 1980-01-01 00:00:00 (the DOS epoch), as the job bundle writes: entry times carry no information. */
const dosEpoch = () => new Date(1980, 0, 1, 0, 0, 0);

/**
 * A zip written as a stream: each pull reads at most one chunk of one entry, so memory stays bounded by
 * a chunk and the compressor's window whatever the archive's size. Every entry is hashed as it passes;
 * `last` receives those hashes and gives the final entry (the manifest).
 */
export function streamArchive(
  entries: readonly PendingArchiveEntry[],
  last: (written: ArchiveEntry[]) => { name: string; content: Uint8Array },
): ReadableStream<Uint8Array> {
  const written: ArchiveEntry[] = [];
  const output: Uint8Array[] = [];
  let failure: unknown = null;
  let finished = false;
  const zip = new Zip((error, data, final) => {
    if (error) failure = error;
    else output.push(data);
    if (final) finished = true;
  });
  const newFile = (name: string) => {
    const file = new ZipDeflate(name, { level: 6 });
    file.mtime = dosEpoch();
    file.os = 3;
    file.attrs = ((0o100000 | 0o644) << 16) >>> 0;
    zip.add(file);
    return file;
  };

  let next = 0;
  let current: {
    name: string;
    file: ZipDeflate;
    reader: ReadableStreamDefaultReader<Uint8Array>;
    hash: ReturnType<typeof incrementalSha256>;
    size: number;
  } | null = null;
  let closedWithLast = false;

  async function step(): Promise<void> {
    if (current) {
      const { done, value } = await current.reader.read();
      if (!done) {
        await current.hash.update(value);
        current.size += value.byteLength;
        current.file.push(value, false);
        return;
      }
      current.file.push(new Uint8Array(0), true);
      written.push({ name: current.name, sha256: bytesToHex(await current.hash.digest()), size: current.size });
      current = null;
      return;
    }
    if (next < entries.length) {
      const entry = entries[next++] as PendingArchiveEntry;
      const opened = await entry.open();
      const stream = opened instanceof Uint8Array ? new Response(opened).body : opened;
      current = {
        name: entry.name,
        file: newFile(entry.name),
        reader: (stream as ReadableStream<Uint8Array>).getReader(),
        hash: incrementalSha256(),
        size: 0,
      };
      return;
    }
    if (closedWithLast) throw new Error("the zip writer ended without its final chunk");
    closedWithLast = true;
    const final = last(written);
    newFile(final.name).push(final.content, true);
    zip.end();
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (output.length === 0 && !finished) {
        await step();
        if (failure !== null) throw failure;
      }
      for (const chunk of output.splice(0)) controller.enqueue(chunk);
      if (finished) controller.close();
    },
    async cancel() {
      await current?.reader.cancel();
    },
  });
}
