// Self-service sign-up: the response never reveals whether the email is registered; the existing owner gets an email instead.
import { PortcullisError } from '../domain/errors.js';
import { checkNewPassword, isPlausibleEmail } from '../authn/password-policy.js';
import { describeDuration, issueLink, type AccountDeps, type RequestContext } from './account-deps.js';
import { consumeLink, type LinkCheck } from '../links/link-tokens.js';
import { rejectBreachedPassword } from './breached-password.js';

export interface SignupInput {
  email: string;
  password: string;
  name: string | null;
}

/** Validates the input; the caller shows the same "check your email" page whatever happens next. */
export function validateSignup(input: SignupInput): void {
  if (!isPlausibleEmail(input.email)) throw new PortcullisError('invalid_input', { message: 'Enter a valid email address.' });
  const problem = checkNewPassword(input.password);
  if (problem) throw new PortcullisError('invalid_input', { message: problem.message });
  if (input.name !== null && input.name.length > 100) throw new PortcullisError('invalid_input', { message: 'Use at most 100 characters for your name.' });
}

export async function signUp(deps: AccountDeps, input: SignupInput, context: RequestContext): Promise<void> {
  validateSignup(input);
  await rejectBreachedPassword(deps.breach, input.password);
  const now = deps.clock.now();
  const existing = await deps.store.users.findByEmail(input.email);
  if (existing) {
    // Spend the same hashing work as a real sign-up so timing does not reveal the account either.
    await deps.hasher.hash(input.password);
    // At most one such email per hour per account, so sign-ups from many IPs cannot flood the owner's inbox.
    if (await deps.store.once.claim(`signup-existing:${existing.id}`, 3_600_000, now)) {
      await deps.mailer.enqueue(existing.email, 'signup_existing_account', { loginUrl: `${deps.publicUrl}/account`, resetUrl: `${deps.publicUrl}/password/forgot` });
    }
    await deps.store.events.append({ code: 'signup_existing_email', outcome: 'info', userId: existing.id, identifier: input.email, ip: context.ip, userAgent: context.userAgent }, now);
    return;
  }
  const passwordHash = await deps.hasher.hash(input.password);
  let user;
  try {
    user = await deps.store.users.create({ email: input.email, name: input.name, passwordHash, emailVerified: false }, now);
  } catch (error) {
    // Lost a race with a parallel sign-up for the same address: behave as for an existing account.
    if (error instanceof PortcullisError && error.code === 'conflict') return;
    throw error;
  }
  await deps.store.events.append({ code: 'signup', outcome: 'success', userId: user.id, identifier: user.email, ip: context.ip, userAgent: context.userAgent }, now);
  await sendVerification(deps, user.id, user.email);
}

export async function sendVerification(deps: AccountDeps, userId: string, email: string): Promise<void> {
  const link = await issueLink(deps, 'verify_email', '/email/verify', userId, deps.verifyEmailTtlMs, { email });
  await deps.mailer.enqueue(email, 'verify_email', { link, expiresInText: describeDuration(deps.verifyEmailTtlMs) });
}

/** Consumes a verification link. The link is bound to the address it was sent to. */
export async function confirmEmail(deps: AccountDeps, token: string, context: RequestContext): Promise<LinkCheck> {
  const now = deps.clock.now();
  const check = await consumeLink(deps.store.links, token, 'verify_email', now);
  if (!check.ok || !check.link.userId) return check;
  const user = await deps.store.users.findById(check.link.userId);
  if (!user || user.email.toLowerCase() !== String(check.link.data.email ?? '').toLowerCase()) return { ok: false, reason: 'invalid' };
  await deps.store.users.setEmailVerified(user.id, now);
  await deps.store.events.append({ code: 'email_verified', outcome: 'success', userId: user.id, identifier: user.email, ip: context.ip }, now);
  return check;
}

/** Re-sends a verification link at most once per window, so a login loop cannot flood the mailbox. */
export async function resendVerification(deps: AccountDeps, userId: string, email: string, windowMs = 15 * 60_000): Promise<boolean> {
  if (!(await deps.store.once.claim(`verify-resend:${userId}`, windowMs, deps.clock.now()))) return false;
  await sendVerification(deps, userId, email);
  return true;
}
