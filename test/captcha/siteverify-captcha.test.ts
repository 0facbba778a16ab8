// External CAPTCHA providers against a local siteverify server: their verdicts are honoured, and an outage follows the explicit fail-open or fail-closed setting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSiteverifyCaptcha, type SiteverifyOptions } from '../../src/protection/captcha/siteverify-captcha.js';

const SECRET = 'test-secret';
const NOW = 1_750_000_000_000;

interface Received {
  secret: string | null;
  response: string | null;
  remoteip: string | null;
}

/** Speaks the siteverify format; the token chooses the answer. */
function siteverifyServer(received: Received[]): Server {
  return createServer((request, reply) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const token = form.get('response') ?? '';
      received.push({ secret: form.get('secret'), response: form.get('response'), remoteip: form.get('remoteip') });
      const send = (status: number, json: unknown): void => {
        reply.writeHead(status, { 'content-type': 'application/json' });
        reply.end(JSON.stringify(json));
      };
      if (form.get('secret') !== SECRET) return send(200, { success: false, 'error-codes': ['invalid-input-secret'] });
      if (token === 'slow') return void setTimeout(() => send(200, { success: true }), 6_000);
      if (token === 'server-error') return send(503, { error: 'down' });
      if (token === 'not-json') {
        reply.writeHead(200, { 'content-type': 'text/html' });
        return void reply.end('<html>maintenance</html>');
      }
      if (token === 'internal') return send(200, { success: false, 'error-codes': ['internal-error'] });
      if (token === 'duplicate') return send(200, { success: false, 'error-codes': ['timeout-or-duplicate'] });
      if (token === 'bad') return send(200, { success: false, 'error-codes': ['invalid-input-response'] });
      if (token.startsWith('good')) {
        const cdata = token.split(':')[1];
        return send(200, { success: true, hostname: 'login.example', 'error-codes': [], ...(cdata ? { cdata } : {}) });
      }
      return send(200, { success: false });
    });
  });
}

describe('siteverify CAPTCHA providers', () => {
  const received: Received[] = [];
  let server: Server;
  let verifyUrl: string;
  before(async () => {
    server = siteverifyServer(received);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    verifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const make = (overrides: Partial<SiteverifyOptions> = {}) =>
    createSiteverifyCaptcha({ provider: 'hcaptcha', siteKey: 'site-key', secret: SECRET, verifyUrl, timeoutMs: 1_500, failMode: 'closed', ...overrides });

  it('success: true passes, and the form carries secret, response and remoteip', async () => {
    const provider = make();
    assert.equal(provider.name, 'hcaptcha');
    const challenge = await provider.issue('tx-a', NOW);
    assert.equal(challenge.siteKey, 'site-key');
    assert.deepEqual(await provider.verify('tx-a', { 'h-captcha-response': 'good' }, NOW, { remoteIp: '203.0.113.7' }), { ok: true });
    assert.deepEqual(received.at(-1), { secret: SECRET, response: 'good', remoteip: '203.0.113.7' });
  });

  it('each provider reads its own form field', async () => {
    for (const [provider, field] of [['turnstile', 'cf-turnstile-response'], ['hcaptcha', 'h-captcha-response'], ['recaptcha', 'g-recaptcha-response']] as const) {
      const captcha = make({ provider });
      assert.deepEqual(await captcha.verify('tx-a', { [field]: 'good' }, NOW), { ok: true }, provider);
      assert.deepEqual(await captcha.verify('tx-a', { 'some-other-field': 'good' }, NOW), { ok: false, reason: 'missing' }, provider);
    }
  });

  it('success: false is refused with the provider error codes; a duplicate token is a replay', async () => {
    const provider = make();
    assert.deepEqual(await provider.verify('tx-a', { 'h-captcha-response': 'bad' }, NOW), { ok: false, reason: 'wrong', errorCodes: ['invalid-input-response'] });
    assert.deepEqual(await provider.verify('tx-a', { 'h-captcha-response': 'duplicate' }, NOW), { ok: false, reason: 'replayed', errorCodes: ['timeout-or-duplicate'] });
    assert.deepEqual(await provider.verify('tx-a', { 'h-captcha-response': 'whatever' }, NOW), { ok: false, reason: 'wrong' });
    assert.deepEqual(await provider.verify('tx-a', {}, NOW), { ok: false, reason: 'missing' });
  });

  it('timeout: fail-closed refuses, fail-open lets the login continue marked degraded', async () => {
    const closed = make({ failMode: 'closed' });
    const started = Date.now();
    assert.deepEqual(await closed.verify('tx-a', { 'h-captcha-response': 'slow' }, NOW), { ok: false, reason: 'provider_unavailable', errorCodes: ['unreachable'] });
    assert.ok(Date.now() - started < 5_000, 'the timeout cuts the wait short');
    assert.deepEqual(await make({ failMode: 'open' }).verify('tx-a', { 'h-captcha-response': 'slow' }, NOW), { ok: true, degraded: true });
  });

  it('unreachable, server errors, non-JSON replies and internal-error follow the fail mode too', async () => {
    const nowhere = 'http://127.0.0.1:9/siteverify';
    for (const [token, url] of [['good', nowhere], ['server-error', verifyUrl], ['not-json', verifyUrl], ['internal', verifyUrl]] as const) {
      const closed = await make({ failMode: 'closed', verifyUrl: url }).verify('tx-a', { 'h-captcha-response': token }, NOW);
      assert.equal(closed.ok, false, token);
      assert.equal(!closed.ok && closed.reason, 'provider_unavailable', token);
      assert.deepEqual(await make({ failMode: 'open', verifyUrl: url }).verify('tx-a', { 'h-captcha-response': token }, NOW), { ok: true, degraded: true }, token);
    }
  });

  it('a wrong secret refuses even in fail-open: fail-open covers outages, not misconfiguration', async () => {
    const misconfigured = make({ failMode: 'open', secret: 'wrong' });
    assert.deepEqual(await misconfigured.verify('tx-a', { 'h-captcha-response': 'good' }, NOW), {
      ok: false,
      reason: 'provider_unavailable',
      errorCodes: ['invalid-input-secret'],
    });
  });

  it('hostname and Turnstile cdata bind the token to this site and this login transaction', async () => {
    assert.deepEqual(await make({ expectedHostname: 'other.example' }).verify('tx-a', { 'h-captcha-response': 'good' }, NOW), {
      ok: false,
      reason: 'wrong',
      errorCodes: ['hostname-mismatch'],
    });
    const turnstile = make({ provider: 'turnstile', bindingKey: Buffer.alloc(32, 1), expectedHostname: 'login.example' });
    const challenge = await turnstile.issue('tx-a', NOW);
    assert.match(challenge.bindingData ?? '', /^[A-Za-z0-9_-]{32}$/);
    const field = 'cf-turnstile-response';
    assert.deepEqual(await turnstile.verify('tx-a', { [field]: `good:${challenge.bindingData}` }, NOW), { ok: true });
    assert.deepEqual(await turnstile.verify('tx-b', { [field]: `good:${challenge.bindingData}` }, NOW), { ok: false, reason: 'wrong_transaction' });
    assert.deepEqual(await turnstile.verify('tx-a', { [field]: 'good' }, NOW), { ok: false, reason: 'wrong_transaction' });
  });
});
