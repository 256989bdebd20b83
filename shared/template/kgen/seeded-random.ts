import { sha256HexSync } from "../../core/sha256";
import { sortedJson } from "./sorted-json";

/**
 * xoshiro128** seeded with the first 128 bits of SHA-256(seed): the same seed always yields the
 * same sequence, on every runtime. `next()` returns a float in [0, 1) with 32 bits of precision.
 */
export class SeededRandom {
  private readonly state: Uint32Array;

  constructor(seed: string) {
    const digest = sha256HexSync(seed);
    this.state = new Uint32Array(4);
    for (let i = 0; i < 4; i++) this.state[i] = Number.parseInt(digest.slice(i * 8, i * 8 + 8), 16);
    // xoshiro must not start from the all-zero state.
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
  }

  nextUint32(): number {
    const s = this.state;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[1] = (s1 ^ n2) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** An integer in [0, bound) without modulo bias. */
  nextInt(bound: number): number {
    const limit = 0x100000000 - (0x100000000 % bound);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % bound;
  }
}

function rotl(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/** The seed of a render: SHA-256 of the template hash and the canonical JSON of its parameters. */
export function deriveRenderSeed(templateHash: string, params: unknown): string {
  return sha256HexSync(`${templateHash}\n${sortedJson(params)}`);
}
