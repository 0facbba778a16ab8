// The mail side of attack protection: block emails with an Unblock link, the one-time login link, and throttle alerts.
import { formatUtc } from '../domain/format-time.js';
import type { User } from '../domain/types.js';
import { orgAdmins } from '../admin/users.js';
import { consumeLink, type LinkCheck } from '../links/link-tokens.js';
import { describeDuration, issueLink, type AccountDeps, type RequestContext } from './account-deps.js';

export interface NoticeSettings {
  emailIntervalMs: number;
  unblockLinkTtlMs: number;
  loginLinkTtlMs: number;
  alertEmail: string;
  alertIntervalMs: number;
  throttleCapacity: number;
  threshold: number;
}


export function protectionNotices(deps: AccountDeps, settings: NoticeSettings) {
  return {
    /** Emails the owner an Unblock link, at most once per interval per (account, IP); never for unknown identifiers. */
    async onBlockStarted({ user, identifier, ip, ipKey }: { user: User | null; identifier: string; ip: string; ipKey: string }): Promise<void> {
      if (!user) return;
      const now = deps.clock.now();
      if (!(await deps.store.once.claim(`bf-mail:${user.id}:${ipKey}`, settings.emailIntervalMs, now))) return;
      const unblockLink = await issueLink(deps, 'unblock', '/unblock', user.id, settings.unblockLinkTtlMs, { identifier, ipKey, ip });
      await deps.mailer.enqueue(user.email, 'account_blocked', {
        ip,
        location: await deps.describeLocation(ip),
        at: formatUtc(now),
        attempts: settings.threshold,
        unblockLink,
        expiresInText: describeDuration(settings.unblockLinkTtlMs),
        resetUrl: `${deps.publicUrl}/password/forgot`,
      });
    },

    /** Tells the operator and the targeted user's organization admins, at most once per interval per IP each. */
    async onThrottled({ user, ip, ipKey }: { user: User | null; ip: string; ipKey: string }): Promise<void> {
      const now = deps.clock.now();
      const data = {
        ip,
        location: await deps.describeLocation(ip),
        at: formatUtc(now),
        capacity: settings.throttleCapacity,
        identifier: user?.email ?? null,
        releaseCommand: `portcullis ip release ${ipKey}`,
        consoleUrl: `${deps.publicUrl}/admin/events?ip=${encodeURIComponent(ip)}`,
      };
      const recipients: string[] = [];
      if (settings.alertEmail && (await deps.store.once.claim(`throttle-alert:operator:${ipKey}`, settings.alertIntervalMs, now))) recipients.push(settings.alertEmail);
      if (user?.orgId && (await deps.store.once.claim(`throttle-alert:org:${user.orgId}:${ipKey}`, settings.alertIntervalMs, now))) {
        recipients.push(...(await orgAdmins(deps, user.orgId)).map((admin) => admin.email));
      }
      for (const to of new Set(recipients)) await deps.mailer.enqueue(to, 'ip_throttled_alert', data);
    },
  };
}

/** Uses an Unblock link: lifts the block for that (account, IP) and sends a one-time login link in case a scanner clicked first. */
export async function unblockWithLink(deps: AccountDeps, settings: Pick<NoticeSettings, 'loginLinkTtlMs'>, token: string, context: RequestContext): Promise<LinkCheck> {
  const now = deps.clock.now();
  const check = await consumeLink(deps.store.links, token, 'unblock', now);
  if (!check.ok || !check.link.userId) return check.ok ? { ok: false, reason: 'invalid' } : check;
  const user = await deps.store.users.findById(check.link.userId);
  if (!user) return { ok: false, reason: 'invalid' };
  const identifier = String(check.link.data.identifier ?? '');
  const ipKey = String(check.link.data.ipKey ?? '');
  await deps.store.attempts.clear(identifier, ipKey);
  await deps.store.events.append({ code: 'login_unblocked', outcome: 'success', userId: user.id, identifier, ip: context.ip, reason: 'unblock_link', details: { ip_key: ipKey } }, now);
  const link = await issueLink(deps, 'login', '/login-link', user.id, settings.loginLinkTtlMs);
  await deps.mailer.enqueue(user.email, 'login_link', { link, expiresInText: describeDuration(settings.loginLinkTtlMs) });
  return check;
}

/**
 * Uses a one-time login link; the caller then creates the session through the normal path, or sends the user to the
 * second factor when `needsSecondFactor` says one is enrolled. The link alone is then not yet a sign-in: it records
 * `mfa_required`, and `login_link_used` is recorded when the session starts (the login steps).
 */
export async function useLoginLink(
  deps: AccountDeps,
  token: string,
  context: RequestContext,
  needsSecondFactor: (user: User) => Promise<boolean>,
): Promise<{ ok: true; user: User; secondFactor: boolean } | { ok: false; reason: 'invalid' | 'used' | 'expired' }> {
  const now = deps.clock.now();
  const check = await consumeLink(deps.store.links, token, 'login', now);
  if (!check.ok) return check;
  const user = check.link.userId ? await deps.store.users.findById(check.link.userId) : null;
  if (!user || user.disabled) return { ok: false, reason: 'invalid' };
  const secondFactor = await needsSecondFactor(user);
  const common = { userId: user.id, identifier: user.email, ip: context.ip, userAgent: context.userAgent, reason: 'login_link' };
  await deps.store.events.append(secondFactor ? { ...common, code: 'mfa_required', outcome: 'info' } : { ...common, code: 'login_link_used', outcome: 'success' }, now);
  return { ok: true, user, secondFactor };
}
