// Pure brute-force rules: when a reservation means a block, and when a block ends.
import type { Decision } from '../decision.js';

export interface BruteForcePolicy {
  /** Failed attempts per (identifier, IP) before that IP is blocked for that identifier (1..100). */
  threshold: number;
  /** A block (and its count) ends this long after the last failure. */
  blockDurationMs: number;
}

export function decideReservation(reservation: { allowed: boolean; count: number }, lastAt: number | null, policy: BruteForcePolicy, reason: 'account_ip_blocked' | 'account_locked' = 'account_ip_blocked'): Decision {
  const signals = { count: reservation.count, threshold: policy.threshold };
  if (reservation.allowed) return { action: 'allow', signals };
  return { action: 'block', reason, until: lastAt === null ? null : lastAt + policy.blockDurationMs, signals };
}

/** True exactly once per block: on the failure that filled the last slot. */
export function failureStartsBlock(count: number, policy: BruteForcePolicy): boolean {
  return count === policy.threshold;
}
