// Client secrets are stored as SHA-256 hashes; oidc-provider's plaintext compare is replaced by a hash compare.
import { randomBytes } from 'node:crypto';
import { secretMatches, sha256 } from '../crypto/tokens.js';

const PREFIX = 'sha256:';

/** 256 bits of entropy: a fast hash is enough at rest because the secret cannot be guessed. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return `${PREFIX}${sha256(secret)}`;
}

export function clientSecretMatches(presented: string, stored: string | undefined): boolean {
  if (typeof stored !== 'string' || !stored.startsWith(PREFIX)) return false;
  return secretMatches(presented, stored.slice(PREFIX.length));
}
