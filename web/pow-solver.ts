// Solves an ALTCHA v2 SHA-256 challenge: find the counter whose derived key starts with the signed key prefix.
import { sha256 } from './sha256.js';

export interface PowParameters {
  algorithm: string;
  nonce: string;
  salt: string;
  cost: number;
  keyLength?: number;
  keyPrefix: string;
}

export interface PowSolution {
  counter: number;
  derivedKey: string;
  time: number;
}

const hexToBytes = (hex: string): Uint8Array => new Uint8Array((hex.match(/../g) ?? []).map((pair) => parseInt(pair, 16)));
const bytesToHex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/**
 * Same derivation as altcha-lib's SHA algorithm: key = SHA-256^cost(salt || nonce || uint32be(counter)),
 * truncated to keyLength. Returns null when no counter up to `maxCounter` matches.
 */
export function solvePow(parameters: PowParameters, maxCounter = 0xffffffff, clock: () => number = () => Date.now()): PowSolution | null {
  if (parameters.algorithm !== 'SHA-256') throw new Error(`unsupported algorithm ${parameters.algorithm}`);
  const start = clock();
  const salt = hexToBytes(parameters.salt);
  const nonce = hexToBytes(parameters.nonce);
  const input = new Uint8Array(salt.length + nonce.length + 4);
  input.set(salt);
  input.set(nonce, salt.length);
  const view = new DataView(input.buffer);
  const keyLength = parameters.keyLength ?? 32;
  const prefix = parameters.keyPrefix.toLowerCase();
  const prefixBytes = hexToBytes(prefix.slice(0, prefix.length - (prefix.length % 2)));
  for (let counter = 0; counter <= maxCounter; counter++) {
    view.setUint32(salt.length + nonce.length, counter, false);
    let key = sha256(input);
    for (let round = 1; round < parameters.cost; round++) key = sha256(key);
    key = key.slice(0, keyLength);
    if (!prefixBytes.every((byte, i) => key[i] === byte)) continue;
    const hex = bytesToHex(key);
    if (hex.startsWith(prefix)) return { counter, derivedKey: hex, time: clock() - start };
  }
  return null;
}
