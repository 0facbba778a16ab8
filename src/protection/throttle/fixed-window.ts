// Pure decision for fixed-window limits (sign-ups per IP per minute): the count is already atomically incremented.
export type WindowDecision = { action: 'allow'; remaining: number } | { action: 'block'; reason: 'limit_exceeded' };

export function decideFixedWindow(count: number, limit: number): WindowDecision {
  return count > limit ? { action: 'block', reason: 'limit_exceeded' } : { action: 'allow', remaining: limit - count };
}
