// Two-factor use-cases (no HTTP): TOTP enrollment, the second-factor check, recovery codes, the admin reset and the attempt cap.
import QRCode from 'qrcode';
import type { Random } from '../domain/clock.js';
import type { User } from '../domain/types.js';
import { PortcullisError } from '../domain/errors.js';
import { generateTotpSecret, totpUri, verifyTotp } from '../authn/totp.js';
import { generateRecoveryCodes, hashRecoveryCode, RECOVERY_CODE_COUNT } from '../authn/recovery-codes.js';
import type { AccountDeps, RequestContext } from './account-deps.js';

/** The part of AccountDeps these use-cases need (an AccountDeps fits), plus optional TOTP settings. */
export type TwoFactorDeps = Pick<AccountDeps, 'store' | 'clock' | 'mailer' | 'publicUrl'> & {
  /** The name authenticator apps show next to the account; defaults to the public URL's host. */
  totpIssuer?: string;
  random?: Random;
};

/** How long a scanned-but-unconfirmed enrollment stays valid. */
export const ENROLLMENT_TTL_MS = 30 * 60_000;
/** Per user, across login transactions and the account page: 10 per hour, refilled one every 6 minutes. */
export const MFA_ATTEMPTS_PER_HOUR = 10;
const MFA_REFILL_MS = 360_000;

const NO_CONTEXT: RequestContext = { ip: null, userAgent: null };

export type SecondFactorFailure = 'invalid' | 'replayed' | 'malformed' | 'not_enrolled';
export type SecondFactorResult = { ok: true; method: 'totp' | 'recovery' } | { ok: false; reason: SecondFactorFailure };

/** What the user is told for each refusal (the machine reason goes to the event log). */
export const SECOND_FACTOR_MESSAGES: Record<SecondFactorFailure, string> = {
  invalid: 'That code is not correct. Check that the clock on your device is right, then try again.',
  replayed: 'That code was already used. Wait for the next code in your authenticator app.',
  malformed: 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.',
  not_enrolled: 'Two-factor authentication is not set up for this account.',
};

export interface TotpEnrollment {
  /** Base32, for typing into an app that cannot scan. */
  secret: string;
  uri: string;
  /** An SVG document with the QR code of `uri`. */
  qrSvg: string;
}

export interface ResetActor {
  via: 'cli' | 'admin';
  adminUserId?: string | null;
  ip?: string | null;
}

/** Creates a pending secret; nothing changes at login until confirmTotpEnrollment succeeds. */
export async function startTotpEnrollment(deps: TwoFactorDeps, user: User): Promise<TotpEnrollment> {
  const secret = generateTotpSecret(deps.random);
  await deps.store.mfa.setPendingTotp(user.id, secret, deps.clock.now());
  const uri = totpUri({ secret, label: user.email, issuer: deps.totpIssuer ?? new URL(deps.publicUrl).host });
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, uri, qrSvg };
}

/** Shows the pending enrollment again (after a mistyped code) without replacing the secret the user already scanned. */
export async function resumeTotpEnrollment(deps: TwoFactorDeps, user: User): Promise<TotpEnrollment> {
  const pending = (await deps.store.mfa.getTotp(user.id))?.pendingSecret;
  if (!pending) return startTotpEnrollment(deps, user);
  const uri = totpUri({ secret: pending, label: user.email, issuer: deps.totpIssuer ?? new URL(deps.publicUrl).host });
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret: pending, uri, qrSvg };
}

/**
 * Switches 2FA on once the user proves their app computes codes from the pending secret. The confirming step is
 * recorded as used, so the same code cannot be replayed at the next login. Returns the recovery codes, shown once.
 */
