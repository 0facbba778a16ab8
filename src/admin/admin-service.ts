// The console's and the API's use-cases, confined by the principal: users, blocks, 2FA, passkeys, sessions, events and
// runtime settings. Every change is recorded in the event log with the actor.
import { PortcullisError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Role, Session, User } from '../domain/types.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { Mailer } from '../mail/templates/template-types.js';
import type { EventQuery, KnownDevice, SettingsRecord, Store } from '../store/store.js';
import type { EventCode, SecurityEvent } from '../events/event-codes.js';
import { isPlausibleEmail } from '../authn/password-policy.js';
import { normaliseEmail } from '../store/sql/sql-users.js';
import { createUser } from './users.js';
import { listBlocks, listThrottled, releaseIp, unblockIdentifier, type BlockedPair, type ThrottledIp } from './protection.js';
import { hasTwoFactor, resetTwoFactor } from '../account/two-factor.js';
import { listPasskeys, type PasskeyView } from '../account/passkeys.js';
import { endAllSessions } from '../account/account-deps.js';
import { sessionState, type SessionLimits } from '../sessions/session-policy.js';
import { limitsFor } from '../sessions/session-policy.js';
import type { RuntimeSettings } from '../settings/runtime-settings.js';
import { assertVisible, requireOperator, requireScope, type Principal } from './principal.js';

export interface AdminServiceDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  mailer: Mailer;
  publicUrl: string;
  breach?: { check(password: string): Promise<{ breached: boolean; source: string }> };
  settings: RuntimeSettings;
  sessionLimits: SessionLimits;
  deviceRememberMs: number;
  describeLocation(ip: string | null): Promise<string>;
  /** Tells a session's apps now (back-channel logout); used before a deletion removes what the sweep would need. */
  notifySessionEnded?(sessionId: string): Promise<number>;
}

