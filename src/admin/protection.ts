// Admin use-cases for attack protection: lift brute-force blocks, list and release throttled IPs.
import { PortcullisError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { normaliseEmail } from '../store/sql/sql-users.js';
import { ipKey } from '../protection/ip/ip-key.js';
import { bucketTokens, type ThrottlePolicy } from '../protection/throttle/throttle-policy.js';
import { isIP } from 'node:net';

/** Lifts brute-force blocks for an identifier: from one IP, or from every IP when `ip` is omitted. */
export async function unblockIdentifier(store: Store, clock: Clock, email: string, ip: string | null, actor: string): Promise<number> {
  const identifier = normaliseEmail(email);
  let cleared: number;
  if (ip) {
    if (!isIP(ip) && !ip.endsWith('::/64')) throw new PortcullisError('invalid_input', { message: `"${ip}" is not an IP address.` });
    cleared = (await store.attempts.clear(identifier, isIP(ip) ? ipKey(ip) : ip)) ? 1 : 0;
  } else {
    cleared = await store.attempts.clearIdentifier(identifier);
  }
  const user = await store.users.findByEmail(email);
  await store.events.append({ code: 'login_unblocked', outcome: 'success', userId: user?.id ?? null, identifier, ip, reason: 'admin', details: { actor, cleared } }, clock.now());
  return cleared;
}

export interface BlockedPair {
  identifier: string;
  ipKey: string;
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export async function listBlocks(store: Store, clock: Clock, threshold: number, blockDurationMs: number, limit = 200): Promise<BlockedPair[]> {
  const now = clock.now();
  const records = await store.attempts.listAtLeast(threshold, now - blockDurationMs, limit);
  return records.map((r) => ({ identifier: r.identifier, ipKey: r.ipKey, failures: r.count, lastFailureAt: r.lastAt, blockedUntil: r.lastAt + blockDurationMs }));
}

export interface ThrottledIp {
  ipKey: string;
  tokens: number;
  /** When one more failed login will be allowed. */
  nextAllowedAt: number;
}

/** Lists IPs that are out of failed-login tokens right now (Auth0 cannot list these; we can). */
export async function listThrottled(store: Store, clock: Clock, policy: ThrottlePolicy, limit = 200): Promise<ThrottledIp[]> {
  const now = clock.now();
  const buckets = await store.buckets.list('login-fail:', 10_000);
  return buckets
    .map((b) => ({ ipKey: b.key.slice('login-fail:'.length), tokens: bucketTokens(b, policy, now) }))
    .filter((b) => b.tokens < 1)
    .slice(0, limit)
    .map((b) => ({ ...b, nextAllowedAt: now + Math.ceil((1 - b.tokens) * policy.refillMs) }));
}

export async function releaseIp(store: Store, clock: Clock, ip: string, actor: string): Promise<boolean> {
  const key = isIP(ip) ? ipKey(ip) : ip;
  const released = await store.buckets.reset(`login-fail:${key}`);
  await store.events.append({ code: 'ip_released', outcome: 'info', ip: key, reason: 'admin', details: { actor, released } }, clock.now());
  return released;
}
