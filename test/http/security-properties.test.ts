// Security properties of the HTTP surface, each named after what it protects and trying to break it through the real app.
import { securityHeaders } from '../../src/http/security-headers.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { addClient } from '../../src/admin/clients.js';
import { createUser } from '../../src/admin/users.js';
import { addWebhook, webhookSealKey } from '../../src/webhooks/webhook-admin.js';
import {
  authorizeUrl,
  authorizeWithLogin,
  basicAuth,
  Browser,
  exchangeCode,
  hiddenCsrf,
  location,
  pkcePair,
  REDIRECT_URI,
  seedPublicClient,
  startLogin,
  tokenRequest,
  userinfo,
} from '../helpers/oidc-flow.js';

const INCORRECT = 'Incorrect email or password.';

function authParams(clientId: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    client_id: clientId,
    response_type: 'code',
    scope: 'openid email',
    redirect_uri: REDIRECT_URI,
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    state: 'st',
    ...overrides,
  };
}

function setCookies(response: LightMyRequestResponse): string[] {
  const raw = response.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

function cookieAttributes(response: LightMyRequestResponse, name: string): Map<string, string> | null {
  const line = setCookies(response).find((c) => c.startsWith(`${name}=`));
  if (!line) return null;
  const attributes = new Map<string, string>();
  for (const part of line.split(';').slice(1)) {
    const [key, ...value] = part.trim().split('=');
    attributes.set(String(key).toLowerCase(), value.join('='));
  }
  return attributes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function withApp(overrides: Record<string, unknown>, body: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await createTestApp(overrides);
  try {
    await body(app);
  } finally {
    await app.dispose();
  }
}

/** Every byte the store keeps on disk (database file plus WAL), to prove a secret is not there in any form we'd print. */
function bytesAtRest(app: TestApp): Buffer {
  const dir = app.config.dataDir;
  return Buffer.concat(
    readdirSync(dir)
      .filter((name) => /\.(db|sqlite|sqlite3)(-wal|-shm)?$/.test(name))
      .map((name) => readFileSync(join(dir, name))),
  );
}

function sqliteFile(app: TestApp): string {
  const name = readdirSync(app.config.dataDir).find((n) => /\.(db|sqlite|sqlite3)$/.test(n));
  assert.ok(name, 'the SQLite file exists in the data folder');
  return join(app.config.dataDir, name);
}

test('login responses do not enumerate accounts', async (t) => {
  // Threat: account enumeration through different status, body or response time for known and unknown emails.
  await withApp({ argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 } }, async (app) => {
    const fixture = await seedPublicClient(app, { email: 'alice@example.com' });
    const unknown = 'zelda@example.com'; // same length as the known email, so bodies can be compared byte for byte
    const browser = new Browser(app.server);
    const started = await startLogin(browser, authParams(fixture.clientId));
    const attempt = async (email: string) => {
      const t0 = performance.now();
      const response = await browser.postForm(started.action, { csrf: started.csrf, email, password: 'wrong password 123' });
      return { response, ms: performance.now() - t0 };
    };
    const normalise = (body: string, email: string) =>
      body
        .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="X"')
        .replace(/\/interaction\/[^/"]+\//g, '/interaction/UID/')
        .replace(/data-proof-nonce="[^"]*"/g, 'data-proof-nonce="N"')
        .replaceAll(email, 'EMAIL');

    // Warm up both paths (the dummy hash is computed on first use).
    await attempt(fixture.email);
    await attempt(unknown);

    const known: number[] = [];
    const missing: number[] = [];
    let knownBody = '';
    let missingBody = '';
    for (let i = 0; i < 7; i++) {
      const a = await attempt(fixture.email);
      const b = await attempt(unknown);
      assert.equal(a.response.statusCode, 401);
      assert.equal(b.response.statusCode, 401);
      assert.ok(a.response.body.includes(INCORRECT) && b.response.body.includes(INCORRECT));
      assert.equal(setCookies(a.response).some((c) => c.startsWith('portcullis_session=')), false);
      assert.deepEqual(Object.keys(a.response.headers).sort(), Object.keys(b.response.headers).sort());
      knownBody = normalise(a.response.body, fixture.email);
      missingBody = normalise(b.response.body, unknown);
      assert.equal(knownBody, missingBody, 'the known and unknown responses differ only in the echoed email and per-form tokens');
      known.push(a.ms);
      missing.push(b.ms);
    }
    const ratio = median(known) / median(missing);
    t.diagnostic(`median known ${median(known).toFixed(1)} ms, unknown ${median(missing).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
    assert.ok(ratio > 0.5 && ratio < 2, `median known ${median(known).toFixed(1)} ms vs unknown ${median(missing).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`);
    // The sanity check that the timing compares real argon2 work, not two shortcuts.
    assert.ok(median(missing) > 5, `an unknown email still costs an argon2 verify (${median(missing).toFixed(1)} ms)`);
  });
});

test('login form rejects a missing or wrong CSRF token', async () => {
  // Threat: cross-site request forgery logging the victim into an attacker's account (login CSRF) or replaying forms.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);
    const params = authParams(fixture.clientId);
    const other = await startLogin(browser, authParams(fixture.clientId, { state: 'other' }));
    const started = await startLogin(browser, params);
    assert.notEqual(other.uid, started.uid);
    const creds = { email: fixture.email, password: fixture.password };

    const stranger = new Browser(app.server);
    const strangerLogin = await startLogin(stranger, authParams(fixture.clientId));

    const attempts: Array<[string, () => Promise<LightMyRequestResponse>]> = [
      ['missing token', () => browser.postForm(started.action, creds)],
      ['empty token', () => browser.postForm(started.action, { csrf: '', ...creds })],
      ['wrong token', () => browser.postForm(started.action, { csrf: 'A'.repeat(43), ...creds })],
      ['token of another interaction', () => browser.postForm(started.action, { csrf: other.csrf, ...creds })],
      ['token of another browser', () => browser.postForm(started.action, { csrf: strangerLogin.csrf, ...creds })],
      [
        'token without its cookie',
        async () => {
          const saved = browser.jar.get('portcullis_csrf');
          browser.jar.delete('portcullis_csrf');
          try {
            return await browser.postForm(started.action, { csrf: started.csrf, ...creds });
          } finally {
            if (saved) browser.jar.store({ cookies: [{ name: 'portcullis_csrf', value: saved, path: '/' }] } as unknown as LightMyRequestResponse);
          }
        },
      ],
    ];
    for (const [label, send] of attempts) {
      const response = await send();
      assert.equal(response.statusCode, 403, `${label}: ${response.statusCode}`);
      assert.equal(response.headers.location, undefined, `${label}: no redirect`);
      assert.equal(setCookies(response).some((c) => c.startsWith('portcullis_session=')), false, `${label}: no session cookie`);
      assert.equal(browser.jar.get('portcullis_session'), undefined);
    }
    const events = await app.store.events.list({ limit: 50 });
    assert.equal(events.filter((e) => e.code === 'login_success').length, 0, 'no login happened');
    assert.equal((await app.store.sessions.listActiveForUser(fixture.user.id)).length, 0, 'no session was created');

    // The same interaction still works with the right token, so the 403s came from CSRF and not a broken flow.
    const ok = await browser.postForm(started.action, { csrf: started.csrf, ...creds });
    assert.equal(ok.statusCode, 303);
    assert.ok(browser.jar.get('portcullis_session'));
  });
});

test('redirect_uri must match exactly', async () => {
  // Threat: open redirect / authorization code theft through a redirect_uri that only resembles the registered one.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);
    const variants = [
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?next=https://evil.example`,
      REDIRECT_URI.replace('/callback', '/Callback'),
      REDIRECT_URI.replace('https:', 'http:'),
      REDIRECT_URI.slice(0, -3),
      `${REDIRECT_URI}extra`,
      REDIRECT_URI.replace('app.example.com', 'app.example.com.evil.example'),
      REDIRECT_URI.replace('app.example.com', 'APP.example.com'),
      REDIRECT_URI.replace('app.example.com', 'app.example.com:443'),
      `${REDIRECT_URI}#frag`,
      'https://evil.example/callback',
    ];
    for (const bad of variants) {
      const response = await browser.get(authorizeUrl(authParams(fixture.clientId, { redirect_uri: bad })));
      assert.equal(response.statusCode, 400, `${bad}: ${response.statusCode} ${String(response.headers.location)}`);
      assert.equal(response.headers.location, undefined, `${bad}: never redirected`);
      assert.match(response.body, /has not registered/);
      assert.match(String(response.headers['content-type']), /text\/html/);
    }
    // Control: the exact URI is accepted.
    const good = await browser.get(authorizeUrl(authParams(fixture.clientId)));
    assert.equal(good.statusCode, 303);
    assert.match(location(good), /^\/interaction\//);
  });
});

test('PKCE is required for public clients', async () => {
  // Threat: authorization code interception (a stolen code is useless without the verifier).
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);

    const noChallenge = await browser.get(authorizeUrl(authParams(fixture.clientId, { code_challenge: undefined, code_challenge_method: undefined })));
    assert.equal(noChallenge.statusCode, 303);
    const noChallengeTo = new URL(location(noChallenge));
    assert.equal(noChallengeTo.searchParams.get('error'), 'invalid_request');
    assert.equal(noChallengeTo.searchParams.get('code'), null);
    assert.match(String(noChallengeTo.searchParams.get('error_description')), /PKCE/);

    const plain = await browser.get(authorizeUrl(authParams(fixture.clientId, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })));
    assert.equal(plain.statusCode, 303);
    const plainTo = new URL(location(plain));
    assert.equal(plainTo.searchParams.get('error'), 'invalid_request');
    assert.equal(plainTo.searchParams.get('code'), null);

    const result = await authorizeWithLogin(app, fixture);
    const wrong = await exchangeCode(app.server, { code: result.code, verifier: pkcePair().verifier, clientId: fixture.clientId });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.equal(wrong.body.access_token, undefined);

    const result2 = await authorizeWithLogin(app, fixture);
    const missing = await tokenRequest(app.server, { grant_type: 'authorization_code', code: result2.code, client_id: fixture.clientId, redirect_uri: REDIRECT_URI });
    assert.equal(missing.status, 400);
    assert.ok(['invalid_grant', 'invalid_request'].includes(String(missing.body.error)), missing.body.error);
    assert.equal(missing.body.access_token, undefined);
  });
});

test('authorization codes are single-use', async () => {
  // Threat: replay of an intercepted or leaked authorization code.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const result = await authorizeWithLogin(app, fixture);
    const first = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(first.status, 200);
    assert.equal((await userinfo(app.server, first.body.access_token!)).status, 200);

    const second = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(second.status, 400);
    assert.equal(second.body.error, 'invalid_grant');
    assert.equal(second.body.access_token, undefined);

    // Replay revokes what the first exchange issued.
    const afterReplay = await userinfo(app.server, first.body.access_token!);
    assert.equal(afterReplay.status, 401);
    const refresh = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, client_id: fixture.clientId });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
  });
});

