// The OIDC mount over real connections: oidc-provider answered straight from the HTTP server, beside Fastify, with the
// security headers, the forwarded-header guard, exact path matching, metrics, redacted logs and 503 while closing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createOidcMount, isOidcPath } from '../../src/http/oidc-mount.js';
import { contentSecurityPolicy } from '../../src/http/security-headers.js';

const TOKEN = 'mount-scrape-token-0123456789';

describe('isOidcPath', () => {
  it('matches the mount and its sub-paths exactly', () => {
    for (const url of ['/oidc', '/oidc/', '/oidc/token', '/oidc?x=1', '/oidc/.well-known/openid-configuration']) assert.equal(isOidcPath(url), true, url);
    for (const url of [undefined, '', '/', '/oidcx', '/oidc-fake/token', '/OIDC/token', '/%6Fidc/token', '//oidc/token', '/login?next=/oidc']) assert.equal(isOidcPath(url), false, String(url));
  });
});

describe('the OIDC mount on a listening server', () => {
  let app: TestApp;
  let base: string;

  before(async () => {
    app = await createTestApp({ metrics: { token: TOKEN } });
    await app.server.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
  });
  after(async () => app?.dispose());

  const oidcCount = async (): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('portcullis_http_request_duration_seconds_count{') && line.includes('route="oidc"'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };

  it('serves discovery with the security headers, and counts it as the route "oidc"', async () => {
    const before = await oidcCount();
    const response = await fetch(`${base}/oidc/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const discovery = (await response.json()) as { issuer: string; token_endpoint: string };
    assert.equal(discovery.issuer, app.config.issuer);
    assert.equal(discovery.token_endpoint, `${app.config.issuer}/token`);
    assert.equal(response.headers.get('content-security-policy'), contentSecurityPolicy());
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal((await oidcCount()) - before, 1);
  });

  it('answers only the exact mount: look-alike paths are Fastify 404 pages, not the provider', async () => {
    for (const path of ['/oidcx/.well-known/openid-configuration', '/OIDC/.well-known/openid-configuration', '/%6Fidc/.well-known/openid-configuration']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 404, path);
      const body = await response.text();
      assert.ok(!body.includes('token_endpoint'), `${path} must not serve discovery`);
      assert.ok(response.headers.get('content-security-policy'), `${path} still has a CSP`);
    }
  });

  it('refuses an absolute-form request target with a 404 page instead of handing the provider a broken path', async () => {
    const { port } = app.server.server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`GET http://127.0.0.1:${port}/oidc/.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString('latin1')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 404 /);
    assert.ok(!raw.includes('token_endpoint'));
  });

  it('pins host and protocol to the public URL: a spoofed X-Forwarded-Host from an untrusted peer changes nothing', async () => {
    const response = await fetch(`${base}/oidc/.well-known/openid-configuration`, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', host: 'evil.example' } });
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.ok(!text.includes('evil.example'), 'no endpoint points at the spoofed host');
    assert.equal((JSON.parse(text) as { issuer: string }).issuer, app.config.issuer);
  });

  it('logs the request without secrets: query values other than safe ones are redacted', async () => {
    const state = 'state-value-that-must-not-be-logged-81723';
    const response = await fetch(`${base}/oidc/auth?client_id=nobody&response_type=code&state=${state}&code_challenge=${state}`, { redirect: 'manual' });
    assert.ok(response.status >= 300 && response.status < 500, `status ${response.status}`);
    await response.arrayBuffer();
    const line = app.logs.find((l) => l.includes('request completed') && l.includes('/oidc/auth'));
    assert.ok(line, 'the mount logs a line per request');
    assert.ok(!line.includes(state), 'the state and code challenge are redacted');
    assert.match(line, /client_id=nobody/);
    assert.ok(!app.logs.some((l) => l.includes(state)), 'no log line carries the value');
  });

  it('keeps the connection usable for Fastify routes after a provider response (keep-alive across both)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          http.get(`${base}${path}`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
      assert.equal(await get('/oidc/jwks'), 200);
      assert.equal(await get('/login'), 200);
      assert.equal(await get('/oidc/.well-known/openid-configuration'), 200);
    } finally {
      agent.destroy();
    }
  });
});

describe('the OIDC mount behind a trusted proxy', () => {
  it('logs, and shows the provider, the address the trusted-proxy walk resolves, not a client-written one', async () => {
    const app = await createTestApp({ trustProxy: 'loopback' });
    try {
      await app.server.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
      // The client wrote 6.6.6.6; the loopback proxy appended the address it saw, 203.0.113.9.
      const response = await fetch(`${base}/oidc/.well-known/openid-configuration`, { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' } });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      const line = app.logs.find((l) => l.includes('request completed') && l.includes('openid-configuration'));
      assert.ok(line);
      assert.equal((JSON.parse(line) as { req: { ip: string } }).req.ip, '203.0.113.9');
    } finally {
      await app.dispose();
    }
  });
});

describe('createOidcMount', () => {
  it('answers 503 with Retry-After while the server closes, without calling the provider', async () => {
    let closing = false;
    const reached: string[] = [];
    const mount = createOidcMount({
      handler: (req: IncomingMessage, res: ServerResponse) => {
        reached.push(req.url ?? '');
        res.end('provider');
      },
      publicUrl: 'http://localhost:3000',
      trustProxy: false,
      headers: [['x-content-type-options', 'nosniff']],
      logger: { info: () => undefined, isLevelEnabled: () => false },
      isClosing: () => closing,
    });
    const server = http.createServer((req, res) => mount(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const open = await fetch(`${url}/oidc/token?x=1`);
      assert.equal(await open.text(), 'provider');
      assert.deepEqual(reached, ['/token?x=1'], 'the provider sees the path below the mount');
      closing = true;
      const shut = await fetch(`${url}/oidc/token`, { method: 'POST', body: 'grant_type=client_credentials' });
      assert.equal(shut.status, 503);
      assert.equal(shut.headers.get('retry-after'), '5');
      assert.equal(shut.headers.get('x-content-type-options'), 'nosniff');
      assert.match(await shut.text(), /shutting down/);
      assert.equal(reached.length, 1, 'the provider is not reached while closing');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
