import { createHash } from "node:crypto";
import { crc32, inflateRawSync } from "node:zlib";
import { unzipSync } from "fflate";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, type Signer, signerFromPrivateJwk } from "../../../shared/crypto/ed25519";
import { attestArtifact } from "../../../shared/generate/attestation";
import {
  BundleError,
  type BundleInput,
  buildBundle,
  buildBundleManifest,
  planBundle,
  streamBundle,
} from "../../../shared/generate/bundle";
import { computeLock, type Lock, serializeLock } from "../../../shared/generate/lock";

const H = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");
const enc = (text: string) => new TextEncoder().encode(text);

let lock: Lock;
let signer: Signer;
let input: BundleInput;

beforeAll(async () => {
  lock = await computeLock({
    graph: { name: "shop", version: 2, hash: H("g") },
    generator: { name: "ts", templates: { "a.njk": H("a") } },
    params: {},
    engineVersion: "kgen-edge/0.1.0",
    buildTime: "2026-11-20T10:00:00Z",
  });
  signer = await signerFromPrivateJwk((await generateSigningKey()).privateJwk);
  const attest = (path: string, content: Uint8Array, mode: string) =>
    attestArtifact(
      {
        path,
        sha256: H(content),
        predicate: {
          graph: lock.graph,
          template: { path: "a.njk", hash: H("a") },
          paramsHash: lock.paramsHash,
          engineVersion: lock.engineVersion,
          buildTime: lock.buildTime,
          mode,
          dependencies: [],
        },
      },
      signer,
    );
  const files: Array<[string, string, string, number?]> = [
    ["src/b.ts", "export const b = 1;\n", "write"],
    ["bin/run.sh", "#!/bin/sh\necho hi\n", "write", 0o755],
    ["src/index.ts", "export * from './b';\n", "append"],
    ["src/index.ts", "export * from './a';\n", "append"],
    ["README.md", "# Shop\n", "write"],
  ];
  input = {
    lock,
    artifacts: await Promise.all(
      files.map(async ([path, text, mode, unixMode]) => ({
        path,
        content: enc(text),
        mode,
        unixMode,
        attestation: await attest(path, enc(text), mode),
      })),
    ),
  };
});

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz;
});

describe("buildBundle", () => {
  it("holds the lock, a manifest, artifacts, patches and attestations under sorted names", async () => {
    const files = unzipSync(await buildBundle(input));
    expect(Object.keys(files)).toEqual([
      "artifacts/README.md",
      "artifacts/bin/run.sh",
      "artifacts/src/b.ts",
      "attestations/artifacts/README.md.intoto.json",
      "attestations/artifacts/bin/run.sh.intoto.json",
      "attestations/artifacts/src/b.ts.intoto.json",
      "attestations/patches/src/index.ts/1.append.intoto.json",
      "attestations/patches/src/index.ts/2.append.intoto.json",
      "kgen.lock.json",
      "manifest.json",
      "patches/src/index.ts/1.append",
      "patches/src/index.ts/2.append",
    ]);
    const text = (name: string) => new TextDecoder().decode(files[name]);
    expect(text("kgen.lock.json")).toBe(`${serializeLock(lock)}\n`);
    expect(text("artifacts/bin/run.sh")).toBe("#!/bin/sh\necho hi\n");
    // Patches are numbered in sha256 order, independent of input order.
    const [first, second] = [H("export * from './a';\n"), H("export * from './b';\n")].sort();
    expect(H(files["patches/src/index.ts/1.append"] as Uint8Array)).toBe(first);
    expect(H(files["patches/src/index.ts/2.append"] as Uint8Array)).toBe(second);
    const manifest = JSON.parse(text("manifest.json"));
    expect(manifest.artifacts).toHaveLength(5);
    expect(manifest.artifacts[0]).toEqual({
      path: "README.md",
      mode: "write",
      sha256: H("# Shop\n"),
      size: 7,
      entry: "artifacts/README.md",
      attestation: "attestations/artifacts/README.md.intoto.json",
    });
    const envelope = JSON.parse(text("attestations/artifacts/src/b.ts.intoto.json"));
    expect(envelope.signatures[0].keyid).toBe(signer.keyid);
  });

  it("is byte-identical for the same job, whatever the input order and time zone", async () => {
    const first = await buildBundle(input);
    const reversed = await buildBundle({ lock, artifacts: [...input.artifacts].reverse() });
    expect(H(reversed)).toBe(H(first));
    const offsets = new Set<number>();
    for (const tz of ["America/Los_Angeles", "Asia/Kathmandu", "Pacific/Kiritimati"]) {
      process.env.TZ = tz;
      offsets.add(new Date(1980, 0, 1).getTime());
      expect(H(await buildBundle(input)), tz).toBe(H(first));
    }
    // The time zone really changed between runs (otherwise this test proves nothing).
    expect(offsets.size).toBe(3);
    const stored = await buildBundle(input, { level: 0 });
    expect(H(stored)).not.toBe(H(first));
    expect(Object.keys(unzipSync(stored))).toEqual(Object.keys(unzipSync(first)));
  });

  it("changes when any byte of any artifact changes", async () => {
    const changed = input.artifacts.map((artifact, i) =>
      i === 0 ? { ...artifact, content: enc("export const b = 2;\n") } : artifact,
    );
    expect(H(await buildBundle({ lock, artifacts: changed }))).not.toBe(H(await buildBundle(input)));
  });

  it("writes fixed DOS times and Unix modes into every header", async () => {
    const zip = await buildBundle(input);
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let offset = view.getUint32(zip.length - 6, true); // start of the central directory
    const seen: Record<string, number> = {};
    while (view.getUint32(offset, true) === 0x02014b50) {
      expect(view.getUint8(offset + 5)).toBe(3); // made by Unix
      expect(view.getUint16(offset + 12, true)).toBe(0); // 00:00:00
      expect(view.getUint16(offset + 14, true)).toBe(0x21); // 1980-01-01
      const nameLength = view.getUint16(offset + 28, true);
      const extraLength = view.getUint16(offset + 30, true);
      const commentLength = view.getUint16(offset + 32, true);
      expect(extraLength).toBe(0);
      const name = new TextDecoder().decode(zip.subarray(offset + 46, offset + 46 + nameLength));
      seen[name] = view.getUint32(offset + 38, true) >>> 16;
      offset += 46 + nameLength + extraLength + commentLength;
    }
    expect(Object.keys(seen)).toHaveLength(12);
    expect(seen["artifacts/bin/run.sh"]).toBe(0o100755);
    expect(seen["artifacts/README.md"]).toBe(0o100644);
  });

  it("refuses unsafe paths, duplicate whole files and bad modes", async () => {
    const one = input.artifacts[0] as (typeof input.artifacts)[0];
    await expect(buildBundle({ lock, artifacts: [{ ...one, path: "../x" }] })).rejects.toThrow(/'\.\.'/);
    await expect(buildBundle({ lock, artifacts: [one, { ...one, content: enc("y") }] })).rejects.toBeInstanceOf(
      BundleError,
    );
    await expect(buildBundle({ lock, artifacts: [{ ...one, mode: "../x" }] })).rejects.toThrow(/invalid artifact mode/);
    await expect(buildBundle({ lock, artifacts: [{ ...one, unixMode: 0o4755 }] })).rejects.toThrow(/unix mode/);
    expect((await buildBundleManifest([{ path: "./a", content: enc("") }]))[0]?.entry).toBe("artifacts/a");
  });
});