export interface UserSummary {
  id: string;
  email: string;
  name: string | null;
  emailVerified: boolean;
  orgId: string | null;
  role: Role;
  operator: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SessionSummary {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  location: string;
  userAgent: string | null;
  expiresAt: number | null;
}

export interface UserDetail {
  user: UserSummary;
  org: { id: string; name: string } | null;
  twoFactor: { totp: boolean; recoveryCodesLeft: number };
  passkeys: PasskeyView[];
  sessions: SessionSummary[];
  devices: KnownDevice[];
  events: SecurityEvent[];
}

export const summarizeUser = (u: User): UserSummary => ({
  id: u.id,
  email: u.email,
  name: u.name,
  emailVerified: u.emailVerified,
  orgId: u.orgId,
  role: u.role,
  operator: u.operator,
  disabled: u.disabled,
  createdAt: u.createdAt,
  updatedAt: u.updatedAt,
});

/** Event codes that make up "suspicious" on the dashboard. */
export const SUSPICIOUS_CODES: readonly EventCode[] = ['login_block_started', 'ip_throttled', 'captcha_failed', 'pwd_leak', 'risk_blocked', 'risk_mfa', 'passkey_clone_suspected', 'mfa_attempts_exceeded'];

export function createAdminService(deps: AdminServiceDeps) {
  const { store, clock } = deps;

  async function visibleUser(principal: Principal, id: string): Promise<User> {
    return assertVisible(principal, await store.users.findById(id));
  }

  /** For changes: an operator's account is an operator's business, even when they belong to the admin's organization. */
  async function manageableUser(principal: Principal, id: string): Promise<User> {
    const user = await visibleUser(principal, id);
    if (user.operator && principal.kind !== 'operator') throw new PortcullisError('forbidden', { message: "Only operators can change an operator's account." });
    return user;
  }

  async function record(principal: Principal, code: EventCode, user: User | null, details: Record<string, unknown> = {}): Promise<void> {
    await store.events.append({ code, outcome: 'info', userId: user?.id ?? null, identifier: user?.email ?? null, reason: 'admin', details: { actor: principal.actor, ...details } }, clock.now());
  }

  async function sessionsOf(user: User): Promise<SessionSummary[]> {
    const now = clock.now();
    const open = await store.sessions.listActiveForUser(user.id);
    const out: SessionSummary[] = [];
    for (const s of open) {
      const state = sessionState(s, limitsFor(s, deps.sessionLimits), now);
      if (!state.active) continue;
      out.push({ id: s.id, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, ip: s.ip, location: await deps.describeLocation(s.ip), userAgent: s.userAgent, expiresAt: state.expiry.expiresAt });
    }
    return out;
  }

  /** Blocked pairs whose identifier belongs to the principal's organization (all of them for operators). */
  async function visibleBlocks(principal: Principal, pairs: BlockedPair[]): Promise<BlockedPair[]> {
    if (principal.orgId === null) return pairs;
    const out: BlockedPair[] = [];
    for (const pair of pairs) {
      const user = await store.users.findByEmail(pair.identifier);
      if (user?.orgId === principal.orgId) out.push(pair);
    }
    return out;
  }

  return {
    async listUsers(principal: Principal, options: { query?: string; limit?: number; offset?: number } = {}) {
      requireScope(principal, 'users:read');
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
      const offset = Math.max(options.offset ?? 0, 0);
      const found = await store.users.search({ query: options.query?.slice(0, 200), orgId: principal.orgId ?? undefined, limit, offset });
      return { users: found.users.map(summarizeUser), total: found.total, limit, offset };
    },

    async getUser(principal: Principal, id: string): Promise<UserSummary> {
      requireScope(principal, 'users:read');
      return summarizeUser(await visibleUser(principal, id));
    },

    async userDetail(principal: Principal, id: string): Promise<UserDetail> {
      requireScope(principal, 'users:read');
      const user = await visibleUser(principal, id);
      const org = user.orgId ? await store.orgs.findById(user.orgId) : null;
      const now = clock.now();
      return {
        user: summarizeUser(user),
        org: org ? { id: org.id, name: org.name } : null,
        twoFactor: { totp: await hasTwoFactor(deps, user.id), recoveryCodesLeft: await store.mfa.countRecoveryCodes(user.id) },
        passkeys: await listPasskeys(deps, user),
        sessions: await sessionsOf(user),
        devices: await store.devices.listForUser(user.id, now - deps.deviceRememberMs),
        events: (await store.events.query({ userId: user.id, limit: 50 })).events,
      };
    },

    async createUser(principal: Principal, input: { email: string; name?: string | null; password?: string | null; role?: Role; orgId?: string | null }): Promise<UserSummary> {
      requireScope(principal, 'users:write');
      const orgId = principal.orgId ?? input.orgId ?? null;
      const org = orgId ? await store.orgs.findById(orgId) : null;
      if (orgId && !org) throw new PortcullisError('invalid_input', { message: 'No organization with this id.' });
      const role = input.role ?? 'member';
      if (role === 'admin' && !org) throw new PortcullisError('invalid_input', { message: 'Only a member of an organization can be its admin.' });
      const user = await createUser(deps, { email: input.email, name: input.name ?? null, password: input.password ?? null, orgName: org?.name ?? null, role, emailVerified: true });
      await record(principal, 'user_updated', user, { change: 'created' });
      return summarizeUser(user);
    },

    async updateUser(principal: Principal, id: string, changes: { name?: string | null; email?: string; role?: Role; disabled?: boolean }): Promise<UserSummary> {
      requireScope(principal, 'users:write');
      if (Object.values(changes).every((v) => v === undefined)) throw new PortcullisError('invalid_input', { message: 'Nothing to change: send at least one of name, email, role or disabled.' });
      const user = await manageableUser(principal, id);
      const now = clock.now();
      const changed: string[] = [];
      if (changes.name !== undefined && changes.name !== user.name) {
        const name = changes.name === null ? null : changes.name.trim().slice(0, 100) || null;
        await store.users.setName(user.id, name, now);
        changed.push('name');
      }
      if (changes.email !== undefined && normaliseEmail(changes.email) !== normaliseEmail(user.email)) {
        if (!isPlausibleEmail(changes.email.trim())) throw new PortcullisError('invalid_input', { message: `"${changes.email}" is not a valid email address.` });
        await store.users.setEmail(user.id, changes.email.trim(), now);
        changed.push('email');
      }
      if (changes.role !== undefined && changes.role !== user.role) {
        if (changes.role === 'admin' && !user.orgId) throw new PortcullisError('invalid_input', { message: 'Only a member of an organization can be its admin.' });
        await store.users.setMembership(user.id, user.orgId, changes.role, now);
        changed.push('role');
      }
      if (changes.name !== undefined || changes.email !== undefined || changes.role !== undefined) {
        if (changed.length > 0) await record(principal, 'user_updated', user, { changed });
      }
      if (changes.disabled !== undefined && changes.disabled !== user.disabled) {
        await (changes.disabled ? this.disableUser(principal, id) : this.enableUser(principal, id));
      }
      return summarizeUser(await visibleUser(principal, id));
    },

    async disableUser(principal: Principal, id: string): Promise<void> {
      requireScope(principal, 'users:write');
      const user = await manageableUser(principal, id);
      if (principal.actor === `user:${user.id}`) throw new PortcullisError('invalid_input', { message: 'You cannot disable your own account.' });
      await store.users.setDisabled(user.id, true, clock.now());
      await endAllSessions(deps, user.id);
      await record(principal, 'user_disabled', user);
    },

    async enableUser(principal: Principal, id: string): Promise<void> {
      requireScope(principal, 'users:write');
      const user = await manageableUser(principal, id);
      await store.users.setDisabled(user.id, false, clock.now());
      await record(principal, 'user_enabled', user);
    },

    async deleteUser(principal: Principal, id: string): Promise<void> {
      requireScope(principal, 'users:write');
      const user = await manageableUser(principal, id);
      if (principal.actor === `user:${user.id}`) throw new PortcullisError('invalid_input', { message: 'You cannot delete your own account.' });
      const open = await store.sessions.listActiveForUser(user.id);
      await store.sessions.revokeAllForUser(user.id, clock.now());
      // The deletion removes the provider sessions the sweep would read, so the apps are told first.
      for (const session of open) await deps.notifySessionEnded?.(session.id).catch(() => 0);
      await store.users.delete(user.id);
      await record(principal, 'user_deleted', user);
    },

    async listBlocks(principal: Principal): Promise<{ blocks: BlockedPair[]; throttled: ThrottledIp[] }> {
      requireScope(principal, 'security:read');
      const { bruteForce, throttle } = deps.settings.current();
      const blocks = await visibleBlocks(principal, await listBlocks(store, clock, bruteForce.threshold, bruteForce.blockDuration));
      // Throttled IPs span every account, so they are an operator's view.
      const throttled = principal.kind === 'operator' ? await listThrottled(store, clock, { capacity: throttle.failedLoginsPerDay, refillMs: throttle.refillEvery }) : [];
      return { blocks, throttled };
    },

    async unblock(principal: Principal, identifier: string, ip: string | null): Promise<number> {
      requireScope(principal, 'security:write');
      if (principal.orgId !== null) assertVisible(principal, await store.users.findByEmail(identifier));
      return unblockIdentifier(store, clock, identifier, ip, principal.actor);
    },

    async releaseIp(principal: Principal, ip: string): Promise<boolean> {
      requireScope(principal, 'security:write');
      requireOperator(principal);
      return releaseIp(store, clock, ip, principal.actor);
    },

    async resetTwoFactor(principal: Principal, userId: string): Promise<{ removed: boolean }> {
      requireScope(principal, 'security:write');
      const user = await manageableUser(principal, userId);
      return resetTwoFactor(deps, user.id, { via: 'admin', adminUserId: principal.actor });
    },

    async listPasskeys(principal: Principal, userId: string): Promise<PasskeyView[]> {
      requireScope(principal, 'security:read');
      return listPasskeys(deps, await visibleUser(principal, userId));
    },

    async deletePasskey(principal: Principal, userId: string, credentialId: string): Promise<boolean> {
      requireScope(principal, 'security:write');
      const user = await manageableUser(principal, userId);
      const removed = await store.passkeys.remove(user.id, credentialId);
      if (removed) await record(principal, 'admin_passkey_removed', user, { credentialId });
      return removed;
    },

    async listSessions(principal: Principal, userId: string): Promise<SessionSummary[]> {
      requireScope(principal, 'security:read');
      return sessionsOf(await visibleUser(principal, userId));
    },

    /** Ends one session (`sessionId`) or all of them; their apps are told at the next session sweep. */
    async revokeSessions(principal: Principal, userId: string, sessionId: string | null): Promise<number> {
      requireScope(principal, 'security:write');
      const user = await manageableUser(principal, userId);
      let count: number;
      if (sessionId) {
        const session: Session | null = await store.sessions.findById(sessionId);
        if (!session || session.userId !== user.id) throw new PortcullisError('not_found', { message: 'No session with this id for this user.' });
        count = (await store.sessions.revoke(session.id, clock.now(), 'revoked')) ? 1 : 0;
      } else {
        count = await endAllSessions(deps, user.id);
      }
      await record(principal, 'admin_sessions_revoked', user, { sessionId, count });
      return count;
    },

    async queryEvents(principal: Principal, filter: Omit<EventQuery, 'orgId'>): Promise<{ events: SecurityEvent[]; next: string | null }> {
      requireScope(principal, 'security:read');
      const limit = Math.min(Math.max(filter.limit, 1), 200);
      return store.events.query({ ...filter, limit, ...(principal.orgId ? { orgId: principal.orgId } : {}) });
    },

    async eventHistogram(principal: Principal, options: { codes: readonly EventCode[]; since: number; until: number; bucketMs: number }) {
      requireScope(principal, 'security:read');
      return store.events.histogram({ ...options, ...(principal.orgId ? { orgId: principal.orgId } : {}) });
    },

    async getSettings(principal: Principal): Promise<{ effective: ReturnType<RuntimeSettings['current']>; overlay: SettingsRecord | null }> {
      requireScope(principal, 'security:read');
      requireOperator(principal);
      await deps.settings.refresh();
      return { effective: deps.settings.current(), overlay: deps.settings.overlay() };
    },

    async updateSettings(principal: Principal, patch: unknown): Promise<SettingsRecord> {
      requireScope(principal, 'security:write');
      requireOperator(principal);
      const stored = await deps.settings.update(patch, principal.actor);
      await store.events.append({ code: 'settings_changed', outcome: 'info', reason: 'admin', details: { actor: principal.actor, revision: stored.revision, patch: patch as Record<string, unknown> } }, clock.now());
      return stored;
    },

    async settingsHistory(principal: Principal, limit = 20): Promise<SettingsRecord[]> {
      requireScope(principal, 'security:read');
      requireOperator(principal);
      return deps.settings.history(limit);
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
