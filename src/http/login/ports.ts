// What the hosted login needs from 2FA and passkeys, as small ports the composition root fills in.
import type { User } from '../../domain/types.js';
import type { RiskFacts } from '../../protection/risk/risk-guard.js';

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
  /** `expectedUserId`: a step-up, where only that account's passkey counts. */
  loginVerify(
    transactionKey: string,
    response: unknown,
    context: { ip: string | null; userAgent: string | null; expectedUserId?: string },
  ): Promise<{ ok: true; user: User; amr: string[] } | { ok: false; reason: string }>;
}

/** The step-up a risky login needs when the user has no TOTP: their passkey, or a one-time code sent by email. */
export interface StepUpPort {
  hasPasskeys(userId: string): Promise<boolean>;
  /** Emails a fresh code; returns what the flow keeps (the keyed hash and the expiry), never the code. */
  sendEmailCode(user: User, context: { ip: string | null }): Promise<{ hash: string; expiresAt: number }>;
  emailCodeMatches(user: User, code: string, stored: { hash: string; expiresAt: number }): boolean;
}

/** What happens after any completed login: remember the device and place, tell the user about a new device. */
export interface LoginRecorder {
  /** `riskFacts`: what this login's risk assessment read in the same request, so it is not read again. */
  recordLogin(user: User, context: { ip: string; userAgent: string | null; deviceToken: string | null; amr: string[]; riskFacts?: RiskFacts }): Promise<void>;
}