test('the session cookie has its flags', async () => {
  // Threat: session theft through script access, cross-site sends or cleartext transport.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);
    const started = await startLogin(browser, authParams(fixture.clientId));
    const login = await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: fixture.password });
    assert.equal(login.statusCode, 303);
    const flags = cookieAttributes(login, 'portcullis_session');
    assert.ok(flags, 'login sets portcullis_session');
    assert.ok(flags.has('httponly'));
    assert.equal(flags.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(flags.get('path'), '/');
    assert.equal(flags.has('secure'), false, 'no Secure flag on an http public URL (the browser would drop it)');
    assert.ok(Number(flags.get('max-age')) > 0);
    const csrfFlags = cookieAttributes(started.loginPage, 'portcullis_csrf');
    assert.ok(csrfFlags?.has('httponly'));
    assert.equal(csrfFlags?.has('secure'), false);
  });

  // With an https public URL the cookies are Secure. oidc-provider refuses to set Secure cookies on a plain-http
  // request, so the flow runs as it would behind a TLS-terminating proxy: trustProxy=loopback and X-Forwarded-Proto.
  await withApp({ publicUrl: 'https://idp.example.com', trustProxy: 'loopback' }, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server, { headers: { host: 'idp.example.com', 'x-forwarded-proto': 'https' } }, 'https://idp.example.com');
    const started = await startLogin(browser, authParams(fixture.clientId));
    const csrfFlags = cookieAttributes(started.loginPage, 'portcullis_csrf');
    assert.ok(csrfFlags?.has('secure'), 'the CSRF cookie is Secure');
    const login = await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: fixture.password });
    assert.equal(login.statusCode, 303);
    const flags = cookieAttributes(login, 'portcullis_session');
    assert.ok(flags, 'login sets portcullis_session');
    assert.ok(flags.has('secure'), 'the session cookie is Secure');
    assert.ok(flags.has('httponly'));
    assert.equal(flags.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(flags.get('path'), '/');
    assert.match(String(login.headers['strict-transport-security']), /max-age=\d+/);
  });

  // Without a trusted proxy the setup page (same cookie options as the login page) still marks its cookie Secure.
  await withApp({ publicUrl: 'https://idp.example.com' }, async (app) => {
    const link = await app.createSetupLink();
    assert.ok(link);
    const page = await app.server.inject({ method: 'GET', url: link, headers: { host: 'idp.example.com' } });
    assert.equal(page.statusCode, 200);
    const flags = cookieAttributes(page, 'portcullis_csrf');
    assert.ok(flags?.has('secure'));
    assert.ok(flags?.has('httponly'));
    assert.equal(flags?.get('samesite')?.toLowerCase(), 'lax');
  });
});

