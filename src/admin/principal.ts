// Who is acting in the console or the API, and what they may touch: operators everything, organization admins their
// organization. Scopes come from the API token (the console grants a signed-in admin every scope).
import { PortcullisError } from '../domain/errors.js';
import type { User } from '../domain/types.js';

export const ADMIN_SCOPES = ['users:read', 'users:write', 'security:read', 'security:write'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export interface Principal {
  kind: 'operator' | 'org_admin';
  /** Set for organization admins: every read and write is confined to it. */
  orgId: string | null;
  scopes: ReadonlySet<AdminScope>;
  /** Recorded with every action: "user:<id>" for the console, "client:<id>" for the API. */
  actor: string;
}

export function requireScope(principal: Principal, scope: AdminScope): void {
  if (!principal.scopes.has(scope)) throw new PortcullisError('forbidden', { message: `This needs the "${scope}" scope.` });
}

export function requireOperator(principal: Principal): void {
  if (principal.kind !== 'operator') throw new PortcullisError('forbidden', { message: 'Only operators can do this.' });
}

/** A user outside the principal's organization is reported as not found, so ids of other organizations leak nothing. */
export function assertVisible(principal: Principal, user: User | null): User {
  if (!user || (principal.orgId !== null && user.orgId !== principal.orgId)) throw new PortcullisError('not_found', { message: 'No user with this id.' });
  return user;
}

/** The console's principal for a signed-in user, or null when they may not use it. */
export function consolePrincipal(user: User): Principal | null {
  if (user.disabled) return null;
  const scopes = new Set(ADMIN_SCOPES);
  if (user.operator) return { kind: 'operator', orgId: null, scopes, actor: `user:${user.id}` };
  if (user.role === 'admin' && user.orgId) return { kind: 'org_admin', orgId: user.orgId, scopes, actor: `user:${user.id}` };
  return null;
}

/** Drops management-API scopes from a scope string: a login never grants them, only client credentials do. */
export const withoutAdminScopes = (scope: string): string =>
  scope
    .split(' ')
    .filter((s) => s && !(ADMIN_SCOPES as readonly string[]).includes(s))
    .join(' ');
