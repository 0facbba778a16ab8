// Retry timing for the mail outbox: doubling delays, a one-hour cap, bounded jitter, and a final "give up".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RETRY_DELAY_MS, nextAttemptAt } from './backoff.js';

const NOW = 1_700_000_000_000;

describe('nextAttemptAt', () => {
  it('doubles the delay after each failed attempt, starting at the base delay', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => (nextAttemptAt(n, NOW, 30_000, 10) as number) - NOW);
    assert.deepEqual(delays, [30_000, 60_000, 120_000, 240_000, 480_000]);
  });

  it('never waits longer than one hour', () => {
    assert.equal(nextAttemptAt(9, NOW, 30_000, 100), NOW + MAX_RETRY_DELAY_MS);
    assert.equal(nextAttemptAt(99, NOW, 30_000, 100), NOW + MAX_RETRY_DELAY_MS);
    assert.equal(nextAttemptAt(99, NOW, 30_000, 100, () => 0.999), NOW + MAX_RETRY_DELAY_MS, 'jitter does not push past the cap');
  });

  it('gives up (null) once the attempts reach maxAttempts', () => {
    assert.notEqual(nextAttemptAt(2, NOW, 1000, 3), null);
    assert.equal(nextAttemptAt(3, NOW, 1000, 3), null);
    assert.equal(nextAttemptAt(4, NOW, 1000, 3), null);
    assert.equal(nextAttemptAt(1, NOW, 1000, 1), null, 'maxAttempts 1 means no retry');
  });

  it('jitters by at most ±10% and is deterministic for a given random value', () => {
    assert.equal(nextAttemptAt(3, NOW, 10_000, 10, () => 0), NOW + 36_000);
    assert.equal(nextAttemptAt(3, NOW, 10_000, 10, () => 1), NOW + 44_000);
    assert.equal(nextAttemptAt(3, NOW, 10_000, 10, () => 0.25), nextAttemptAt(3, NOW, 10_000, 10, () => 0.25));
    for (let i = 0; i < 200; i++) {
      const delay = (nextAttemptAt(2, NOW, 10_000, 10, Math.random) as number) - NOW;
      assert.ok(delay >= 18_000 && delay <= 22_000, `delay ${delay} within ±10% of 20000`);
    }
  });

  it('treats a zero attempt count like the first attempt', () => {
    assert.equal(nextAttemptAt(0, NOW, 5000, 3), NOW + 5000);
  });
});