test('secrets never appear in logs', async () => {
  // Threat: credentials and tokens leaking through log files, log shippers and support tickets.
  await withApp({}, async (app) => {
    const secrets: Record<string, string> = {};

    // First run: the setup link creates the admin.
    const link = await app.createSetupLink();
    assert.ok(link);
    const setupToken = link.slice('/setup/'.length);
    secrets.setupToken = setupToken;
    secrets.setupSecret = setupToken.split('.')[1]!;
    const admin = new Browser(app.server);
    const setupPage = await admin.get(link);
    assert.equal(setupPage.statusCode, 200);
    const adminPassword = 'admin password that is long';
    secrets.adminPassword = adminPassword;
    const created = await admin.postForm(link, { csrf: hiddenCsrf(setupPage.body), org: 'Acme', email: 'admin@example.com', password: adminPassword });
    assert.equal(created.statusCode, 201);

    // A confidential client runs the full flow, including a failed login and a refresh.
    const { secret } = await addClient(app.store, app.clock, { clientId: 'backend-app', redirectUris: [REDIRECT_URI], public: false, firstParty: true });
    assert.ok(secret);
    secrets.clientSecret = secret;
    const browser = new Browser(app.server);
    const failed = await startLogin(browser, authParams('backend-app'));
    secrets.wrongPassword = 'a wrong password, also secret';
    const bad = await browser.postForm(failed.action, { csrf: failed.csrf, email: 'admin@example.com', password: secrets.wrongPassword });
    assert.equal(bad.statusCode, 401);
    const result = await authorizeWithLogin(app, { clientId: 'backend-app', email: 'admin@example.com', password: adminPassword }, { browser });
    secrets.code = result.code;
    secrets.verifier = result.verifier;
    secrets.sessionCookie = browser.jar.get('portcullis_session')!;
    secrets.sessionSecret = secrets.sessionCookie.split('.')[1]!;
    secrets.oidcSessionCookie = browser.jar.get('portcullis_oidc')!;
    secrets.csrfCookie = browser.jar.get('portcullis_csrf')!;
    const tokens = await tokenRequest(
      app.server,
      { grant_type: 'authorization_code', code: result.code, code_verifier: result.verifier, redirect_uri: REDIRECT_URI },
      { authorization: basicAuth('backend-app', secret) },
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    secrets.accessToken = tokens.body.access_token!;
    secrets.refreshToken = tokens.body.refresh_token!;
    secrets.idToken = tokens.body.id_token!;
    assert.equal((await userinfo(app.server, secrets.accessToken)).status, 200);
    const refreshed = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: secrets.refreshToken }, { authorization: basicAuth('backend-app', secret) });
    assert.equal(refreshed.status, 200);
    secrets.refreshedAccess = refreshed.body.access_token!;
    secrets.refreshedRefresh = refreshed.body.refresh_token!;
    // Tokens sent where they are not expected (query string) must not be echoed to the log either.
    await app.server.inject({ method: 'GET', url: `/oidc/me?access_token=${secrets.refreshedAccess}` });
    await app.server.inject({ method: 'GET', url: `/nowhere?code=${secrets.code}&password=${encodeURIComponent(adminPassword)}` });

    for (const [name, value] of Object.entries(secrets)) assert.ok(value && value.length >= 8, `captured ${name}`);
    const logs = app.logs.join('\n');
    assert.ok(logs.includes('/oidc/token'), 'requests are logged at all (the test is not vacuous)');
    assert.ok(logs.includes('/setup/'), 'the setup request is logged, with its token redacted');
    for (const [name, value] of Object.entries(secrets)) {
      assert.equal(logs.includes(value), false, `${name} appears in the logs`);
    }
  });
});

