import type { TriggerVerifyScheme } from "../../shared/contracts/triggers";
import { bytesToBase64Url } from "../../shared/core/encoding";
import { decryptSecret, encryptedSecretSchema, encryptSecret } from "../../shared/crypto/secret-box";
import { generateWebhookSecret } from "../../shared/crypto/webhook-signature";
import { masterSecret } from "../auth/config";

/** Master secret version new trigger secrets are sealed under (as signing keys are). */
const KEY_VERSION = 1;

const purposeOf = (triggerId: string) => `trigger-secret:${triggerId}`;

/** A new signing secret: 32 random bytes, base64url for GitHub (pasted into its form), `whsec_…` otherwise. */
export function newTriggerSecret(verify: TriggerVerifyScheme): string {
  if (verify === "standard-webhooks") return generateWebhookSecret();
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The secret sealed under the tenant's key, bound to this trigger: the text stored in D1. */
export async function sealTriggerSecret(
  env: Env,
  tenantId: string,
  triggerId: string,
  secret: string,
): Promise<string> {
  const sealed = await encryptSecret(secret, {
    masterSecret: masterSecret(env),
    keyVersion: KEY_VERSION,
    tenantId,
    purpose: purposeOf(triggerId),
  });
  return JSON.stringify(sealed);
}

export async function openTriggerSecret(
  env: Env,
  tenantId: string,
  triggerId: string,
  stored: string,
): Promise<string> {
  const plain = await decryptSecret(encryptedSecretSchema.parse(JSON.parse(stored)), {
    masterSecrets: masterSecret(env),
    tenantId,
    purpose: purposeOf(triggerId),
  });
  return new TextDecoder().decode(plain);
}
