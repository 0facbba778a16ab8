// When to retry a failed delivery: exponential backoff capped at one hour, with jitter so a recovered SMTP server is not hit by every message at once.

export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
const JITTER = 0.1;

/**
 * Returns when the next attempt is due, or null when `attemptsSoFar` (including the one that just failed)
 * reached `maxAttempts` and the message should be marked failed.
 * `random` returns a number in [0, 1); 0.5 means no jitter, so the default is deterministic.
 */
export function nextAttemptAt(attemptsSoFar: number, now: number, baseMs: number, maxAttempts: number, random: () => number = () => 0.5): number | null {
  if (attemptsSoFar >= maxAttempts) return null;
  const exponent = Math.max(0, attemptsSoFar - 1);
  const uncapped = baseMs * 2 ** Math.min(exponent, 52);
  const factor = 1 + JITTER * (2 * Math.min(Math.max(random(), 0), 1) - 1);
  return now + Math.round(Math.min(MAX_RETRY_DELAY_MS, Math.min(uncapped, MAX_RETRY_DELAY_MS) * factor));
}
