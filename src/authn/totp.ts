// TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) as pure functions: a secret and a time go in, a verdict plus the step to record comes out.
import { randomBytes } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import type { Random } from '../domain/clock.js';
import { constantTimeEqual } from '../crypto/constant-time.js';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one, for clock drift and typing time. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block-aligned size RFC 4226 recommends. */
const SECRET_BYTES = 20;

const defaultRandom: Random = { bytes: (length) => randomBytes(length) };

/** A fresh 160-bit secret, base32 without padding (32 characters), as authenticator apps expect. */
export function generateTotpSecret(random: Random = defaultRandom): string {
  return new Secret({ buffer: toArrayBuffer(random.bytes(SECRET_BYTES)) }).base32;
}

/** The otpauth:// URI that authenticator apps read from the QR code. */
export function totpUri(options: { secret: string; label: string; issuer: string }): string {
  return new TOTP({
    issuer: options.issuer,
    label: options.label,
    secret: Secret.fromBase32(options.secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/** The time step containing `now` (epoch milliseconds). */
export function totpStep(now: number): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for one step; `digits` is 8 only for the RFC 6238 known-answer tests. */
export function totpCodeForStep(options: { secret: string; step: number; digits?: number }): string {
  return HOTP.generate({ secret: Secret.fromBase32(options.secret), algorithm: 'SHA1', digits: options.digits ?? TOTP_DIGITS, counter: options.step });
}

/** The code an authenticator shows at `now`. */
export function totpCode(options: { secret: string; now: number; digits?: number }): string {
  return totpCodeForStep({ secret: options.secret, step: totpStep(options.now), digits: options.digits });
}

export type TotpVerdict = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' | 'malformed' };

/**
 * Checks a code against the steps around `now`. A match at or before `lastUsedStep` is 'replayed':
 * a code is never accepted twice. On success, the caller must record `step` atomically (MfaStore.recordTotpStep)
 * so that two parallel submissions of one code cannot both pass.
 */
export function verifyTotp(input: { secret: string; code: string; now: number; lastUsedStep: number | null }): TotpVerdict {
  const code = input.code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
  const current = totpStep(input.now);
  let accepted: number | null = null;
  let replayed = false;
  // Every candidate step is computed and compared, so timing does not reveal which one matched.
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const matches = constantTimeEqual(totpCodeForStep({ secret: input.secret, step }), code);
    if (!matches) continue;
    if (input.lastUsedStep !== null && step <= input.lastUsedStep) replayed = true;
    // The earliest fresh step wins, so recording it blocks as few future codes as possible.
    else if (accepted === null) accepted = step;
  }
  if (accepted !== null) return { ok: true, step: accepted };
  return { ok: false, reason: replayed ? 'replayed' : 'invalid' };
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
