import { bytesToBase64Url } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";

export const API_KEY_PREFIX = "kgen_";
/** How many characters of the key stay visible in listings (prefix included). */
const VISIBLE_LENGTH = 12;

export interface NewApiKeySecret {
  /** The full key, shown to the user once and never stored. */
  secret: string;
  /** A recognisable start of the key, safe to display. */
  prefix: string;
  /** SHA-256 of the full key: the only form the key is stored in. */
  hash: string;
}

export async function generateApiKeySecret(): Promise<NewApiKeySecret> {
  const secret = API_KEY_PREFIX + bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  return { secret, prefix: secret.slice(0, VISIBLE_LENGTH), hash: await hashApiKeySecret(secret) };
}

export function hashApiKeySecret(secret: string): Promise<string> {
  return sha256Hex(secret);
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}
