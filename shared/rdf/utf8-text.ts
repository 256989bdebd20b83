import { InvalidUtf8Error } from "./errors";

/** Length of the sequence a lead byte starts (0 for a byte that cannot start one). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Offset of the first byte where `bytes` stops being well-formed UTF-8 (Unicode table 3-7: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or -1. A sequence cut off by the end counts as invalid.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = sequenceLength(lead);
    if (length === 0 || i + length > bytes.length) return i;
    const second = bytes[i + 1] as number;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k] as number;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/** Bytes at the end of `bytes` that begin a sequence the end cuts off (0 to 3). */
function incompleteTailLength(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}

/** The text of a whole body, or InvalidUtf8Error naming the first invalid byte. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InvalidUtf8Error(Math.max(0, invalidUtf8Offset(bytes)));
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.byteLength + b.byteLength);
  joined.set(a);
  joined.set(b, a.byteLength);
  return joined;
}

/**
 * Decodes a body piece by piece with the runtime's fatal decoder (no per-byte work of ours on valid input);
 * on invalid input, finds the offending byte offset from the piece that failed and the cut-off character
 * the decoder was holding from earlier pieces.
 */
export class Utf8StreamDecoder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  /** The bytes of a character the pieces so far cut off (what the decoder holds back), at most 3. */
  private pending: Uint8Array = new Uint8Array(0);
  private before = 0;

  decode(piece: Uint8Array): string {
    let text: string;
    try {
      text = this.decoder.decode(piece, { stream: true });
    } catch {
      const joined = concatBytes(this.pending, piece);
      throw new InvalidUtf8Error(this.before - this.pending.byteLength + Math.max(0, invalidUtf8Offset(joined)));
    }
    this.before += piece.byteLength;
    // A cut-off character is at most 3 bytes, all within the last 3 bytes seen.
    const last =
      piece.byteLength >= 3 ? piece.subarray(piece.byteLength - 3) : concatBytes(this.pending, piece).slice(-3);
    this.pending = last.slice(last.byteLength - incompleteTailLength(last));
    return text;
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      throw new InvalidUtf8Error(this.before - this.pending.byteLength);
    }
  }
}
