// Breached passwords: refused whenever a password is set (NIST 800-63B), and a login with one waits for a reset.
import { PortcullisError } from '../domain/errors.js';
import type { User } from '../domain/types.js';
import { orgAdmins } from '../admin/users.js';
import { describeDuration, issueLink, type AccountDeps } from './account-deps.js';

export interface PasswordBreachCheck {
  check(password: string): Promise<{ breached: boolean; source: string }>;
}

export const BREACHED_NEW_PASSWORD =
  'This password appears in a list of passwords exposed in data breaches, so attackers try it first. Choose a different one: a long passphrase you have not used anywhere else works well.';

/** Throws a clear input error when a new password is known to attackers. */
export async function rejectBreachedPassword(breach: PasswordBreachCheck | undefined, password: string): Promise<void> {
  if (!breach) return;
  const verdict = await breach.check(password);
  if (verdict.breached) throw new PortcullisError('invalid_input', { message: BREACHED_NEW_PASSWORD });
}

export interface BreachNoticeSettings {
  notifyUser: boolean;
  notifyAdmins: boolean;
  emailIntervalMs: number;
}

/** Emails the user a reset link (at most once per interval) and, if configured, the organization's admins. */
export async function onBreachedLogin(deps: AccountDeps, settings: BreachNoticeSettings, user: User, ip: string | null): Promise<void> {
  const now = deps.clock.now();
  if (!(await deps.store.once.claim(`breach-mail:${user.id}`, settings.emailIntervalMs, now))) return;
  if (settings.notifyUser) {
    const resetLink = await issueLink(deps, 'reset_password', '/password/reset', user.id, deps.resetPasswordTtlMs);
    await deps.mailer.enqueue(user.email, 'password_breached', { resetLink, expiresInText: describeDuration(deps.resetPasswordTtlMs), ip });
  }
  if (settings.notifyAdmins && user.orgId) {
    const at = new Date(now).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    for (const admin of await orgAdmins(deps, user.orgId)) {
      await deps.mailer.enqueue(admin.email, 'password_breached_admin', { userEmail: user.email, at, ip, consoleUrl: `${deps.publicUrl}/` });
    }
  }
}
