// The built-in proof-of-work CAPTCHA: an ALTCHA v2 SHA-256 challenge, signed, stored single-use and bound to the transaction.
import { createChallenge, verifySolution, type Challenge, type Solution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { randomBytes } from 'node:crypto';
import { hmac } from '../../crypto/hmac.js';
import { constantTimeEqual } from '../../crypto/constant-time.js';
import type { Random } from '../../domain/clock.js';
import { CAPTCHA_FIELDS, CAPTCHA_TTL_MS, type CaptchaChallenge, type CaptchaProvider, type CaptchaVerdict } from './captcha-provider.js';
import { takeChallenge, type CaptchaStore } from './captcha-store.js';

export interface PowCaptchaOptions {
  store: CaptchaStore;
  /** Signs challenges (two sub-keys are derived from it). Derive it from the server secret. */
  key: Buffer;
  random?: Random;
  ttlMs?: number;
  /**
   * The secret counter is drawn uniformly from [min, max]; the browser tries every counter up to it,
   * so the work is exact, not luck. See POW_DEFAULTS for the measured cost.
   */
  counterMin?: number;
  counterMax?: number;
}

/**
 * web/pow-worker.js hashes roughly 30k-100k counters a second in headless Chromium here (depending on
 * load), so the default costs a person well under a second to ~2 s, a slow phone a few seconds, and a
 * bot with native SHA-256 a fraction of a second: the point is a price per attempt, not a wall.
 */
export const POW_DEFAULTS = Object.freeze({ counterMin: 10_000, counterMax: 60_000 });

const MAX_PAYLOAD_LENGTH = 4_096;

interface Payload {
  challenge: Challenge;
  solution: Solution;
}

function decodePayload(raw: string): Payload | null {
  if (raw.length > MAX_PAYLOAD_LENGTH) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Partial<Payload> | null;
    const parameters = value?.challenge?.parameters;
    const solution = value?.solution;
    if (!parameters || typeof parameters.salt !== 'string' || !/^[0-9a-f]{2,128}$/.test(parameters.salt)) return null;
    if (typeof value?.challenge?.signature !== 'string' || !solution || typeof solution.counter !== 'number' || typeof solution.derivedKey !== 'string') {
      return null;
    }
    return value as Payload;
  } catch {
    return null;
  }
}

export function createPowCaptcha(options: PowCaptchaOptions): CaptchaProvider {
  const { store } = options;
  const random: Random = options.random ?? { bytes: (length) => randomBytes(length) };
  const ttlMs = options.ttlMs ?? CAPTCHA_TTL_MS;
  const counterMin = options.counterMin ?? POW_DEFAULTS.counterMin;
  const counterMax = Math.max(counterMin, options.counterMax ?? POW_DEFAULTS.counterMax);
  const secrets = {
    hmacSignatureSecret: hmac(options.key, 'altcha-challenge-signature'),
    hmacKeySignatureSecret: hmac(options.key, 'altcha-key-signature'),
  };

  return {
    name: 'pow',
    async issue(transactionId, now): Promise<CaptchaChallenge> {
      const counter = counterMin + (random.bytes(4).readUInt32BE(0) % (counterMax - counterMin + 1));
      // No `expiresAt` in the challenge: altcha-lib checks that against the wall clock; the store's expiry uses `now`.
      const challenge = await createChallenge({ algorithm: 'SHA-256', cost: 1, counter, deriveKey, ...secrets });
      // The random salt identifies the challenge; the signature ties the stored entry to these exact parameters.
      await store.put(challenge.parameters.salt, { provider: 'pow', transactionId, check: challenge.signature ?? '' }, now + ttlMs);
      return { provider: 'pow', id: challenge.parameters.salt, powChallenge: challenge };
    },
    async verify(transactionId, response, now): Promise<CaptchaVerdict> {
      const raw = response[CAPTCHA_FIELDS.pow]?.trim() ?? '';
      if (raw === '') return { ok: false, reason: 'missing' };
      const payload = decodePayload(raw);
      if (!payload) return { ok: false, reason: 'wrong' };
      const taken = await takeChallenge(store, payload.challenge.parameters.salt, 'pow', transactionId, now);
      if (!taken.ok) return { ok: false, reason: taken.reason };
      if (!constantTimeEqual(payload.challenge.signature ?? '', taken.record.check)) return { ok: false, reason: 'wrong' };
      try {
        const result = await verifySolution({ challenge: payload.challenge, solution: payload.solution, deriveKey, ...secrets });
        return result.verified ? { ok: true } : { ok: false, reason: 'wrong' };
      } catch {
        return { ok: false, reason: 'wrong' };
      }
    },
  };
}
