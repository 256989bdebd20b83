import { createHash } from "node:crypto";
import type { IncrementalHashFactory } from "../../shared/crypto/incremental-sha256";

/** Node's native incremental SHA-256: the stand-in for workerd's DigestStream in tools and benches. */
export const nodeSha256: IncrementalHashFactory = () => {
  const hash = createHash("sha256");
  return {
    update: (data) => {
      hash.update(data);
    },
    digest: async () => new Uint8Array(hash.digest()),
  };
};
