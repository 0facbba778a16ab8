// Issued built-in challenges, single-use and bound to a login transaction; backed by the oidc model table.
import type { OidcModelStore } from '../../store/store.js';
import type { CaptchaFailure } from './captcha-provider.js';

export interface CaptchaRecord {
  provider: 'image' | 'pow';
  transactionId: string;
  /** image: HMAC of the normalized answer; pow: the challenge's signature. */
  check: string;
  /** The plaintext answer, written only when test hooks are on (NODE_ENV=test). */
  testAnswer?: string;
}

export interface StoredCaptcha {
  record: CaptchaRecord;
  expiresAt: number;
  used: boolean;
}

export interface CaptchaStore {
  put(id: string, record: CaptchaRecord, expiresAt: number): Promise<void>;
  /** Reads a challenge even when expired or used, so a failure can say why. Never consumes. */
  peek(id: string): Promise<StoredCaptcha | null>;
  /** Atomic single use: of any number of concurrent callers exactly one gets the record, and only before expiry. */
  take(id: string, now: number): Promise<CaptchaRecord | null>;
}

const MODEL = 'Captcha';

function decodeRecord(payload: Record<string, unknown>): CaptchaRecord | null {
  const { provider, transactionId, check, testAnswer } = payload;
  if ((provider !== 'image' && provider !== 'pow') || typeof transactionId !== 'string' || typeof check !== 'string') return null;
  return typeof testAnswer === 'string' ? { provider, transactionId, check, testAnswer } : { provider, transactionId, check };
}

/** A CaptchaStore on the oidc model table (SQLite or PostgreSQL); its consume() is the atomic single use. */
export function createCaptchaStore(models: OidcModelStore): CaptchaStore {
  return {
    async put(id, record, expiresAt) {
      await models.upsert(MODEL, id, { ...record }, expiresAt);
    },
    async peek(id) {
      // now = 0 reads regardless of expiry: "expired" and "unknown" are different verdicts.
      const row = await models.find(MODEL, id, 0);
      const record = row ? decodeRecord(row.payload) : null;
      if (!row || !record || row.expiresAt === null) return null;
      return { record, expiresAt: row.expiresAt, used: row.consumedAt !== null };
    },
    async take(id, now) {
      const row = await models.find(MODEL, id, now);
      const record = row ? decodeRecord(row.payload) : null;
      if (!record) return null;
      return (await models.consume(MODEL, id, now)) ? record : null;
    },
  };
}

/**
 * The checks every built-in challenge shares, in order: known, unused, unexpired, same transaction;
 * then it is taken, so any later attempt with the same id is a replay, right answer or not.
 * A wrong transaction does not consume it: a stranger cannot burn someone else's challenge.
 */
export async function takeChallenge(
  store: CaptchaStore,
  id: string,
  provider: CaptchaRecord['provider'],
  transactionId: string,
  now: number,
): Promise<{ ok: true; record: CaptchaRecord } | { ok: false; reason: CaptchaFailure }> {
  const stored = await store.peek(id);
  // Unknown ids are forged or already swept; both deserve a fresh challenge.
  if (!stored || stored.record.provider !== provider) return { ok: false, reason: 'expired' };
  if (stored.used) return { ok: false, reason: 'replayed' };
  if (stored.expiresAt <= now) return { ok: false, reason: 'expired' };
  if (stored.record.transactionId !== transactionId) return { ok: false, reason: 'wrong_transaction' };
  const record = await store.take(id, now);
  return record ? { ok: true, record } : { ok: false, reason: 'replayed' };
}
