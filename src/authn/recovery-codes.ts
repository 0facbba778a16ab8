// Single-use recovery codes: generated once, shown once, stored only as hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Random } from '../domain/clock.js';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford base32: no i, l, o or u, so codes read back without ambiguity. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 10 characters of 5 bits: 50 bits of entropy per code. */
const CODE_CHARS = 10;

const defaultRandom: Random = { bytes: (length) => randomBytes(length) };

/** `count` codes shaped `xxxx-xxxx-xx`, each with 50 random bits (uniform: 32 symbols take exactly 5 bits). */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT, random: Random = defaultRandom): string[] {
  const codes = new Set<string>();
  // Duplicates are astronomically unlikely with real randomness; the bound only stops a broken source from looping forever.
  for (let tries = 0; codes.size < count; tries++) {
    if (tries > count * 10) throw new Error('the random source keeps repeating itself');
    codes.add(formatCode(randomChars(random)));
  }
  return [...codes];
}

/**
 * Lower-cases, drops spaces and dashes, and maps look-alikes (o→0, i/l→1) the way Crockford base32 reads them.
 * Returns null for anything that cannot be a recovery code, so malformed input never reaches the store.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const cleaned = input.toLowerCase().replace(/[\s-]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (cleaned.length !== CODE_CHARS) return null;
  for (const char of cleaned) if (!ALPHABET.includes(char)) return null;
  return cleaned;
}

/**
 * SHA-256 of the normalised code, hex. A plain fast hash is enough here: each code carries 50 random bits
 * and works once, so a stolen hash list cannot be brute-forced offline in useful time (2^50 SHA-256 per code,
 * with no dictionary to exploit), unlike a human-chosen password that needs a slow hash.
 * Returns null for malformed input.
 */
export function hashRecoveryCode(code: string): string | null {
  const normalized = normalizeRecoveryCode(code);
  return normalized === null ? null : sha256Hex(normalized);
}

/**
 * The index of the hash that `input` matches, or null. Every hash is compared, in constant time,
 * so the timing reveals neither whether nor where a match was found.
 */
export function matchRecoveryCode(input: string, hashes: readonly string[]): number | null {
  const normalized = normalizeRecoveryCode(input);
  // Malformed input is still compared (as an impossible value) so it costs the same as a wrong code.
  const candidate = Buffer.from(normalized === null ? sha256Hex(`malformed:${input}`) : sha256Hex(normalized), 'utf8');
  let found: number | null = null;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash, 'utf8');
    const equal = stored.length === candidate.length && timingSafeEqual(stored, candidate);
    if (equal && normalized !== null && found === null) found = index;
  });
  return found;
}

function randomChars(random: Random): string {
  // 7 bytes = 56 bits; the first 50 become ten 5-bit symbols.
  const bytes = random.bytes(7);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < CODE_CHARS; i++) out += ALPHABET[Number((bits >> BigInt(51 - i * 5)) & 31n)];
  return out;
}

function formatCode(chars: string): string {
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
