// Breached passwords: refused whenever a password is set (NIST 800-63B), and a login with one waits for a reset.
import { formatUtc } from '../domain/format-time.js';
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
  /** Admins are told at each blocked login (`immediate`), in one summary a day (`daily`, see sendBreachDigests), or not. */
  notifyAdmins: 'off' | 'immediate' | 'daily';
  emailIntervalMs: number;
}

const DAY = 86_400_000;

/** The daily summary: per organization, the breached-password logins of the previous UTC day, sent once. */
export async function sendBreachDigests(deps: AccountDeps, now: number): Promise<number> {
  const dayStart = now - (now % DAY) - DAY;
  const events = (await deps.store.events.list({ code: 'pwd_leak', since: dayStart, limit: 10_000 })).filter((e) => e.at < dayStart + DAY && e.userId);
  const byOrg = new Map<string, { email: string; at: string; ip: string | null }[]>();
  for (const event of events) {
    const user = await deps.store.users.findById(event.userId as string);
    if (!user?.orgId) continue;
    const list = byOrg.get(user.orgId) ?? [];
    list.push({ email: user.email, at: new Date(event.at).toISOString().slice(11, 16) + ' UTC', ip: event.ip });
    byOrg.set(user.orgId, list);
  }
  let sent = 0;
  const day = new Date(dayStart).toISOString().slice(0, 10);
  for (const [orgId, logins] of byOrg) {
    if (!(await deps.store.once.claim(`breach-digest:${orgId}:${day}`, 2 * DAY, now))) continue;
    for (const admin of await orgAdmins(deps, orgId)) {
      await deps.mailer.enqueue(admin.email, 'password_breached_digest', { day, logins: logins.reverse(), consoleUrl: `${deps.publicUrl}/admin/events?code=pwd_leak` });
      sent++;
    }
  }
  return sent;
}

/** Emails the user a reset link (at most once per interval) and, if configured, the organization's admins. */
export async function onBreachedLogin(deps: AccountDeps, settings: BreachNoticeSettings, user: User, ip: string | null): Promise<void> {
  const now = deps.clock.now();
  if (!(await deps.store.once.claim(`breach-mail:${user.id}`, settings.emailIntervalMs, now))) return;
  if (settings.notifyUser) {
    const resetLink = await issueLink(deps, 'reset_password', '/password/reset', user.id, deps.resetPasswordTtlMs);
    await deps.mailer.enqueue(user.email, 'password_breached', { resetLink, expiresInText: describeDuration(deps.resetPasswordTtlMs), ip });
  }
  if (settings.notifyAdmins === 'immediate' && user.orgId) {
    const at = formatUtc(now);
    for (const admin of await orgAdmins(deps, user.orgId)) {
      await deps.mailer.enqueue(admin.email, 'password_breached_admin', { userEmail: user.email, at, ip, consoleUrl: `${deps.publicUrl}/admin/users/${encodeURIComponent(user.id)}` });
    }
  }
}
