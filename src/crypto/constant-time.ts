// Constant-time comparison for secrets, independent of where the first differing byte is.
import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in time independent of their content. Both sides are hashed first
 * so that inputs of different lengths do not short-circuit on length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  // crypto.hash is the one-shot form: a third of createHash's cost, the same digest.
  const ha = hash('sha256', a, 'buffer');
  const hb = hash('sha256', b, 'buffer');
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * Compares a presented value with an expected one whose length is public (a digest or MAC of fixed size), in time
 * independent of their content: only a length mismatch returns early, and that length is no secret. Cheaper than
 * constantTimeEqual, which hashes both sides to hide lengths.
 */
export function fixedLengthEqual(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
