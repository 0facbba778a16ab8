// Constant-time comparison for secrets, independent of where the first differing byte is.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in time independent of their content. Both sides are hashed first
 * so that inputs of different lengths do not short-circuit on length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
