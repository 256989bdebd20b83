import { asc, eq } from "drizzle-orm";
import { encryptedSecretSchema } from "../../shared/crypto/secret-box";
import type { TenantSigningKey } from "../../shared/crypto/tenant-keys";
import type { Database } from "../db/client";
import { auditLog, type SigningKeyRow, signingKeys } from "../db/schema";

export function signingKeyRow(tenantId: string, key: TenantSigningKey): SigningKeyRow {
  return {
    tenantId,
    kid: key.kid,
    status: key.status,
    publicJwk: key.publicJwk as Record<string, unknown>,
    encryptedPrivateKey: JSON.stringify(key.encryptedPrivateJwk),
    createdAt: key.createdAt,
    retiredAt: key.retiredAt ?? null,
  };
}

function fromRow(row: SigningKeyRow): TenantSigningKey {
  return {
    kid: row.kid,
    status: row.status,
    createdAt: row.createdAt,
    ...(row.retiredAt ? { retiredAt: row.retiredAt } : {}),
    publicJwk: row.publicJwk as TenantSigningKey["publicJwk"],
    encryptedPrivateJwk: encryptedSecretSchema.parse(JSON.parse(row.encryptedPrivateKey)),
  };
}

/** The keys of allQuery's rows. */
export const signingKeysOf = (rows: SigningKeyRow[]): TenantSigningKey[] => rows.map(fromRow);

/** A tenant's provenance signing keys. */
export class SigningKeyRing {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async all(): Promise<TenantSigningKey[]> {
    return signingKeysOf(await this.allQuery().all());
  }

  /** The query of all, to send in one batch with others (one round trip); `signingKeysOf` reads its rows. */
  allQuery() {
    return this.db
      .select()
      .from(signingKeys)
      .where(eq(signingKeys.tenantId, this.tenantId))
      .orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
  }

  /** Replaces the ring after a rotation: retired keys updated, the new key inserted, in one batch. */
  async saveRotation(keys: TenantSigningKey[], actor: string, requestId: string, now: string): Promise<void> {
    const [first, ...rest] = keys.map((key) =>
      this.db
        .insert(signingKeys)
        .values(signingKeyRow(this.tenantId, key))
        .onConflictDoUpdate({
          target: [signingKeys.tenantId, signingKeys.kid],
          set: { status: key.status, retiredAt: key.retiredAt ?? null },
        }),
    );
    if (!first) return;
    const active = keys.find((key) => key.status === "active");
    await this.db.batch([
      first,
      ...rest,
      this.db.insert(auditLog).values({
        tenantId: this.tenantId,
        actor,
        action: "signing-key.rotate",
        target: active?.kid ?? null,
        requestId,
        createdAt: now,
      }),
    ]);
  }
}
