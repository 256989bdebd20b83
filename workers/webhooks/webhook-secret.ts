import { utf8 } from "../../shared/core/encoding";
import { decryptSecret, type EncryptedSecret, encryptSecret } from "../../shared/crypto/secret-box";
import { generateWebhookSecret } from "../../shared/crypto/webhook-signature";
import { masterSecret } from "../auth/config";

/** Master secret version webhook secrets are sealed under (as the tenant signing keys are). */
const KEY_VERSION = 1;

/** The secret-box purpose of a webhook's secret: a box copied to another webhook does not open. */
const purposeOf = (webhookId: string) => `webhook-secret:${webhookId}`;

/** A new `whsec_…` secret and its box for storage; the plain secret is answered once and never stored. */
export async function newSealedWebhookSecret(
  env: Env,
  tenantId: string,
  webhookId: string,
): Promise<{ secret: string; sealed: EncryptedSecret }> {
  const secret = generateWebhookSecret();
  const sealed = await encryptSecret(utf8(secret), {
    masterSecret: masterSecret(env),
    keyVersion: KEY_VERSION,
    tenantId,
    purpose: purposeOf(webhookId),
  });
  return { secret, sealed };
}

export async function openWebhookSecret(
  env: Env,
  tenantId: string,
  webhookId: string,
  sealed: EncryptedSecret,
): Promise<string> {
  const bytes = await decryptSecret(sealed, {
    masterSecrets: masterSecret(env),
    tenantId,
    purpose: purposeOf(webhookId),
  });
  return new TextDecoder().decode(bytes);
}
