// Random identifiers and `id.secret` tokens; only SHA-256 of the secret is ever stored.
import { hash, randomBytes } from 'node:crypto';
import { fixedLengthEqual } from './constant-time.js';

/** 128 bits of entropy, base64url: enough for unguessable public identifiers. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

export interface SplitToken {
  id: string;
  secret: string;
}

/**
 * A token is `id.secret`: the id (128 bits) finds the record, the secret (256 bits) proves
 * possession. A lookup by id plus a constant-time hash compare means neither timing nor a
 * database dump reveals a usable token.
 */
export function createToken(): { token: string; id: string; secretHash: string } {
  const id = randomId(16);
  const secret = randomBytes(32).toString('base64url');
  return { token: `${id}.${secret}`, id, secretHash: sha256(secret) };
}

export function parseToken(token: unknown): SplitToken | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot === token.length - 1) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(id) || !/^[A-Za-z0-9_-]+$/.test(secret)) return null;
  return { id, secret };
}

/**
 * Both sides are SHA-256 digests in base64url, 43 characters whatever the secret: their length tells nothing, so they
 * are compared directly in constant time (fixedLengthEqual).
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  return fixedLengthEqual(sha256(secret), storedHash);
}