/** A zip reader independent of fflate: central directory + node:zlib inflateRaw + crc32. */
function readZipIndependently(zip: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  expect(view.getUint32(eocd, true)).toBe(0x06054b50);
  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(offset, true)).toBe(0x02014b50);
    const method = view.getUint16(offset + 10, true);
    const crc = view.getUint32(offset + 16, true);
    const compressedSize = view.getUint32(offset + 20, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const local = view.getUint32(offset + 42, true);
    const name = new TextDecoder().decode(zip.subarray(offset + 46, offset + 46 + nameLength));
    expect(view.getUint32(local, true)).toBe(0x04034b50);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = zip.subarray(dataStart, dataStart + compressedSize);
    const data = method === 0 ? raw : new Uint8Array(inflateRawSync(raw));
    expect(crc32(data) >>> 0, name).toBe(crc);
    files.set(name, data);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

describe("streamBundle", () => {
  it("writes zips an independent reader accepts, stored and deflated", async () => {
    for (const level of [0, 6] as const) {
      const files = readZipIndependently(await buildBundle(input, { level }));
      expect(files.size).toBe(12);
      expect(new TextDecoder().decode(files.get("artifacts/src/b.ts"))).toBe("export const b = 1;\n");
      expect(new TextDecoder().decode(files.get("kgen.lock.json"))).toBe(`${serializeLock(lock)}\n`);
    }
  });

  it("streams from lazy readers with the same bytes as buildBundle, reading as it goes", async () => {
    const artifacts = Array.from({ length: 60 }, (_, i) => ({
      path: `gen/file-${String(i).padStart(3, "0")}.txt`,
      content: enc(`line ${i}\n`.repeat(50)),
    }));
    const metas = await Promise.all(
      artifacts.map(async (artifact) => ({
        path: artifact.path,
        sha256: H(artifact.content),
        size: artifact.content.length,
        hasAttestation: false,
      })),
    );
    const rows = planBundle(metas);
    let reads = 0;
    const stream = streamBundle({
      lock,
      rows,
      readArtifact: async (row) => {
        reads++;
        return (artifacts[row.index] as (typeof artifacts)[0]).content;
      },
      readAttestation: async () => {
        throw new Error("no attestations here");
      },
    });
    const reader = stream.getReader();
    const parts: Uint8Array[] = [];
    const first = await reader.read();
    parts.push(first.value as Uint8Array);
    expect(reads).toBeLessThan(5);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    expect(reads).toBe(60);
    const streamed = Buffer.concat(parts);
    expect(H(streamed)).toBe(H(await buildBundle({ lock, artifacts })));
    expect(readZipIndependently(new Uint8Array(streamed)).size).toBe(62);
  });

  it("refuses content that does not match the planned sha256", async () => {
    const rows = planBundle([{ path: "a.txt", sha256: H("a"), size: 1, hasAttestation: false }]);
    const stream = streamBundle({
      lock,
      rows,
      readArtifact: async () => enc("b"),
      readAttestation: async () => {
        throw new Error("unused");
      },
    });
    await expect(new Response(stream).arrayBuffer()).rejects.toThrow(/does not match its sha256/);
  });
});
