import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { forwardedHeaderGuard } from './forwarded-headers.js';

const request = (peer: string, headers: Record<string, string>) => ({ socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: { ...headers } }) as unknown as IncomingMessage;

describe('forwardedHeaderGuard', () => {
  it('drops X-Forwarded-For from an untrusted peer and pins host and protocol to the public URL', () => {
    const guard = forwardedHeaderGuard('https://id.example.com', false);
    const req = request('198.51.100.4', { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', host: 'evil.example' });
    guard(req);
    assert.equal(req.headers['x-forwarded-for'], undefined);
    assert.equal(req.headers.host, 'id.example.com');
    assert.equal(req.headers['x-forwarded-host'], 'id.example.com');
    assert.equal(req.headers['x-forwarded-proto'], 'https');
  });

  it('behind a trusted proxy, leaves the provider only the address the trusted walk resolves, not the client-written leftmost one', () => {
    const guard = forwardedHeaderGuard('https://id.example.com', ['loopback']);
    const req = request('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' });
    const client = guard(req);
    assert.equal(req.headers['x-forwarded-for'], '203.0.113.9');
    assert.equal(client, '203.0.113.9');
    assert.equal(forwardedHeaderGuard('https://id.example.com', false)(request('127.0.0.1', { 'x-forwarded-for': '6.6.6.6' })), '127.0.0.1');
  });
});
