// Changes a signed-in user makes on the account page: password, email, profile and sessions.
import { PortcullisError } from '../domain/errors.js';
import type { User } from '../domain/types.js';
import { checkNewPassword, isPlausibleEmail } from '../authn/password-policy.js';
import { consumeLink, type LinkCheck } from '../links/link-tokens.js';
import { rejectBreachedPassword } from './breached-password.js';
import { describeDuration, endAllSessions, issueLink, type AccountDeps, type RequestContext } from './account-deps.js';

async function requireCurrentPassword(deps: AccountDeps, user: User, password: string, context: RequestContext): Promise<void> {
  const ok = user.passwordHash ? await deps.hasher.verify(user.passwordHash, password) : (await deps.hasher.dummyVerify(password), false);
  if (!ok) {
    await deps.store.events.append({ code: 'password_change_failed', outcome: 'failure', userId: user.id, ip: context.ip, userAgent: context.userAgent, reason: 'wrong_current_password' }, deps.clock.now());
    throw new PortcullisError('invalid_input', { message: 'Your current password is not correct.' });
  }
}

/** Changes the password; every other session and all refresh tokens end, the current session stays. */
export async function changePassword(deps: AccountDeps, user: User, currentSessionId: string, current: string, next: string, context: RequestContext): Promise<void> {
  const problem = checkNewPassword(next);
  if (problem) throw new PortcullisError('invalid_input', { message: `New password: ${problem.message}` });
  await requireCurrentPassword(deps, user, current, context);
  await rejectBreachedPassword(deps.breach, next);
  const now = deps.clock.now();
  await deps.store.users.setPasswordHash(user.id, await deps.hasher.hash(next), now);
  for (const session of await deps.store.sessions.listActiveForUser(user.id)) {
    if (session.id !== currentSessionId) await deps.store.sessions.revoke(session.id, now);
  }
  await deps.store.oidc.revokeByAccountId(user.id);
  await deps.store.events.append({ code: 'password_changed', outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent }, now);
  await deps.mailer.enqueue(user.email, 'password_changed', { at: new Date(now).toISOString(), ip: context.ip, resetUrl: `${deps.publicUrl}/password/forgot` });
}

/** Sends a confirmation link to the new address; nothing changes until it is used. */
export async function requestEmailChange(deps: AccountDeps, user: User, newEmail: string, password: string, context: RequestContext): Promise<void> {
  const email = newEmail.trim();
  if (!isPlausibleEmail(email)) throw new PortcullisError('invalid_input', { message: 'Enter a valid new email address.' });
  if (email.toLowerCase() === user.email.toLowerCase()) throw new PortcullisError('invalid_input', { message: 'That is already your email address.' });
  await requireCurrentPassword(deps, user, password, context);
  // A taken address gets no link and the same answer, so the page cannot be used to probe for accounts.
  if (await deps.store.users.findByEmail(email)) return;
  const link = await issueLink(deps, 'change_email', '/email/change', user.id, deps.verifyEmailTtlMs, { newEmail: email, oldEmail: user.email });
  await deps.mailer.enqueue(email, 'email_change_verify', { link, newEmail: email, expiresInText: describeDuration(deps.verifyEmailTtlMs) });
  await deps.store.events.append({ code: 'email_change_requested', outcome: 'info', userId: user.id, ip: context.ip, details: { newEmail: email } }, deps.clock.now());
}

export async function confirmEmailChange(deps: AccountDeps, token: string, context: RequestContext): Promise<LinkCheck | { ok: false; reason: 'taken' }> {
  const now = deps.clock.now();
  const check = await consumeLink(deps.store.links, token, 'change_email', now);
  if (!check.ok || !check.link.userId) return check.ok ? { ok: false, reason: 'invalid' } : check;
  const user = await deps.store.users.findById(check.link.userId);
  const newEmail = String(check.link.data.newEmail ?? '');
  if (!user || user.email !== check.link.data.oldEmail) return { ok: false, reason: 'invalid' };
  try {
    await deps.store.users.setEmail(user.id, newEmail, now);
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'conflict') return { ok: false, reason: 'taken' };
    throw error;
  }
  await deps.store.users.setEmailVerified(user.id, now);
  await deps.store.events.append({ code: 'email_changed', outcome: 'success', userId: user.id, ip: context.ip, details: { oldEmail: user.email, newEmail } }, now);
  const data = { oldEmail: user.email, newEmail, at: new Date(now).toISOString(), resetUrl: `${deps.publicUrl}/password/forgot` };
  await deps.mailer.enqueue(user.email, 'email_changed', data);
  return check;
}

export async function updateProfile(deps: AccountDeps, user: User, name: string): Promise<void> {
  const trimmed = name.trim();
  if (trimmed.length > 100) throw new PortcullisError('invalid_input', { message: 'Use at most 100 characters for your name.' });
  await deps.store.users.setName(user.id, trimmed || null, deps.clock.now());
  await deps.store.events.append({ code: 'profile_updated', outcome: 'info', userId: user.id }, deps.clock.now());
}

/** Logs out one of the user's own sessions; sessions of other users are not found. */
export async function revokeOwnSession(deps: AccountDeps, user: User, sessionId: string, context: RequestContext): Promise<boolean> {
  const session = await deps.store.sessions.findById(sessionId);
  if (!session || session.userId !== user.id) return false;
  const revoked = await deps.store.sessions.revoke(session.id, deps.clock.now());
  if (revoked) await deps.store.events.append({ code: 'session_revoked', outcome: 'info', userId: user.id, ip: context.ip, details: { sessionId: session.id } }, deps.clock.now());
  return revoked;
}

export async function logoutEverywhere(deps: AccountDeps, user: User, context: RequestContext): Promise<void> {
  await endAllSessions(deps, user.id);
  await deps.store.events.append({ code: 'logout_everywhere', outcome: 'info', userId: user.id, ip: context.ip }, deps.clock.now());
}
