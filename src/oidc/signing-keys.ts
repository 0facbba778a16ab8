// Persisted, rotatable signing keys: the newest signs; older keys stay published so their tokens still verify.
import { generateKeyPairSync } from 'node:crypto';
import type { SigningKey } from '../domain/types.js';
import { randomId } from '../crypto/tokens.js';
import type { SigningKeyStore } from '../store/store.js';

export function generateSigningKey(now: number): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kid: randomId(12), alg: 'RS256', privateJwk: jwk, createdAt: now };
}

/** Makes sure at least one signing key exists; returns all keys, newest first. */
export async function ensureSigningKeys(store: SigningKeyStore, now: number): Promise<SigningKey[]> {
  const existing = await store.list();
  if (existing.length > 0) return existing;
  await store.add(generateSigningKey(now));
  return store.list();
}

export function toJwks(keys: SigningKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => ({ ...k.privateJwk, kid: k.kid, alg: k.alg, use: 'sig' })) };
}
