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

  /**
   * Deletes up to `limit` (at most 1000, R2's page) of the tenant's blobs and returns how many: tenant
   * erasure calls it until it returns 0. It always lists from the start of the tenant's keys, so a
   * repeated call after a crash, or a blob written during the erasure, is never skipped.
   */
  async erasePage(limit = 1000): Promise<number> {
    const listing = await this.bucket.list({ prefix: `t/${this.tenantId}/`, limit });
    if (listing.objects.length === 0) return 0;
    await this.bucket.delete(listing.objects.map((o) => o.key));
    return listing.objects.length;
  }
}
