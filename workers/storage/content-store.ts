import { sha256Hex } from "../../shared/core/sha256";

/** R2 key of a tenant's content-addressed blob. */
export function contentKey(tenantId: string, sha256: string): string {
  return `t/${tenantId}/sha256/${sha256}`;
}

export interface StoredContent {
  sha256: string;
  key: string;
  size: number;
}

/**
 * Content-addressed blobs in R2, one namespace per tenant: the same bytes always land at the same
 * key, so a blob is stored once however often it is written. Template sources and uploads are one blob
 * each; generated artifacts are stored in packs (see ArtifactWriter) and read with getRange.
 */
export class ContentStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly tenantId: string,
  ) {}

  async put(bytes: Uint8Array<ArrayBuffer>, contentType: string): Promise<StoredContent> {
    const sha256 = await sha256Hex(bytes);
    const key = contentKey(this.tenantId, sha256);
    // Content-addressed: writing the same key again stores the same bytes, so no existence check first.
    await this.bucket.put(key, bytes, { httpMetadata: { contentType }, sha256 });
    return { sha256, key, size: bytes.byteLength };
  }

  async get(sha256: string): Promise<R2ObjectBody | null> {
    return this.bucket.get(contentKey(this.tenantId, sha256));
  }

  /** `length` bytes of a blob from `offset` (an artifact inside a pack). */
  async getRange(sha256: string, offset: number, length: number): Promise<R2ObjectBody | null> {
    return this.bucket.get(contentKey(this.tenantId, sha256), { range: { offset, length } });
  }

  async text(sha256: string): Promise<string | null> {
    const object = await this.get(sha256);
    return object ? object.text() : null;
  }

  /** Removes every blob of the tenant (tenant deletion). */
  async deleteAll(): Promise<number> {
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const listing = await this.bucket.list({ prefix: `t/${this.tenantId}/`, cursor, limit: 1000 });
      if (listing.objects.length > 0) {
        await this.bucket.delete(listing.objects.map((o) => o.key));
        deleted += listing.objects.length;
      }
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor);
    return deleted;
  }
}
