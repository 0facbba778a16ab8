// What the hosted login needs from 2FA and passkeys, as small ports the composition root fills in.
import type { User } from '../../domain/types.js';

export interface SecondFactorPort {
  enrolled(userId: string): Promise<boolean>;
  /** Per-user hourly cap, independent of the per-transaction cap in the flow. */
  takeAttempt(userId: string): Promise<boolean>;
  verify(user: User, input: { code?: string; recoveryCode?: string }, context: { ip: string | null; userAgent: string | null }): Promise<{ ok: true; method: 'totp' | 'recovery' } | { ok: false; reason: string }>;
}

export interface PasskeyPort {
  /** Whether to offer "Create and use a passkey" after a password login (offer on, not snoozed, under the cap). */
  shouldOffer(userId: string): Promise<boolean>;
  /** "Not now": postpones the offer. */
  snoozeOffer(userId: string): Promise<void>;
  registrationOptions(user: User, transactionKey: string): Promise<unknown>;
  registrationVerify(user: User, transactionKey: string, response: unknown, userAgent: string | null): Promise<{ ok: true } | { ok: false; reason: string }>;
  loginOptions(transactionKey: string): Promise<unknown>;
  loginVerify(transactionKey: string, response: unknown): Promise<{ ok: true; user: User; amr: string[] } | { ok: false; reason: string }>;
}
