// Issued WebAuthn challenges: single-use, short-lived, bound to a purpose and a user or login transaction; on the oidc model table.
import type { OidcModelStore } from '../store/store.js';

export const CHALLENGE_MODEL = 'WebAuthnChallenge';
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type ChallengePurpose = 'register' | 'login';

export interface IssuedChallenge {
  challenge: string;
  data: Record<string, unknown>;
}

export interface ChallengeStore {
  put(key: string, challenge: string, data: Record<string, unknown>, ttlMs: number, now: number): Promise<void>;
  /** Atomic single use: of any number of concurrent callers at most one gets the challenge, and only before it expires. */
  take(key: string, now: number): Promise<IssuedChallenge | null>;
}

/**
 * The key names the purpose, the binding (a user's session or a login transaction) and the challenge itself.
 * With the challenge in the key, the autofill request and a "Continue with passkey" click can each hold one
 * without overwriting the other; the binding means a challenge issued to one transaction is useless in another.
 */
export function challengeKey(purpose: ChallengePurpose, binding: string, challenge: string): string {
  return `${purpose}:${binding}:${challenge}`;
}

export function createChallengeStore(models: OidcModelStore): ChallengeStore {
  return {
    async put(key, challenge, data, ttlMs, now) {
      await models.upsert(CHALLENGE_MODEL, key, { challenge, data }, now + ttlMs);
    },
    async take(key, now) {
      const row = await models.find(CHALLENGE_MODEL, key, now);
      if (!row || row.consumedAt !== null) return null;
      const { challenge, data } = row.payload;
      if (typeof challenge !== 'string' || typeof data !== 'object' || data === null) return null;
      return (await models.consume(CHALLENGE_MODEL, key, now)) ? { challenge, data: data as Record<string, unknown> } : null;
    },
  };
}
