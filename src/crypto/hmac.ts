// Keyed MACs and sub-key derivation from the one server secret.
import { createHmac, hkdfSync } from 'node:crypto';

export function hmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

/** Derives an independent 32-byte key per purpose, so one leaked sub-key exposes nothing else. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `portcullis:${purpose}`, 32));
}
