// What the login pipeline needs from attack protection: stores, policies, and the effects of a decision.
import type { User } from '../domain/types.js';
import type { AttemptStore, RateLimitStore } from '../store/store.js';
import type { Allowlist } from './ip/allowlist.js';
import type { BruteForcePolicy } from './brute-force/brute-force-policy.js';
import type { ThrottlePolicy } from './throttle/throttle-policy.js';
import type { RefusalMemo } from './refusal-memo.js';

export interface ProtectionDeps {
  attempts: AttemptStore;
  buckets: RateLimitStore;
  allowlist: Allowlist;
  bruteForce: BruteForcePolicy & { accountLockout: boolean; accountLockoutThreshold: number };
  throttle: ThrottlePolicy;
  /** Recent refusals, answered from memory (this node's unblocks forget them at once; see ADR 0012). */
  refusals: RefusalMemo;
  /** Tells the account owner (never for unknown identifiers), at most once per interval per (account, IP). */
  onBlockStarted(input: { user: User | null; identifier: string; ip: string; ipKey: string }): Promise<void>;
  /** Tells the operator and affected organizations' admins, at most once per interval per IP. */
  onThrottled(input: { user: User | null; ip: string; ipKey: string }): Promise<void>;
}
