// The account side of risk assessment: admin alerts, the new-device email, and the emailed step-up code.
import { randomInt } from 'node:crypto';
import { formatUtc } from '../domain/format-time.js';
import type { User } from '../domain/types.js';
import { hmac } from '../crypto/hmac.js';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { orgAdmins } from '../admin/users.js';
import { ipKey } from '../protection/ip/ip-key.js';
import type { RiskAssessment, RiskGuard } from '../protection/risk/risk-guard.js';
import { describeFamily } from '../protection/risk/device-family.js';
import type { LoginRecorder, StepUpPort } from '../http/login/ports.js';
import { describeDuration, type AccountDeps } from './account-deps.js';

export interface RiskNoticeSettings {
  notifyAdmins: boolean;
  adminAlertIntervalMs: number;
  notifyNewDevice: boolean;
  emailCodeTtlMs: number;
  /** Keys the step-up code hash kept in the login flow. */
  codeKey: Buffer;
}

/** Emails every admin of the user's organization, at most once per interval per (user, IP). */
export async function alertAdmins(deps: AccountDeps, settings: RiskNoticeSettings, args: { user: User; ip: string; assessment: RiskAssessment }): Promise<number> {
  const { user, ip, assessment } = args;
  if (!settings.notifyAdmins || !user.orgId || (assessment.action !== 'block' && assessment.action !== 'require_mfa')) return 0;
  const now = deps.clock.now();
  if (!(await deps.store.once.claim(`risk-alert:${user.id}:${ipKey(ip)}`, settings.adminAlertIntervalMs, now))) return 0;
  const admins = await orgAdmins(deps, user.orgId);
  const data = {
    userEmail: user.email,
    ip,
    location: assessment.location,
    device: describeFamily(assessment.device),
    at: formatUtc(now),
    reasons: assessment.reasons,
    action: assessment.action === 'block' ? ('blocked' as const) : ('step_up' as const),
    consoleUrl: `${deps.publicUrl}/admin/users/${encodeURIComponent(user.id)}`,
  };
  for (const admin of admins) await deps.mailer.enqueue(admin.email, 'risk_alert_admin', data);
  return admins.length;
}

/** Remembers the device and place of every completed login, and tells the user about a sign-in from a new device. */
export function loginRecorder(deps: AccountDeps, guard: RiskGuard, settings: Pick<RiskNoticeSettings, 'notifyNewDevice'>): LoginRecorder {
  return {
    async recordLogin(user, context) {
      const now = deps.clock.now();
      const record = await guard.recordLogin({ userId: user.id, ip: context.ip, userAgent: context.userAgent, deviceToken: context.deviceToken }, now, context.riskFacts);
      // The very first sign-in has nothing to compare with, so it sends nothing.
      if (!settings.notifyNewDevice || !record.newDevice || !record.hadBaseline) return;
      await deps.mailer.enqueue(user.email, 'new_sign_in', {
        at: formatUtc(now),
        ip: context.ip,
        location: record.location,
        device: describeFamily(record.device),
        accountUrl: `${deps.publicUrl}/account`,
        resetUrl: `${deps.publicUrl}/password/forgot`,
      });
    },
  };
}

const codeHash = (key: Buffer, userId: string, code: string): string => hmac(key, `${userId}:${code}`);

export function stepUpPort(deps: AccountDeps, settings: Pick<RiskNoticeSettings, 'emailCodeTtlMs' | 'codeKey'>): StepUpPort {
  return {
    hasPasskeys: async (userId) => (await deps.store.passkeys.countForUser(userId)) > 0,
    async sendEmailCode(user, context) {
      const now = deps.clock.now();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await deps.mailer.enqueue(user.email, 'login_code', {
        code,
        expiresInText: describeDuration(settings.emailCodeTtlMs),
        ip: context.ip,
        location: await deps.describeLocation(context.ip),
        resetUrl: `${deps.publicUrl}/password/forgot`,
      });
      await deps.store.events.append({ code: 'step_up_email_sent', outcome: 'info', userId: user.id, ip: context.ip, reason: 'risk_require_mfa' }, now);
      return { hash: codeHash(settings.codeKey, user.id, code), expiresAt: now + settings.emailCodeTtlMs };
    },
    emailCodeMatches(user, code, stored) {
      return constantTimeEqual(codeHash(settings.codeKey, user.id, code), stored.hash);
    },
  };
}
