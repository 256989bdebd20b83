import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8 } from "./encoding";

/**
 * SHA-256 in two forms. `sha256Hex` uses WebCrypto (native, asynchronous): the form for content,
 * artifacts and anything large. `sha256HexSync` uses @noble/hashes: for the few places that must
 * hash inside a synchronous path, such as a template's cache key during a render.
 */

/** Lowercase hex SHA-256 of bytes, or of the UTF-8 encoding of a string. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return bytesToHex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** SHA-256 digest bytes, computed synchronously. */
export function sha256BytesSync(data: string | Uint8Array): Uint8Array {
  return sha256(typeof data === "string" ? utf8(data) : data);
}

/** Lowercase hex SHA-256, computed synchronously. */
export function sha256HexSync(data: string | Uint8Array): string {
  return bytesToHex(sha256BytesSync(data));
}
