/**
 * A bounded in-memory map whose entries expire `ttlMs` after they were stored. The clock is the
 * caller's (`nowMs` on every call), so expiry can be tested without waiting.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; storedAtMs: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The value and when it was stored, unless missing or expired at `nowMs`. */
  get(key: string, nowMs: number): { value: V; storedAtMs: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (nowMs - entry.storedAtMs >= this.ttlMs || nowMs < entry.storedAtMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, value: V, nowMs: number): void {
    this.entries.delete(key);
    // Maps iterate in insertion order: the first key is the oldest entry.
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, storedAtMs: nowMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches. */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}
