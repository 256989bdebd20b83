import { decryptSecret, encryptedSecretSchema, encryptSecret } from "../../shared/crypto/secret-box";
import { masterSecret } from "../auth/config";

/** Master secret version new manifest headers are sealed under (as trigger secrets are). */
const KEY_VERSION = 1;

const purposeOf = (monitorId: string) => `monitor-headers:${monitorId}`;

/** A monitor's manifest request headers (they often carry a token) sealed under the tenant's key, bound to the monitor. */
export async function sealManifestHeaders(
  env: Env,
  tenantId: string,
  monitorId: string,
  headers: Record<string, string>,
): Promise<string> {
  const sealed = await encryptSecret(JSON.stringify(headers), {
    masterSecret: masterSecret(env),
    keyVersion: KEY_VERSION,
    tenantId,
    purpose: purposeOf(monitorId),
  });
  return JSON.stringify(sealed);
}

export async function openManifestHeaders(
  env: Env,
  tenantId: string,
  monitorId: string,
  stored: string | null,
): Promise<Record<string, string>> {
  if (stored === null) return {};
  const plain = await decryptSecret(encryptedSecretSchema.parse(JSON.parse(stored)), {
    masterSecrets: masterSecret(env),
    tenantId,
    purpose: purposeOf(monitorId),
  });
  return JSON.parse(new TextDecoder().decode(plain)) as Record<string, string>;
}
