// SHA-1 of short byte strings, returning only the first 64 bits: the bulk path for plain-password imports.
// node:crypto costs 3–8 µs per call here (OpenSSL setup dominates a 10-byte input); one compression in JS is
// ~0.3 µs, which is what lets a plain list import at HIBP-like speed. Longer inputs go through node:crypto.
import { createHash } from 'node:crypto';

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

export type Sha1Prefix = (buf: Uint8Array, start: number, end: number, out: { hi: number; lo: number }) => void;

/** Returns a function writing the first 64 bits of SHA-1(buf[start, end)) into out.hi / out.lo (unsigned). */
export function createSha1Prefix(): Sha1Prefix {
  const W = new Int32Array(80); // message schedule, reused across calls of this instance
  return (buf, start, end, out) => sha1Block(W, buf, start, end, out);
}

function sha1Block(W: Int32Array, buf: Uint8Array, start: number, end: number, out: { hi: number; lo: number }): void {
  const len = end - start;
  if (len > 55) {
    const digest = createHash('sha1').update(buf.subarray(start, end)).digest();
    out.hi = digest.readUInt32BE(0);
    out.lo = digest.readUInt32BE(4);
    return;
  }
  // One padded block: message, 0x80, zeros, 64-bit big-endian bit length (fits in the last word here).
  for (let i = 0; i < 16; i++) W[i] = 0;
  for (let j = 0; j < len; j++) W[j >> 2] = (W[j >> 2] as number) | ((buf[start + j] as number) << (24 - 8 * (j & 3)));
  W[len >> 2] = (W[len >> 2] as number) | (0x80 << (24 - 8 * (len & 3)));
  W[15] = len * 8;
  for (let i = 16; i < 80; i++) W[i] = rotl((W[i - 3] as number) ^ (W[i - 8] as number) ^ (W[i - 14] as number) ^ (W[i - 16] as number), 1);
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  let e = 0xc3d2e1f0 | 0;
  let t = 0;
  // Four round groups written out, so the hot loop has no per-round branch.
  for (let i = 0; i < 20; i++) {
    t = (rotl(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999 + (W[i] as number)) | 0;
    e = d; d = c; c = rotl(b, 30); b = a; a = t;
  }
  for (let i = 20; i < 40; i++) {
    t = (rotl(a, 5) + (b ^ c ^ d) + e + 0x6ed9eba1 + (W[i] as number)) | 0;
    e = d; d = c; c = rotl(b, 30); b = a; a = t;
  }
  for (let i = 40; i < 60; i++) {
    t = (rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + (W[i] as number)) | 0;
    e = d; d = c; c = rotl(b, 30); b = a; a = t;
  }
  for (let i = 60; i < 80; i++) {
    t = (rotl(a, 5) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + (W[i] as number)) | 0;
    e = d; d = c; c = rotl(b, 30); b = a; a = t;
  }
  out.hi = (a + 0x67452301) >>> 0;
  out.lo = (b + (0xefcdab89 | 0)) >>> 0;
}