export async function confirmTotpEnrollment(deps: TwoFactorDeps, user: User, code: string, context: RequestContext = NO_CONTEXT): Promise<{ recoveryCodes: string[] }> {
  const now = deps.clock.now();
  const record = await deps.store.mfa.getTotp(user.id);
  if (!record || record.pendingSecret === null || record.pendingAt === null || now - record.pendingAt > ENROLLMENT_TTL_MS) {
    throw new PortcullisError('invalid_input', { message: 'This setup has expired. Start again to get a new QR code.' });
  }
  const pending = record.pendingSecret;
  const verdict = verifyTotp({ secret: pending, code, now, lastUsedStep: null });
  if (!verdict.ok) throw new PortcullisError('invalid_input', { message: SECOND_FACTOR_MESSAGES[verdict.reason] });
  if (!(await deps.store.mfa.confirmTotp(user.id, pending, verdict.step, now))) {
    throw new PortcullisError('invalid_input', { message: 'This setup was restarted in another window. Scan the newest QR code.' });
  }
  const recoveryCodes = await issueRecoveryCodes(deps, user.id, now);
  await deps.store.events.append({ code: 'mfa_enrolled', outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent, details: { method: 'totp' } }, now);
  await deps.mailer.enqueue(user.email, 'mfa_enabled', { at: new Date(now).toISOString(), ip: context.ip, ...accountLinks(deps) });
  return { recoveryCodes };
}

/**
 * Checks a TOTP code or a recovery code. Attempt caps are the caller's job (takeMfaAttempt and the login
 * transaction's own count); this only decides and records.
 */
export async function verifySecondFactor(
  deps: TwoFactorDeps,
  user: User,
  input: { code?: string; recoveryCode?: string },
  context: RequestContext = NO_CONTEXT,
): Promise<SecondFactorResult> {
  if (input.code?.trim()) return checkTotp(deps, user, input.code, context);
  if (input.recoveryCode?.trim()) return checkRecoveryCode(deps, user, input.recoveryCode, context);
  return refuse(deps, user, 'malformed', 'none', context);
}

async function checkTotp(deps: TwoFactorDeps, user: User, code: string, context: RequestContext): Promise<SecondFactorResult> {
  const now = deps.clock.now();
  const record = await deps.store.mfa.getTotp(user.id);
  if (!record?.secret) return refuse(deps, user, 'not_enrolled', 'totp', context);
  const verdict = verifyTotp({ secret: record.secret, code, now, lastUsedStep: record.lastStep });
  if (!verdict.ok) return refuse(deps, user, verdict.reason, 'totp', context);
  // Recording the step is the real gate: of two parallel submissions of one code, only one raises it.
  if (!(await deps.store.mfa.recordTotpStep(user.id, verdict.step))) return refuse(deps, user, 'replayed', 'totp', context);
  await deps.store.events.append({ code: 'mfa_challenge_passed', outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent, details: { method: 'totp' } }, now);
  return { ok: true, method: 'totp' };
}

async function checkRecoveryCode(deps: TwoFactorDeps, user: User, input: string, context: RequestContext): Promise<SecondFactorResult> {
  const now = deps.clock.now();
  const hash = hashRecoveryCode(input);
  if (hash === null) return refuse(deps, user, 'malformed', 'recovery', context);
  if (!(await hasTwoFactor(deps, user.id))) return refuse(deps, user, 'not_enrolled', 'recovery', context);
  // Looked up by its SHA-256 in the database: index timing could at most hint at bits of a hash of a 50-bit
  // random secret, which does not help find the code (the reasoning behind Lucia's lookup by hashed id).
  if (!(await deps.store.mfa.consumeRecoveryCode(user.id, hash, now))) return refuse(deps, user, 'invalid', 'recovery', context);
  const remaining = await deps.store.mfa.countRecoveryCodes(user.id);
  await deps.store.events.append({ code: 'recovery_code_used', outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent, details: { remaining } }, now);
  await deps.mailer.enqueue(user.email, 'recovery_code_used', { at: new Date(now).toISOString(), ip: context.ip, remaining, ...accountLinks(deps) });
  return { ok: true, method: 'recovery' };
}

async function refuse(deps: TwoFactorDeps, user: User, reason: SecondFactorFailure, method: 'totp' | 'recovery' | 'none', context: RequestContext): Promise<SecondFactorResult> {
  await deps.store.events.append({ code: 'mfa_challenge_failed', outcome: 'failure', userId: user.id, ip: context.ip, userAgent: context.userAgent, reason, details: { method } }, deps.clock.now());
  return { ok: false, reason };
}

