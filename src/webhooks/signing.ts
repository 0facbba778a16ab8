// Webhook signatures, Stripe-style: `Portcullis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//
// How a receiver verifies a delivery (any language):
//   1. Read the raw request body as bytes, before any JSON parsing (re-serialised JSON will not match).
//   2. Split the header on "," into key=value pairs; take `t` and every `v1`.
//   3. Compute HMAC-SHA256 with the webhook's secret (the string exactly as shown when it was added, as UTF-8 bytes)
//      over `<t>` + "." + raw body, hex-encoded in lower case.
//   4. Accept if it equals one of the `v1` values (compare in constant time) and `t` is within a few minutes of
//      your clock (5 by default here): a captured request cannot be replayed later.
//   5. Drop duplicates by `Portcullis-Delivery` (the delivery id, the same on every retry); each retry is signed
//      again with a fresh timestamp.
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';

export const SIGNATURE_HEADER = 'Portcullis-Signature';
export const EVENT_HEADER = 'Portcullis-Event';
export const DELIVERY_HEADER = 'Portcullis-Delivery';
export const DEFAULT_TOLERANCE_SECONDS = 300;

function digest(secret: string, seconds: number, body: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${seconds}.`, 'utf8')
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

/**
 * The `Portcullis-Signature` header value for `body` sent at `timestampMs` (epoch milliseconds, like every clock in
 * Portcullis; the header carries whole seconds).
 */
export function signWebhook(secret: string, timestampMs: number, body: string | Buffer): string {
  const seconds = Math.floor(timestampMs / 1000);
  return `t=${seconds},v1=${digest(secret, seconds, body)}`;
}

/**
 * True when `header` carries a valid signature of `body` (the raw bytes received) under `secret`, made no more than
 * `toleranceSeconds` away from `nowMs` (epoch milliseconds) in either direction. Several `v1` entries are allowed
 * (any one may match).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Buffer,
  nowMs: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,15}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === null || candidates.length === 0) return false;
  if (Math.abs(Math.floor(nowMs / 1000) - timestamp) > toleranceSeconds) return false;
  const expected = digest(secret, timestamp, body);
  // Check every candidate so the time taken does not depend on which one matched.
  let ok = false;
  for (const candidate of candidates) ok = constantTimeEqual(candidate, expected) || ok;
  return ok;
}
