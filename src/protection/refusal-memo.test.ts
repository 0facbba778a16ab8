import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRefusalMemo } from './refusal-memo.js';
import { parseAllowlist } from './ip/allowlist.js';

const T0 = 1_000_000;

describe('refusal memory', () => {
  it('answers a remembered pair for at most maxAge, and never past the refusal itself', () => {
    const memo = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 10 });
    assert.equal(memo.check('a@x', '203.0.113.7', T0), null, 'nothing remembered yet');
    memo.remember({ identifier: 'a@x', ipKey: '203.0.113.7' }, { reason: 'account_ip_blocked', until: T0 + 3_600_000 }, T0);
    assert.deepEqual(memo.check('a@x', '203.0.113.7', T0 + 1_999), { reason: 'account_ip_blocked', until: T0 + 3_600_000 });
    assert.equal(memo.check('a@x', '203.0.113.7', T0 + 2_000), null, 'after 2 s the stores decide again');
    assert.equal(memo.check('b@x', '203.0.113.7', T0), null, 'another identifier from the same IP is not refused');
    assert.equal(memo.check('a@x', '203.0.113.8', T0), null, 'the same identifier from another IP is not refused');

    memo.remember({ ipKey: '198.51.100.1' }, { reason: 'ip_throttled', until: T0 + 500 }, T0);
    assert.equal(memo.check('anyone@x', '198.51.100.1', T0 + 498)?.reason, 'ip_throttled', 'a throttled IP is refused for every identifier');
    assert.equal(memo.check('anyone@x', '198.51.100.1', T0 + 499), null, 'the millisecond before the end is left to the stores (until is rounded up)');
  });

  it('a locked account (the * key) is refused from every IP', () => {
    const memo = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 10 });
    memo.remember({ identifier: 'a@x', ipKey: '*' }, { reason: 'account_locked', until: null }, T0);
    assert.equal(memo.check('a@x', '192.0.2.1', T0 + 1)?.reason, 'account_locked');
    assert.equal(memo.check('a@x', '192.0.2.1', T0 + 2_000), null, 'a refusal without an end is still trusted for maxAge only');
  });

  it('counts the attempts it answered and hands the count to the next decided refusal', () => {
    const memo = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 10 });
    const reasons: string[] = [];
    const counted = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 10, onRefused: (r) => reasons.push(r) });
    for (const m of [memo, counted]) assert.equal(m.remember({ identifier: 'a@x', ipKey: 'ip' }, { reason: 'account_ip_blocked', until: T0 + 60_000 }, T0), 0);
    for (let i = 0; i < 5; i++) {
      memo.check('a@x', 'ip', T0 + i);
      counted.check('a@x', 'ip', T0 + i);
    }
    assert.equal(memo.remember({ identifier: 'a@x', ipKey: 'ip' }, { reason: 'account_ip_blocked', until: T0 + 60_000 }, T0 + 2_500), 5);
    assert.equal(memo.remember({ identifier: 'a@x', ipKey: 'ip' }, { reason: 'account_ip_blocked', until: T0 + 60_000 }, T0 + 2_600), 0, 'the count starts again');
    assert.deepEqual(reasons, Array(5).fill('account_ip_blocked'), 'every answer from memory reaches the metrics');
  });

  it('forgets a pair, a whole identifier or an IP at once', () => {
    const memo = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 10 });
    const block = { reason: 'account_ip_blocked' as const, until: T0 + 60_000 };
    memo.remember({ identifier: 'a@x', ipKey: 'ip1' }, block, T0);
    memo.remember({ identifier: 'a@x', ipKey: 'ip2' }, block, T0);
    memo.remember({ identifier: 'a@xy', ipKey: 'ip1' }, block, T0);
    memo.remember({ ipKey: 'ip3' }, { reason: 'ip_throttled', until: T0 + 60_000 }, T0);
    memo.forget({ identifier: 'a@x', ipKey: 'ip1' });
    assert.equal(memo.check('a@x', 'ip1', T0), null);
    assert.notEqual(memo.check('a@x', 'ip2', T0), null);
    memo.forget({ identifier: 'a@x' });
    assert.equal(memo.check('a@x', 'ip2', T0), null);
    assert.notEqual(memo.check('a@xy', 'ip1', T0), null, 'an identifier that merely starts the same is kept');
    memo.forget({ ipKey: 'ip3' });
    assert.equal(memo.check('z@x', 'ip3', T0), null);
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const memo = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 3 });
    for (let i = 0; i < 5; i++) memo.remember({ ipKey: `ip${i}` }, { reason: 'ip_throttled', until: T0 + 60_000 }, T0);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => memo.check('x', `ip${i}`, T0) !== null), [false, false, true, true, true]);
  });

  it('an empty allowlist matches nothing, without parsing the address', () => {
    assert.equal(parseAllowlist([]).has('127.0.0.1'), false);
    assert.equal(parseAllowlist(['', '  ']).has('10.0.0.1'), false);
    assert.equal(parseAllowlist(['10.0.0.0/8']).has('10.0.0.1'), true);
  });
});
