/**
 * SQLite compares blobs (and text, with its BINARY collation) byte by byte over UTF-8, while canonical
 * N-Quads are ordered by UTF-16 code units. The two orders differ in one place only: UTF-8 puts U+E000–U+FFFF
 * (lead bytes 0xEE, 0xEF) below the supplementary characters (lead bytes 0xF0–0xF4), UTF-16 puts them above
 * (surrogates 0xD800–0xDFFF come first). Moving those two lead bytes to 0xFD and 0xFE, which UTF-8 never
 * uses, makes byte order equal code-unit order, and the mapping is undone byte for byte.
 */

/** Whether a string's UTF-8 bytes already sort as its code units (no character at or above U+D800). */
export function sortsAsUtf8(text: string): boolean {
  return !/[\uD800-\uFFFF]/.test(text);
}

const encoder = new TextEncoder();

/** The code-unit order key of a string as hex (SQLite `unhex` turns it into the blob). */
export function codeUnitOrderKeyHex(text: string): string {
  const bytes = encoder.encode(text);
  let hex = "";
  for (const byte of bytes) {
    const key = byte === 0xee ? 0xfd : byte === 0xef ? 0xfe : byte;
    hex += key.toString(16).padStart(2, "0");
  }
  return hex;
}

/** Turns order-key bytes back into the UTF-8 bytes they came from, in place. */
export function utf8FromCodeUnitOrderKey(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    const byte = key[i] as number;
    if (byte === 0xfd) key[i] = 0xee;
    else if (byte === 0xfe) key[i] = 0xef;
  }
  return key;
}
