import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseIp, parseTrustProxy } from './client-ip.js';
import { redactUrl } from '../logging/create-logger.js';

describe('client ip and log hygiene', () => {
  it('parses trust proxy settings strictly', () => {
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy(''), false);
    assert.deepEqual(parseTrustProxy('loopback'), ['127.0.0.1/8', '::1/128']);
    assert.deepEqual(parseTrustProxy('10.0.0.0/8, fd00::/8'), ['10.0.0.0/8', 'fd00::/8']);
    assert.throws(() => parseTrustProxy('true'), /not an IP address or CIDR/);
    assert.throws(() => parseTrustProxy('10.0.0.0/33'), /not an IP address or CIDR/);
  });

  it('normalises IPv4-mapped IPv6 addresses', () => {
    assert.equal(normaliseIp('::ffff:203.0.113.5'), '203.0.113.5');
    assert.equal(normaliseIp('2001:db8::1'), '2001:db8::1');
  });

  it('redacts token-bearing paths and query values', () => {
    assert.equal(redactUrl('/setup/abcdefghijklmnop.abcdefghijklmnopqrstuvwxyz0123'), '/setup/[token]');
    assert.equal(redactUrl('/cb?code=SECRET&state=S2&client_id=app'), '/cb?code=[redacted]&state=[redacted]&client_id=app');
  });
});
