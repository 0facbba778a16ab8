// The first-run setup link: a single-use, expiring token that lets the operator create the first admin.
import type { Clock } from '../domain/clock.js';
import { createToken } from '../crypto/tokens.js';
import type { Store } from '../store/store.js';

/** Creates a setup link when no user exists yet; returns its path or null. */
export async function createSetupLinkIfNeeded(store: Store, clock: Clock, ttlMs: number): Promise<string | null> {
  if ((await store.users.count()) > 0) return null;
  const now = clock.now();
  const { token, id, secretHash } = createToken();
  await store.links.create({ id, purpose: 'setup', secretHash, userId: null, data: {}, createdAt: now, expiresAt: now + ttlMs, usedAt: null });
  return `/setup/${token}`;
}
