// Reads import files as raw byte lines in large chunks and turns HIBP or plain-password lines into hash entries.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Sha1Prefix } from './sha1-prefix.js';

export type InputFormat = 'hibp' | 'plain';

/** One parsed line: the first 64 bits of the SHA-1 and the breach count (0: unknown, as in plain lists). */
export interface HashEntry {
  hi: number;
  lo: number;
  count: number;
}

const CHUNK_BYTES = 4 * 1024 * 1024;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/**
 * Calls onLine for every line (without its \n or \r\n) and onChunk after every chunk with the bytes read so far.
 * onChunk may return a promise (the builder yields to the event loop there, so progress and Ctrl-C get through).
 */
export async function forEachLine(
  path: string,
  onLine: (buf: Buffer, start: number, end: number) => void,
  onChunk?: (bytesRead: number) => void | Promise<void>,
): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    let buf = Buffer.alloc(CHUNK_BYTES);
    let carry = 0;
    let total = 0;
    let first = true;
    for (;;) {
      if (carry === buf.length) {
        const grown = Buffer.alloc(buf.length * 2);
        buf.copy(grown, 0, 0, carry);
        buf = grown;
      }
      const n = readSync(fd, buf, carry, buf.length - carry, null);
      total += n;
      const end = carry + n;
      let start = 0;
      // A UTF-8 byte-order mark is not part of the first password.
      if (first && end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      first = false;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl === -1 || nl >= end) break;
        onLine(buf, start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl);
        start = nl + 1;
      }
      if (n === 0) {
        if (start < end) onLine(buf, start, buf[end - 1] === 13 ? end - 1 : end);
        if (onChunk) await onChunk(total);
        return;
      }
      buf.copy(buf, 0, start, end);
      carry = end - start;
      if (onChunk) await onChunk(total);
    }
  } finally {
    closeSync(fd);
  }
}

/** Parses `SHA1:COUNT` (or a bare SHA1, count unknown) into out; returns false when the line is not one. */
export function parseHibpLine(buf: Buffer, start: number, end: number, out: HashEntry): boolean {
  const len = end - start;
  if (len < 40) return false;
  let hi = 0;
  let lo = 0;
  let bad = 0;
  for (let i = 0; i < 8; i++) {
    const v = HEX[buf[start + i] as number] as number;
    bad |= v;
    hi = hi * 16 + v;
  }
  for (let i = 8; i < 16; i++) {
    const v = HEX[buf[start + i] as number] as number;
    bad |= v;
    lo = lo * 16 + v;
  }
  for (let i = 16; i < 40; i++) bad |= HEX[buf[start + i] as number] as number;
  if (bad < 0) return false;
  let count = 0;
  if (len > 40) {
    if (buf[start + 40] !== 58 || len === 41 || len > 41 + 15) return false;
    for (let i = start + 41; i < end; i++) {
      const d = (buf[i] as number) - 48;
      if (d < 0 || d > 9) return false;
      count = count * 10 + d;
    }
  }
  out.hi = hi;
  out.lo = lo;
  out.count = count;
  return true;
}

/** Hashes a plain password line (its raw bytes, as HIBP hashes UTF-8); empty lines are skipped (false). */
export function parsePlainLine(buf: Buffer, start: number, end: number, out: HashEntry, sha1: Sha1Prefix): boolean {
  if (end <= start) return false;
  sha1(buf, start, end, out);
  out.count = 0;
  return true;
}

const HIBP_LINE = /^[0-9A-Fa-f]{40}(:\d{1,15})?$/;

/** HIBP when every one of the first non-empty lines (up to 100) is a `SHA1[:COUNT]` line; plain otherwise. */
export function detectFormat(path: string): InputFormat {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const lines = buf.toString('latin1', 0, n).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').split('\n');
    if (n === buf.length) lines.pop(); // the last one may be cut
    const sample = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l !== '').slice(0, 100);
    return sample.length > 0 && sample.every((l) => HIBP_LINE.test(l)) ? 'hibp' : 'plain';
  } finally {
    closeSync(fd);
  }
}