/**
 * Replaces the recovery codes after a fresh TOTP code; the old set stops working. Takes an attempt from the
 * same per-user bucket as the login, so this page cannot be used to guess codes past the cap.
 */
export async function regenerateRecoveryCodes(deps: TwoFactorDeps, user: User, currentCode: string, context: RequestContext = NO_CONTEXT): Promise<{ recoveryCodes: string[] }> {
  if (!(await takeMfaAttempt(deps, user.id, deps.clock.now(), context)).allowed) throw new PortcullisError('rate_limited');
  const check = await verifySecondFactor(deps, user, { code: currentCode }, context);
  if (!check.ok) throw new PortcullisError('invalid_input', { message: SECOND_FACTOR_MESSAGES[check.reason] });
  const now = deps.clock.now();
  const recoveryCodes = await issueRecoveryCodes(deps, user.id, now);
  await deps.store.events.append({ code: 'recovery_codes_regenerated', outcome: 'info', userId: user.id, ip: context.ip, userAgent: context.userAgent }, now);
  return { recoveryCodes };
}

/** Admin use-case: removes TOTP and the recovery codes, keeps passkeys, and tells the user. */
export async function resetTwoFactor(deps: TwoFactorDeps, userId: string, actor: ResetActor): Promise<{ removed: boolean }> {
  const user = await deps.store.users.findById(userId);
  if (!user) throw new PortcullisError('not_found', { message: 'No user has this id.' });
  const now = deps.clock.now();
  const hadTotp = await hasTwoFactor(deps, userId);
  const result = await deps.store.mfa.resetMfa(userId);
  const removed = hadTotp || result.removedRecoveryCodes > 0;
  const details = { via: actor.via, adminUserId: actor.adminUserId ?? null, removedTotp: hadTotp, removedRecoveryCodes: result.removedRecoveryCodes };
  await deps.store.events.append({ code: 'mfa_reset', outcome: 'info', userId, ip: actor.ip ?? null, details }, now);
  if (removed) await deps.mailer.enqueue(user.email, 'mfa_reset', { at: new Date(now).toISOString(), ...accountLinks(deps) });
  return { removed };
}

/** True when an active (confirmed) TOTP secret exists; a pending enrollment does not count. */
export async function hasTwoFactor(deps: Pick<TwoFactorDeps, 'store'>, userId: string): Promise<boolean> {
  return Boolean((await deps.store.mfa.getTotp(userId))?.secret);
}

/** Takes one second-factor attempt from the user's hourly bucket; a refusal is logged as mfa_attempts_exceeded. */
export async function takeMfaAttempt(deps: Pick<TwoFactorDeps, 'store'>, userId: string, now: number, context: RequestContext = NO_CONTEXT): Promise<{ allowed: boolean }> {
  const { allowed } = await deps.store.buckets.take(`mfa:${userId}`, MFA_ATTEMPTS_PER_HOUR, MFA_REFILL_MS, now);
  if (!allowed) {
    await deps.store.events.append({ code: 'mfa_attempts_exceeded', outcome: 'failure', userId, ip: context.ip, userAgent: context.userAgent, reason: 'per_user_hourly_cap' }, now);
  }
  return { allowed };
}

async function issueRecoveryCodes(deps: TwoFactorDeps, userId: string, now: number): Promise<string[]> {
  const codes = generateRecoveryCodes(RECOVERY_CODE_COUNT, deps.random);
  const hashes = codes.map((code) => {
    const hash = hashRecoveryCode(code);
    if (hash === null) throw new Error('a generated recovery code failed to normalise');
    return hash;
  });
  await deps.store.mfa.replaceRecoveryCodes(userId, hashes, now);
  return codes;
}

function accountLinks(deps: Pick<TwoFactorDeps, 'publicUrl'>): { accountUrl: string; resetUrl: string } {
  return { accountUrl: `${deps.publicUrl}/account`, resetUrl: `${deps.publicUrl}/password/forgot` };
}
