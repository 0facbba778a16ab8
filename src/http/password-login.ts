// One password sign-in for every hosted entry point (OIDC interaction, account page), so every protection step applies to both.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { attemptPasswordLogin, type AttemptDeps } from '../login/password-attempt.js';
import type { SessionService } from '../sessions/session-service.js';
import type { AccountDeps } from '../account/account-deps.js';
import { resendVerification } from '../account/signup.js';
import { onBreachedLogin, type BreachNoticeSettings } from '../account/breached-password.js';
import { normaliseIp } from './client-ip.js';
import { normaliseEmail } from '../store/sql/sql-users.js';
import { ipKey as toIpKey } from '../protection/ip/ip-key.js';
import type { Refusal } from '../protection/refusal-memo.js';
import type { RiskFacts } from '../protection/risk/risk-guard.js';
import type { User } from '../domain/types.js';
import { setSessionCookie } from './auth-session.js';
import { ensureDeviceToken, readDeviceToken } from './device-cookie.js';

export interface PasswordLoginDeps {
  attempt: AttemptDeps;
  sessions: SessionService;
  account: AccountDeps;
  sessionCookie: { secure: boolean; maxAgeSeconds: number };
  breachNotices: BreachNoticeSettings;
}

export type PasswordLoginOutcome =
  | { ok: true; user: User; stepUp: boolean; riskFacts?: RiskFacts; captchaRequired: boolean }
  | { ok: false; status: number; error: string | null; notice: string | null; retryAfterSeconds?: number; challenge?: boolean; refused?: boolean };

export type PasswordLoginFailure = Extract<PasswordLoginOutcome, { ok: false }>;

export const MESSAGES = {
  invalidCredentials: 'Incorrect email or password.',
  unverified: 'Your email address is not verified yet. We have emailed you a verification link: open it, then sign in again.',
  blocked:
    'Sign-in to this account from your network is blocked after too many failed attempts. If this is your account, we have emailed you a link to unblock it. You can also reset your password, or sign in from another network.',
  locked: 'This account is locked after too many failed attempts. Reset your password to unlock it, or contact your administrator.',
  breached:
    'This password appeared in a data breach, so we paused sign-in with it to protect your account. We emailed you a link to set a new password; use it, then sign in with the new one.',
  captcha: 'Before we check your password, please confirm you are a person: enter the characters as displayed.',
  captchaWrong: 'That did not match. Enter the characters as displayed in the new image, or verify another way.',
  riskBlocked:
    'This login attempt was blocked because it looked unusual. If this was you, try again from a device you have used before or contact your admin.',
  throttled: 'Too many failed sign-ins have come from your network. Wait a while before trying again, or contact your administrator if you think this is a mistake.',
} as const;

export async function passwordLogin(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: PasswordLoginDeps,
  input: { email: string; password: string; clientId: string | null; transactionId: string; captcha: Record<string, string | undefined>; proof: unknown },
): Promise<PasswordLoginOutcome> {
  const ip = normaliseIp(request.ip);
  const userAgent = request.headers['user-agent'] ?? null;
  // The assessment sees the cookie the browser sent (or none); a new one is issued for the session that may follow.
  const deviceToken = readDeviceToken(request);
  ensureDeviceToken(request, reply, deps.sessionCookie.secure);
  const verdict = await attemptPasswordLogin(deps.attempt, { ...input, ip, userAgent, deviceToken });
  if (verdict.outcome === 'risk_blocked') return { ok: false, status: 403, error: MESSAGES.riskBlocked, notice: null };
  if (verdict.outcome === 'challenge') {
    return { ok: false, status: 401, error: verdict.failed ? MESSAGES.captchaWrong : null, notice: verdict.failed ? null : MESSAGES.captcha, challenge: true };
  }
  if (verdict.outcome === 'blocked') return refusedOutcome(verdict, deps.attempt.clock.now());
  if (verdict.outcome === 'failure') {
    if (verdict.reason === 'password_breached') {
      await onBreachedLogin(deps.account, deps.breachNotices, verdict.user, ip);
      return { ok: false, status: 403, error: MESSAGES.breached, notice: null };
    }
    if (verdict.reason === 'email_unverified') {
      await resendVerification(deps.account, verdict.user.id, verdict.user.email);
      return { ok: false, status: 403, error: null, notice: MESSAGES.unverified };
    }
    return { ok: false, status: 401, error: MESSAGES.invalidCredentials, notice: null };
  }
  return { ok: true, user: verdict.user, stepUp: verdict.stepUp, riskFacts: verdict.riskFacts, captchaRequired: verdict.captchaRequired };
}

function refusedOutcome(refusal: Refusal, now: number): PasswordLoginFailure {
  const retryAfterSeconds = refusal.until ? Math.max(1, Math.ceil((refusal.until - now) / 1000)) : undefined;
  const error = refusal.reason === 'ip_throttled' ? MESSAGES.throttled : refusal.reason === 'account_locked' ? MESSAGES.locked : MESSAGES.blocked;
  return { ok: false, status: 429, error, notice: null, retryAfterSeconds, refused: true };
}

/**
 * A refusal remembered from a moment ago, checked before the login transaction is even read: during a flood of
 * blocked or throttled attempts each one costs a map lookup, not SQL (ADR 0012). Null when nothing is remembered.
 */
export function rememberedRefusal(request: FastifyRequest, deps: PasswordLoginDeps, email: string): PasswordLoginFailure | null {
  const { protection, clock } = deps.attempt;
  const ip = normaliseIp(request.ip);
  if (protection.allowlist.has(ip)) return null;
  const now = clock.now();
  const refusal = protection.refusals.check(normaliseEmail(email), toIpKey(ip), now);
  return refusal ? refusedOutcome(refusal, now) : null;
}

/** The one place a browser session starts, whatever the method: password (+2FA), passkey or one-time link. */
export async function startSession(request: FastifyRequest, reply: FastifyReply, deps: Pick<PasswordLoginDeps, 'sessions' | 'sessionCookie'>, account: Pick<User, 'id' | 'orgId'>): Promise<void> {
  const { token } = await deps.sessions.create(account.id, { ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null, orgId: account.orgId });
  setSessionCookie(reply, token, deps.sessionCookie);
}
