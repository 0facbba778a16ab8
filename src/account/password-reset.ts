// Password reset by email: a 1-hour single-use link; completing it ends every session and refresh token.
import { PortcullisError } from '../domain/errors.js';
import { checkNewPassword, isPlausibleEmail } from '../authn/password-policy.js';
import { consumeLink, inspectLink, type LinkCheck } from '../links/link-tokens.js';
import { normaliseEmail } from '../store/sql/sql-users.js';
import { BREACHED_NEW_PASSWORD } from './breached-password.js';
import { describeDuration, endAllSessions, issueLink, type AccountDeps, type RequestContext } from './account-deps.js';

/** Always succeeds from the caller's point of view: unknown emails get no mail and no different answer. */
export async function requestPasswordReset(deps: AccountDeps, email: string, context: RequestContext): Promise<void> {
  if (!isPlausibleEmail(email)) throw new PortcullisError('invalid_input', { message: 'Enter a valid email address.' });
  const user = await deps.store.users.findByEmail(email);
  if (!user || user.disabled) return;
  const link = await issueLink(deps, 'reset_password', '/password/reset', user.id, deps.resetPasswordTtlMs);
  await deps.mailer.enqueue(user.email, 'reset_password', { link, expiresInText: describeDuration(deps.resetPasswordTtlMs), ip: context.ip });
  await deps.store.events.append({ code: 'password_reset_requested', outcome: 'info', userId: user.id, identifier: user.email, ip: context.ip, userAgent: context.userAgent }, deps.clock.now());
}

export async function inspectResetLink(deps: AccountDeps, token: string): Promise<LinkCheck> {
  return inspectLink(deps.store.links, token, 'reset_password', deps.clock.now());
}

export type ResetResult = LinkCheck | { ok: false; reason: 'weak_password'; message: string };

export async function completePasswordReset(deps: AccountDeps, token: string, newPassword: string, context: RequestContext): Promise<ResetResult> {
  const problem = checkNewPassword(newPassword);
  if (problem) return { ok: false, reason: 'weak_password', message: problem.message };
  if (deps.breach && (await deps.breach.check(newPassword)).breached) return { ok: false, reason: 'weak_password', message: BREACHED_NEW_PASSWORD };
  // Hash before consuming so a slow hash cannot leave a consumed link with no password change.
  const passwordHash = await deps.hasher.hash(newPassword);
  const now = deps.clock.now();
  const check = await consumeLink(deps.store.links, token, 'reset_password', now);
  if (!check.ok || !check.link.userId) return check.ok ? { ok: false, reason: 'invalid' } : check;
  const user = await deps.store.users.findById(check.link.userId);
  if (!user) return { ok: false, reason: 'invalid' };
  await deps.store.users.setPasswordHash(user.id, passwordHash, now);
  // Following the emailed link proves control of the address.
  if (!user.emailVerified) await deps.store.users.setEmailVerified(user.id, now);
  await endAllSessions(deps, user.id);
  // A reset proves control of the mailbox, so every brute-force block on the account ends too.
  await deps.store.attempts.clearIdentifier(normaliseEmail(user.email));
  await deps.store.events.append({ code: 'password_reset', outcome: 'success', userId: user.id, identifier: user.email, ip: context.ip, userAgent: context.userAgent }, now);
  await deps.mailer.enqueue(user.email, 'password_changed', { at: new Date(now).toISOString(), ip: context.ip, resetUrl: `${deps.publicUrl}/password/forgot` });
  return check;
}
