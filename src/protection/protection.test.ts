import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipKey } from './ip/ip-key.js';
import { parseAllowlist } from './ip/allowlist.js';
import { decideReservation, failureStartsBlock } from './brute-force/brute-force-policy.js';
import { bucketTokens, decideThrottle } from './throttle/throttle-policy.js';

describe('protection decisions', () => {
  it('groups IPv6 by /64 and leaves IPv4 alone', () => {
    assert.equal(ipKey('203.0.113.7'), '203.0.113.7');
    assert.equal(ipKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:0DB8:0001:0002::5'), '2001:db8:1:2::/64');
    assert.equal(ipKey('::1'), '0:0:0:0::/64');
    assert.equal(ipKey('2001:db8::'), '2001:db8:0:0::/64');
  });

  it('matches allowlisted IPs and CIDRs only', () => {
    const list = parseAllowlist(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    assert.equal(list.has('10.1.2.3'), true);
    assert.equal(list.has('11.1.2.3'), false);
    assert.equal(list.has('2001:db8:5::1'), true);
    assert.equal(list.has('192.0.2.7'), true);
    assert.equal(list.has('192.0.2.8'), false);
    assert.equal(list.has('not-an-ip'), false);
    assert.throws(() => parseAllowlist(['nonsense']), /not an IP address or CIDR/);
  });

  it('turns a refused reservation into a block until 30 days after the last failure', () => {
    const policy = { threshold: 10, blockDurationMs: 30 * 86_400_000 };
    assert.deepEqual(decideReservation({ allowed: true, count: 3 }, 0, policy), { action: 'allow', signals: { count: 3, threshold: 10 } });
    assert.deepEqual(decideReservation({ allowed: false, count: 10 }, 1000, policy), {
      action: 'block',
      reason: 'account_ip_blocked',
      until: 1000 + 30 * 86_400_000,
      signals: { count: 10, threshold: 10 },
    });
    assert.equal(failureStartsBlock(10, policy), true);
    assert.equal(failureStartsBlock(9, policy), false);
  });

  it('computes throttle refill and when the next attempt is allowed', () => {
    const policy = { capacity: 100, refillMs: 864_000 };
    assert.equal(bucketTokens(null, policy, 0), 100);
    assert.equal(bucketTokens({ tokens: 0, updatedAt: 0 }, policy, 864_000 * 2), 2);
    assert.equal(bucketTokens({ tokens: 99.5, updatedAt: 0 }, policy, 864_000 * 5), 100);
    const blocked = decideThrottle({ allowed: false, tokens: 0.5 }, policy, 1000);
    assert.equal(blocked.action, 'block');
    assert.equal(blocked.action === 'block' && blocked.until, 1000 + 432_000);
  });
});
