// Persisted, rotatable signing keys: the newest signs; older keys stay published so their tokens still verify.
import { generateKeyPairSync } from 'node:crypto';
import type { SigningKey } from '../domain/types.js';
import { deriveKey, hmac } from '../crypto/hmac.js';
import { randomId } from '../crypto/tokens.js';
import type { SigningKeyStore } from '../store/store.js';

export function generateSigningKey(now: number, kid: string = randomId(12)): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kid, alg: 'RS256', privateJwk: jwk, createdAt: now };
}

const KID_WINDOW_MS = 3_600_000;

/**
 * The kid of an installation's first key: the same on every node starting in the same hour (they share the secret),
 * so simultaneous first starts agree on one key; different between installations and between hours, so a key made
 * after the table was emptied (incident response, a restore) never reuses an earlier kid that apps may have cached;
 * and revealing nothing about the secret (an HMAC under a derived key).
 */
export function initialKeyId(secret: string, now: number): string {
  return `init-${hmac(deriveKey(secret, 'signing-key-id'), `initial:${Math.floor(now / KID_WINDOW_MS)}`).slice(0, 16)}`;
}

/**
 * Makes sure at least one signing key exists; returns all keys, newest first.
 *
 * Nodes starting at once on an empty database race to create the first key. Each tries to add it under the same
 * `initialKid`, so the key's primary key lets exactly one insert win; the losers' inserts fail and they read the
 * winner's key. Rotation (`portcullis keys rotate`) adds keys with random kids and is not affected.
 */
export async function ensureSigningKeys(store: SigningKeyStore, now: number, initialKid: string): Promise<SigningKey[]> {
  const existing = await store.list();
  if (existing.length > 0) return existing;
  try {
    await store.add(generateSigningKey(now, initialKid));
  } catch (error) {
    // Another node won the race (a unique violation); anything else leaves the table empty and is rethrown.
    const winner = await store.list();
    if (winner.length > 0) return winner;
    throw error;
  }
  return store.list();
}

export function toJwks(keys: SigningKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => ({ ...k.privateJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
}
