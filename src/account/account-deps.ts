// What the account use-cases need: the store, hashing, mail and time. No HTTP here.
import type { Clock } from '../domain/clock.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { Mailer } from '../mail/templates/template-types.js';
import type { Store } from '../store/store.js';
import type { LinkPurpose } from '../domain/types.js';
import { createToken } from '../crypto/tokens.js';

export interface AccountDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  mailer: Mailer;
  publicUrl: string;
  verifyEmailTtlMs: number;
  resetPasswordTtlMs: number;
  /** Human location of an IP ("Berlin, Germany", "Local or private network"), from the GeoIP database. */
  describeLocation(ip: string | null): Promise<string>;
  /** Refuses breached passwords wherever a password is set. */
  breach?: { check(password: string): Promise<{ breached: boolean; source: string }> };
}

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
}

/** Creates a single-use link and returns its absolute URL; only the secret's hash is stored. */
export async function issueLink(deps: AccountDeps, purpose: LinkPurpose, path: string, userId: string, ttlMs: number, data: Record<string, unknown> = {}): Promise<string> {
  const now = deps.clock.now();
  const { token, id, secretHash } = createToken();
  await deps.store.links.create({ id, purpose, secretHash, userId, data, createdAt: now, expiresAt: now + ttlMs, usedAt: null });
  return `${deps.publicUrl}${path}/${token}`;
}

export function describeDuration(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours >= 24 && hours % 24 === 0) return `${hours / 24} day${hours === 24 ? '' : 's'}`;
  if (hours >= 1 && Number.isInteger(hours)) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/**
 * Ends every browser session and every OIDC grant, token and code of a user (provider sessions stay for the session
 * sweep, which tells their apps). Returns how many browser sessions it ended.
 */
export async function endAllSessions(deps: Pick<AccountDeps, 'store' | 'clock'>, userId: string): Promise<number> {
  const ended = await deps.store.sessions.revokeAllForUser(userId, deps.clock.now());
  await deps.store.oidc.revokeByAccountId(userId);
  return ended;
}
