import { sha256 } from "@noble/hashes/sha2.js";

/** A SHA-256 computed over data that arrives in pieces (Web Crypto's `digest` needs it all at once). */
export interface IncrementalHash {
  update(data: Uint8Array): void | Promise<void>;
  digest(): Promise<Uint8Array>;
}

export type IncrementalHashFactory = () => IncrementalHash;

interface DigestStreamLike extends WritableStream<Uint8Array> {
  readonly digest: Promise<ArrayBuffer>;
}
type DigestStreamConstructor = new (algorithm: string) => DigestStreamLike;

function digestStreamHash(DigestStream: DigestStreamConstructor): IncrementalHash {
  const stream = new DigestStream("SHA-256");
  const writer = stream.getWriter();
  return {
    update: (data) => writer.write(data),
    async digest() {
      await writer.close();
      return new Uint8Array(await stream.digest);
    },
  };
}

function nobleHash(): IncrementalHash {
  const state = sha256.create();
  return {
    update: (data) => {
      state.update(data);
    },
    digest: async () => state.digest(),
  };
}

/**
 * SHA-256 over streamed data: workerd's native `crypto.DigestStream` where it exists, else @noble/hashes
 * (pure JS, several times slower; tools in Node may pass node:crypto instead).
 */
export const incrementalSha256: IncrementalHashFactory = () => {
  const DigestStream = (globalThis as { crypto?: { DigestStream?: DigestStreamConstructor } }).crypto?.DigestStream;
  return DigestStream ? digestStreamHash(DigestStream) : nobleHash();
};