test('client secrets are hashed at rest', async () => {
  // Threat: a database dump or backup handing out working client credentials.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const { secret, client } = await addClient(app.store, app.clock, { clientId: 'backend-app', redirectUris: [REDIRECT_URI], public: false, firstParty: true });
    assert.ok(secret);
    const stored = await app.store.clients.find('backend-app');
    assert.ok(stored);
    const storedSecret = String(stored.metadata.client_secret);
    assert.notEqual(storedSecret, secret);
    assert.equal(JSON.stringify(stored).includes(secret), false, 'no plaintext secret in the stored client');
    assert.equal(JSON.stringify(client).includes(secret), false, 'no plaintext secret in the returned record');
    assert.equal(bytesAtRest(app).includes(Buffer.from(secret)), false, 'no plaintext secret in the database files');

    const login = async () => authorizeWithLogin(app, { clientId: 'backend-app', email: fixture.email, password: fixture.password });
    const exchange = (code: string, verifier: string, auth: string) =>
      tokenRequest(app.server, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI }, { authorization: auth });

    const result = await login();
    const wrong = await exchange(result.code, result.verifier, basicAuth('backend-app', `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const hashAsSecret = await exchange(result.code, result.verifier, basicAuth('backend-app', storedSecret));
    assert.equal(hashAsSecret.status, 401, 'the stored hash is not itself a credential');
    const hashOnly = await exchange(result.code, result.verifier, basicAuth('backend-app', storedSecret.replace(/^sha256:/, '')));
    assert.equal(hashOnly.status, 401);
    const noSecret = await tokenRequest(app.server, { grant_type: 'authorization_code', code: result.code, code_verifier: result.verifier, redirect_uri: REDIRECT_URI, client_id: 'backend-app' });
    assert.equal(noSecret.status, 401);

    const right = await exchange(result.code, result.verifier, basicAuth('backend-app', secret));
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.ok(right.body.access_token);
  });
});

test('session tokens are hashed at rest', async () => {
  // Threat: a database dump or backup letting an attacker replay browser sessions.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const result = await authorizeWithLogin(app, fixture);
    const cookie = result.browser.jar.get('portcullis_session');
    assert.ok(cookie);
    const [id, secret] = cookie.split('.');
    assert.ok(id && secret && secret.length >= 32, 'cookie is id.secret');

    const session = await app.store.sessions.findById(id);
    assert.ok(session, 'the session is stored under the public id');
    assert.equal(session.userId, fixture.user.id);
    assert.notEqual(session.secretHash, secret);
    assert.notEqual(session.secretHash, cookie);

    const db = new Database(sqliteFile(app), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('select * from sessions where id = ?').get(id) as Record<string, unknown> | undefined;
      assert.ok(row, 'row in the sessions table');
      assert.notEqual(row.secret_hash, secret);
      assert.equal(JSON.stringify(row).includes(secret), false, 'no column holds the secret');
    } finally {
      db.close();
    }
    assert.equal(bytesAtRest(app).includes(Buffer.from(secret)), false, 'the cookie secret is nowhere in the database files');

    // Knowing the hash does not help: a cookie built from it is not a session.
    const forged = await result.browser.server.inject({
      method: 'GET',
      url: authorizeUrl(authParams(fixture.clientId)),
      headers: { host: 'localhost:3000', cookie: `portcullis_session=${id}.${session.secretHash}` },
    });
    assert.equal(forged.statusCode, 303);
    const page = await app.server.inject({ method: 'GET', url: location(forged), headers: { host: 'localhost:3000', cookie: [setCookies(forged).map((c) => c.split(';')[0]).join('; '), `portcullis_session=${id}.${session.secretHash}`].join('; ') } });
    assert.equal(page.statusCode, 200, 'a forged cookie gets the login form, not a finished login');
    assert.match(page.body, /name="password"/);
  });
});

test('X-Forwarded-For from an untrusted peer is ignored', async () => {
  // Threat: an attacker spoofing their IP to dodge IP-keyed protections or frame someone else.
  const failedLoginIp = async (app: TestApp, remoteAddress: string): Promise<string | null> => {
    const fixture = await seedPublicClient(app, { email: 'alice@example.com' });
    const browser = new Browser(app.server, { headers: { host: 'localhost:3000', 'x-forwarded-for': '203.0.113.9' }, remoteAddress });
    const started = await startLogin(browser, authParams(fixture.clientId));
    const response = await browser.postForm(started.action, { csrf: started.csrf, email: 'alice@example.com', password: 'not the password' });
    assert.equal(response.statusCode, 401);
    const events = await app.store.events.list({ limit: 5 });
    const failure = events.find((e) => e.code === 'login_failed_password');
    assert.ok(failure, `a failed login event among ${events.map((e) => e.code).join(', ')}`);
    return failure.ip;
  };

  await withApp({}, async (app) => {
    assert.equal(await failedLoginIp(app, '198.51.100.7'), '198.51.100.7');
  });
  await withApp({}, async (app) => {
    assert.equal(await failedLoginIp(app, '127.0.0.1'), '127.0.0.1', 'even loopback is untrusted by default');
  });
  await withApp({ trustProxy: 'loopback' }, async (app) => {
    assert.equal(await failedLoginIp(app, '127.0.0.1'), '203.0.113.9', 'a trusted proxy forwards the client IP');
  });
  await withApp({ trustProxy: 'loopback' }, async (app) => {
    assert.equal(await failedLoginIp(app, '198.51.100.7'), '198.51.100.7', 'a peer outside the trusted list is not believed');
  });
});

test('X-Forwarded-Host from an untrusted peer does not steer OIDC endpoint URLs', async () => {
  // Threat: a peer outside the trusted proxy list rewriting discovery/redirect URLs (cache poisoning, token endpoint phishing).
  await withApp({ trustProxy: '10.0.0.0/8' }, async (app) => {
    const response = await app.server.inject({
      method: 'GET',
      url: '/oidc/.well-known/openid-configuration',
      remoteAddress: '198.51.100.7',
      headers: { host: 'localhost:3000', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    assert.equal(response.statusCode, 200);
    const meta = JSON.parse(response.body) as Record<string, string>;
    assert.equal(new URL(meta.token_endpoint!).host, 'localhost:3000');
  });
  // A direct client's own Host header cannot steer them either: URLs always come from the public URL.
  await withApp({}, async (app) => {
    const response = await app.server.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration', headers: { host: 'evil.example' } });
    const meta = JSON.parse(response.body) as Record<string, string>;
    assert.equal(new URL(meta.token_endpoint!).origin, 'http://localhost:3000');
    assert.equal(new URL(meta.jwks_uri!).origin, 'http://localhost:3000');
  });
});

test('CSP is on every page', async () => {
  // Threat: cross-site scripting turning into account takeover on the login and setup pages.
  await withApp({}, async (app) => {
    const link = await app.createSetupLink();
    assert.ok(link);
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);
    const started = await startLogin(browser, authParams(fixture.clientId));
    const html = { accept: 'text/html' };
    const pages: Array<[string, LightMyRequestResponse, number]> = [
      ['login page', started.loginPage, 200],
      ['setup page', await browser.get(link, html), 200],
      ['error page', await browser.get('/no/such/page', html), 404],
      ['demo page', await browser.get('/demo', html), 200],
      ['oidc error page', await browser.get(authorizeUrl(authParams('no-such-client')), html), 400],
      ['wrong password page', await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: 'nope nope nope' }), 401],
      ['csrf error page', await browser.postForm(started.action, { email: fixture.email, password: 'x' }), 403],
    ];
    // The refusal page of a blocked (account, IP) pair, answered from the refusal memory (ADR 0012).
    for (let i = 0; i < 10; i++) await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: `wrong ${i}` });
    await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: 'decided by the stores' });
    pages.push(['sign-in paused page', await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: 'from memory' }), 429]);
    for (const [label, response, status] of pages) {
      assert.equal(response.statusCode, status, `${label} status`);
      assert.match(String(response.headers['content-type']), /text\/html/, `${label} is HTML`);
      const csp = String(response.headers['content-security-policy'] ?? '');
      assert.ok(csp, `${label} has a CSP`);
      const directives = new Map(csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [String(name), values] as const;
      }));
      assert.deepEqual(directives.get('script-src'), ["'self'"], `${label} script-src`);
      assert.equal(csp.includes('unsafe-inline'), false, `${label} has no unsafe-inline`);
      assert.equal(csp.includes('unsafe-eval'), false, `${label} has no unsafe-eval`);
      assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], `${label} cannot be framed`);
      assert.equal(/<script(?![^>]*\bsrc=)[^>]*>/i.test(response.body), false, `${label} has no inline script`);
    }
  });
});

test('security headers are the same on every response, with HSTS only for an https public URL', () => {
  // Threat: a response path (a mounted handler, an error, a refusal) that ships without the headers.
  const plain = new Map(securityHeaders({ hsts: false }));
  const https = new Map(securityHeaders({ hsts: true, captchaOrigins: ['https://challenges.example'] }));
  assert.equal(plain.has('strict-transport-security'), false, 'no HSTS on an http public URL');
  assert.equal(https.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  assert.match(String(https.get('content-security-policy')), /script-src 'self' https:\/\/challenges\.example;/);
  for (const headers of [plain, https]) {
    assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.equal(headers.get('referrer-policy'), 'no-referrer');
    assert.match(String(headers.get('content-security-policy')), /frame-ancestors 'none'/);
  }
});

test('device cookies are hashed at rest', async () => {
  // Threat: a database dump letting someone pose as a user's known device and skip the new-device checks.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const browser = new Browser(app.server);
    await authorizeWithLogin(app, fixture, { browser });
    const cookie = browser.jar.get('portcullis_device');
    assert.ok(cookie, 'the login set a device cookie');
    const [device] = await app.store.devices.listForUser(fixture.user.id, 0);
    assert.ok(device, 'the device is remembered');
    assert.notEqual(device.deviceHash, cookie);
    assert.equal(bytesAtRest(app).includes(Buffer.from(cookie)), false, 'no plaintext device cookie in the database files');
  });
});

test('webhook signing secrets are sealed at rest', async () => {
  // Threat: a database dump letting someone forge signed deliveries to an operator's SIEM.
  await withApp({}, async (app) => {
    const { secret, webhook } = await addWebhook({ store: app.store, clock: app.clock, sealKey: webhookSealKey(app.config.secret) }, { url: 'https://siem.example.com/hook' });
    assert.equal(JSON.stringify(webhook).includes(secret), false, 'the returned record has no secret');
    assert.equal(JSON.stringify(await app.store.webhooks.list()).includes(secret), false, 'the stored record holds only the sealed form');
    assert.equal(bytesAtRest(app).includes(Buffer.from(secret)), false, 'no plaintext secret in the database files');
  });
});

test('login tokens are not management-API tokens', async () => {
  // Threat: an app's user access token (or ID token) used against /api/v1 to act as an administrator.
  await withApp({}, async (app) => {
    const fixture = await seedPublicClient(app);
    const result = await authorizeWithLogin(app, fixture, { scope: 'openid email' });
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200);
    for (const token of [tokens.body.access_token, tokens.body.id_token] as string[]) {
      const response = await app.server.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, 'unauthorized');
    }
  });
});
