import { base64ToBytes, bytesToBase64, bytesToHex, utf8 } from "../core/encoding";

/**
 * Webhook signatures, both directions:
 * - Standard Webhooks (https://www.standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256 of
 *   "{webhook-id}.{webhook-timestamp}.{body}">`, several space-separated while a secret rotates; the
 *   secret is `whsec_` + base64 of the key bytes.
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 * Comparisons run in constant time over the decoded MAC.
 */
export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** Seconds a Standard Webhooks timestamp may be away from now, either way. */
export const STANDARD_WEBHOOK_TOLERANCE_SECONDS = 300;

export class WebhookSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSecretError";
  }
}

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function webhookSecretBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new WebhookSecretError("a webhook secret starts with whsec_");
  const bytes = base64ToBytes(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  if (bytes.byteLength < 24 || bytes.byteLength > 64) {
    throw new WebhookSecretError("a webhook secret holds 24 to 64 bytes");
  }
  return bytes;
}

async function hmacSha256(key: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, message));
}

function standardContent(id: string, timestampSeconds: number, body: string): Uint8Array<ArrayBuffer> {
  return utf8(`${id}.${timestampSeconds}.${body}`);
}

/** The `webhook-signature` header value: one `v1,` signature per secret, space-separated. */
export async function signStandardWebhook(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const content = standardContent(id, timestampSeconds, body);
  const signatures: string[] = [];
  for (const secret of secrets) {
    signatures.push(`v1,${bytesToBase64(await hmacSha256(webhookSecretBytes(secret), content))}`);
  }
  return signatures.join(" ");
}

export type WebhookVerification = { ok: true } | { ok: false; reason: string };

/** Verifies Standard Webhooks headers against one secret (any of the listed signatures may match). */
export async function verifyStandardWebhook(
  secret: string,
  headers: { id: string | null; timestamp: string | null; signature: string | null },
  body: string,
  nowSeconds: number,
): Promise<WebhookVerification> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature" };
  if (!/^[0-9]{1,12}$/.test(timestamp)) return { ok: false, reason: "webhook-timestamp is not a Unix time in seconds" };
  if (Math.abs(nowSeconds - Number(timestamp)) > STANDARD_WEBHOOK_TOLERANCE_SECONDS) {
    return { ok: false, reason: "webhook-timestamp is too far from now" };
  }
  const expected = await hmacSha256(webhookSecretBytes(secret), standardContent(id, Number(timestamp), body));
  for (const part of signature.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version !== "v1" || value === undefined) continue;
    let candidate: Uint8Array;
    try {
      candidate = base64ToBytes(value);
    } catch {
      continue;
    }
    if (constantTimeEqual(candidate, expected)) return { ok: true };
  }
  return { ok: false, reason: "no signature matches" };
}

/** `X-Hub-Signature-256` as GitHub sends it: `sha256=` + hex HMAC-SHA256 of the raw body bytes. */
export async function signGithubWebhook(secret: string, body: Uint8Array<ArrayBuffer>): Promise<string> {
  return `sha256=${bytesToHex(await hmacSha256(utf8(secret), body))}`;
}

export async function verifyGithubWebhook(
  secret: string,
  header: string | null,
  body: Uint8Array<ArrayBuffer>,
): Promise<WebhookVerification> {
  if (!header) return { ok: false, reason: "missing X-Hub-Signature-256" };
  const expected = utf8(await signGithubWebhook(secret, body));
  return constantTimeEqual(utf8(header), expected) ? { ok: true } : { ok: false, reason: "no signature matches" };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let i = 0; i < a.byteLength; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}
