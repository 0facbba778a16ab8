// Pure throttle rules: a token bucket of failed logins per IP (100 a day, one back every 864 s by default).
import type { Decision } from '../decision.js';

export interface ThrottlePolicy {
  capacity: number;
  refillMs: number;
}

export function decideThrottle(take: { allowed: boolean; tokens: number }, policy: ThrottlePolicy, now: number): Decision {
  const signals = { tokens: Math.floor(take.tokens * 1000) / 1000, capacity: policy.capacity, refill_ms: policy.refillMs };
  if (take.allowed) return { action: 'allow', signals };
  // The next token arrives when the bucket reaches 1 again.
  return { action: 'block', reason: 'ip_throttled', until: now + Math.ceil((1 - take.tokens) * policy.refillMs), signals };
}

export function bucketTokens(record: { tokens: number; updatedAt: number } | null, policy: ThrottlePolicy, now: number): number {
  if (!record) return policy.capacity;
  return Math.min(policy.capacity, record.tokens + (now - record.updatedAt) / policy.refillMs);
}
