import { describe, expect, it } from "vitest";
import { InvalidUtf8Error } from "../../../shared/rdf/errors";
import { parseRdfStream } from "../../../shared/rdf/parse-stream";
import { decodeUtf8, invalidUtf8Offset, Utf8StreamDecoder } from "../../../shared/rdf/utf8-text";

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Random bytes biased towards UTF-8 lead and continuation bytes, so valid and invalid sequences both occur. */
function randomBytes(next: () => number, length: number): Uint8Array {
  const interesting = [
    0x41, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff,
  ];
  return Uint8Array.from({ length }, () =>
    next() < 0.5 ? (interesting[Math.floor(next() * interesting.length)] as number) : Math.floor(next() * 256),
  );
}

function streamedOffset(bytes: Uint8Array, pieceSize: number): number {
  const decoder = new Utf8StreamDecoder();
  try {
    for (let at = 0; at < bytes.length; at += pieceSize) decoder.decode(bytes.subarray(at, at + pieceSize));
    decoder.end();
    return -1;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidUtf8Error);
    return (error as InvalidUtf8Error).byteOffset;
  }
}

describe("UTF-8 validation", () => {
  it("agrees with the runtime's fatal decoder on random bytes, whole and in pieces of any size", () => {
    const next = random(1);
    const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
    for (let round = 0; round < 2000; round++) {
      const bytes = randomBytes(next, 1 + Math.floor(next() * 12));
      let valid = true;
      try {
        fatal.decode(bytes);
      } catch {
        valid = false;
      }
      const offset = invalidUtf8Offset(bytes);
      expect(offset === -1, `bytes ${Array.from(bytes)}`).toBe(valid);
      if (valid) expect(() => decodeUtf8(bytes)).not.toThrow();
      else expect(() => decodeUtf8(bytes)).toThrow(InvalidUtf8Error);
      for (const size of [1, 2, 3, 5])
        expect(streamedOffset(bytes, size), `bytes ${Array.from(bytes)} / ${size}`).toBe(offset);
    }
  });

  it("names the first byte of an overlong form, a surrogate, a code point past U+10FFFF and a cut-off character", () => {
    const ascii = new TextEncoder().encode("abc");
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      expect(invalidUtf8Offset(Uint8Array.from([...ascii, ...bad]))).toBe(3);
    }
    expect(invalidUtf8Offset(new TextEncoder().encode("Zoë ☃ 😀"))).toBe(-1);
  });

  it("stops a streamed upload at the invalid byte of a later piece", async () => {
    const valid = new TextEncoder().encode(`${'<urn:s> <urn:p> "é" .\n'.repeat(1000)}`);
    const bytes = new Uint8Array([...valid, 0xe2, 0x28, 0xa1]);
    const body = new Blob([bytes]).stream();
    const error = await parseRdfStream(body, "text/turtle", () => undefined).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidUtf8Error);
    expect(error.byteOffset).toBe(valid.length);
  });
});
