// Malformed, oversized and wrongly typed input gets a clear 4xx (never a 500), and the server keeps serving afterwards.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeUrl, authorizeWithLogin, Browser, exchangeCode, followUntilExternal, pkcePair, REDIRECT_URI, seedPublicClient, startLogin, type Fixture, type StartedLogin } from '../helpers/oidc-flow.js';

const FORM = 'application/x-www-form-urlencoded';

describe('bad input', () => {
  let app: TestApp;
  let fixture: Fixture;
  let serverErrors: string[];
  let logMark = 0;

  before(async () => {
    app = await createTestApp();
    fixture = await seedPublicClient(app);
    serverErrors = [];
    // oidc-provider turns its own exceptions into 500 pages through this event; none may happen.
    app.provider.on('server_error', (_ctx: unknown, error: Error) => serverErrors.push(error.message));
  });
  after(async () => {
    await app.dispose();
  });
  beforeEach(() => {
    logMark = app.logs.length;
    serverErrors.length = 0;
  });
  afterEach(async () => {
    const health = await app.server.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200, 'the server keeps working');
    assert.deepEqual(serverErrors, []);
    const unhandled = app.logs.slice(logMark).filter((line) => line.includes('unhandled error') || /"statusCode":5\d\d/.test(line));
    assert.deepEqual(unhandled, [], 'no 5xx was logged');
  });

  function authParams(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
      client_id: fixture.clientId,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: REDIRECT_URI,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      state: 'st',
      ...overrides,
    };
  }

  async function freshLogin(): Promise<{ browser: Browser; started: StartedLogin }> {
    const browser = new Browser(app.server);
    return { browser, started: await startLogin(browser, authParams()) };
  }

  function expectStatus(response: LightMyRequestResponse, status: number, label: string, message?: RegExp): void {
    assert.equal(response.statusCode, status, `${label}: got ${response.statusCode} ${response.body.slice(0, 200)}`);
    if (message) assert.match(response.body, message, `${label}: clear message`);
    assert.doesNotMatch(response.body, /\bat [\w.<>]+ \(.*:\d+:\d+\)/, `${label}: no stack trace`);
  }

  test('login form: malformed, oversized and wrongly typed bodies get a clear 4xx', async () => {
    const { browser, started } = await freshLogin();
    const post = (options: Partial<InjectOptions>) => browser.request({ method: 'POST', url: started.action, ...options } as InjectOptions & { url: string });
    const { csrf } = started;

    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: '{"csrf":' }), 400, 'malformed JSON', /not valid/);
    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: '[1,2]' }), 403, 'JSON array body');
    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: 'null' }), 403, 'JSON null body');
    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: fixture.email, password: fixture.password }) }), 403, 'JSON body to a form route without the CSRF token');
    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ csrf, email: 5, password: { a: 1 } }) }), 400, 'JSON body with wrongly typed fields', /Email must be sent once, as text/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=a%40example.com&email=b%40example.com&password=x` }), 400, 'email sent twice', /Email must be sent once, as text/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=a%40example.com&password=x&password=y` }), 400, 'password sent twice', /Password must be sent once/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&csrf=${csrf}&email=a&password=x` }), 403, 'csrf sent twice');
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&password=x` }), 400, 'missing email', /Email is required/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=a%40example.com` }), 400, 'missing password', /Password is required/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=a&password=${'x'.repeat(70 * 1024)}` }), 413, 'form body over 64 KB', /too large/);
    expectStatus(await post({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ csrf, pad: 'y'.repeat(70 * 1024) }) }), 413, 'JSON body over 64 KB');
    expectStatus(await post({ headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--' }), 415, 'multipart body', /content type/);
    expectStatus(await post({ payload: 'abc' }), 415, 'body without a content type');
    expectStatus(await post({ headers: { 'content-type': 'text/plain' }, payload: 'csrf=x' }), 403, 'text/plain body');
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=${'e'.repeat(1000)}&password=x` }), 400, '1000-character email', /Email is too long/);
    // Lenient decoding is fine as long as it ends as an ordinary failed login, not an exception.
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&email=%E0%A4%A&password=%zz` }), 401, 'malformed percent-encoding', /Incorrect email or password/);
    expectStatus(await post({ headers: { 'content-type': FORM }, payload: `csrf=${csrf}&__proto__=x&constructor=y&email=a&password=b` }), 401, 'prototype-polluting field names');
    expectStatus(await browser.postForm(started.action, { csrf, email: 'a\u0000b@example.com', password: 'x\u0000y' }), 401, 'NUL bytes');

    assert.equal(browser.jar.get('portcullis_session'), undefined, 'none of it logged anyone in');
  });

  test('a 2000-character password at login is refused with 400 before hashing', async () => {
    const { browser, started } = await freshLogin();
    const response = await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: 'p'.repeat(2000) });
    expectStatus(response, 400, 'long password', /Password is too long \(at most 1024 characters\)/);
    assert.match(String(response.headers['content-type']), /text\/html/);
    const failures = (await app.store.events.list({ limit: 20 })).filter((e) => e.code.startsWith('login_failed'));
    assert.equal(failures.some((e) => e.identifier === fixture.email), false, 'no attempt recorded: it never reached the password check');
  });

  test('/oidc/auth: unknown client and invalid parameters never reach a 500', async () => {
    const browser = new Browser(app.server);
    const html = { accept: 'text/html' };
    expectStatus(await browser.get(authorizeUrl(authParams({ client_id: 'no-such-client' })), html), 400, 'unknown client_id', /not registered here/);
    expectStatus(await browser.get(authorizeUrl(authParams({ client_id: undefined })), html), 400, 'missing client_id', /missing required parameter/);
    expectStatus(await browser.get(`${authorizeUrl(authParams())}&client_id=other`, html), 400, 'client_id twice', /must not be provided twice/);
    // Without redirect_uri oidc-provider falls back to the client's only registered URI, which is safe.
    const noRedirect = await browser.get(authorizeUrl(authParams({ redirect_uri: undefined })));
    assert.equal(noRedirect.statusCode, 303);
    assert.match(String(noRedirect.headers.location), /^\/interaction\//);
    expectStatus(await browser.get(authorizeUrl(authParams({ redirect_uri: 'not a url' })), html), 400, 'malformed redirect_uri');

    // Once the client and redirect_uri are verified, OAuth errors go back to the app (RFC 6749 §4.1.2.1), never to a 500.
    const errorRedirects: Array<[string, Record<string, string | undefined>, string]> = [
      ['bad response_type', { response_type: 'banana' }, 'unsupported_response_type'],
      ['missing response_type', { response_type: undefined }, 'invalid_request'],
      ['implicit response_type', { response_type: 'token' }, 'unsupported_response_type'],
      ['invalid scope characters', { scope: 'openid\u0001' }, 'invalid_scope'],
      ['bad code_challenge_method', { code_challenge_method: 'S512' }, 'invalid_request'],
      ['bad prompt', { prompt: 'banana' }, 'invalid_request'],
    ];
    for (const [label, overrides, error] of errorRedirects) {
      const response = await browser.get(authorizeUrl(authParams(overrides)));
      assert.equal(response.statusCode, 303, `${label}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      const to = new URL(String(response.headers.location));
      assert.equal(`${to.origin}${to.pathname}`, REDIRECT_URI, `${label}: only to the registered URI`);
      const params = new URLSearchParams(to.search || to.hash.slice(1));
      assert.equal(params.get('error'), error, label);
      assert.equal(params.get('code'), null, label);
    }

    // A missing scope is accepted by oidc-provider as plain OAuth 2.0, but nothing can be granted: the app gets
    // access_denied after the login instead of a code (see the report: an up-front invalid_scope would be kinder).
    const noScopeBrowser = new Browser(app.server);
    const started = await startLogin(noScopeBrowser, authParams({ scope: undefined }));
    const login = await noScopeBrowser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: fixture.password });
    assert.equal(login.statusCode, 303);
    const final = await followUntilExternal(noScopeBrowser, login);
    assert.equal(final.statusCode, 303);
    const to = new URL(String(final.headers.location));
    assert.equal(`${to.origin}${to.pathname}`, REDIRECT_URI);
    assert.equal(to.searchParams.get('error'), 'access_denied');
    assert.equal(to.searchParams.get('code'), null, 'no code without a scope');
  });

  test('interaction and setup routes with garbage ids answer 4xx', async () => {
    const browser = new Browser(app.server);
    expectStatus(await browser.get('/interaction/xyz'), 400, 'garbage uid', /expired/);
    expectStatus(await browser.get('/interaction/xyz', { accept: 'text/html' }), 400, 'garbage uid (HTML)', /expired/);
    expectStatus(await browser.get('/interaction/%00%ff'), 400, 'undecodable uid');
    expectStatus(await browser.get(`/interaction/${'x'.repeat(300)}`), 400, 'overlong uid', /expired/);
    expectStatus(await browser.get(`/interaction/${'x'.repeat(3000)}`), 414, 'a path parameter over 2048 characters');
    expectStatus(await browser.postForm('/interaction/xyz/login', { csrf: 'a', email: 'a@example.com', password: 'b' }), 400, 'login on a garbage uid', /expired/);
    expectStatus(await browser.postForm('/interaction/xyz/confirm', { csrf: 'a' }), 400, 'confirm on a garbage uid');
    expectStatus(await browser.postForm('/interaction/xyz/abort', { csrf: 'a' }), 400, 'abort on a garbage uid');
    expectStatus(await browser.get('/no/such/route'), 404, 'unknown route', /does not exist/);
    expectStatus(await browser.get('/no/such/route', { accept: 'text/html' }), 404, 'unknown route (HTML)', /Page not found/);
    expectStatus(await browser.request({ method: 'DELETE', url: '/healthz' }), 404, 'unknown method');
    expectStatus(await browser.get('/setup/garbage'), 410, 'GET /setup/garbage', /not valid/);
    expectStatus(await browser.get(`/setup/${'a'.repeat(22)}.${'b'.repeat(43)}`), 410, 'well-formed but unknown setup token', /not valid/);
    expectStatus(await browser.postForm('/setup/garbage', { csrf: 'bad', org: 'Acme', email: 'a@example.com', password: 'long enough password' }), 403, 'POST /setup/garbage with a bad csrf', /expired or was not sent from this site/);
    expectStatus(await browser.postForm('/setup/garbage', {}), 403, 'POST /setup/garbage with nothing');
    assert.equal(await app.store.users.count(), 1, 'no user created');
  });

  test('malformed cookies and headers are ignored, not fatal', async () => {
    const garbageCookie = 'portcullis_csrf=%%%; ;;=; portcullis_interaction=%ZZ; portcullis_oidc=%%%; portcullis_oidc.sig=zz; portcullis_session=a.b';
    const page = await app.server.inject({ method: 'GET', url: '/interaction/abcdef', headers: { cookie: garbageCookie } });
    expectStatus(page, 400, 'interaction page with garbage cookies', /expired/);
    const auth = await app.server.inject({ method: 'GET', url: authorizeUrl(authParams()), headers: { cookie: garbageCookie } });
    assert.equal(auth.statusCode, 303, 'authorize ignores garbage cookies');
    assert.match(String(auth.headers.location), /^\/interaction\//);
    const basic = await app.server.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': FORM, authorization: 'Basic !!!' }, payload: 'grant_type=authorization_code&code=x' });
    expectStatus(basic, 400, 'garbage Basic auth');
    const tokenJson = await app.server.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' });
    expectStatus(tokenJson, 400, 'malformed JSON at the token endpoint');
    const tokenHuge = await app.server.inject({ method: 'POST', url: '/oidc/token', headers: { 'content-type': FORM }, payload: `grant_type=authorization_code&code=${'x'.repeat(100 * 1024)}` });
    assert.ok(tokenHuge.statusCode >= 400 && tokenHuge.statusCode < 500, `oversized token request: ${tokenHuge.statusCode}`);
    const bearer = await app.server.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: 'Bearer garbage' } });
    expectStatus(bearer, 401, 'garbage bearer token');
  });

  test('after all the bad input a normal sign-in still works', async () => {
    const result = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200);
    assert.ok(tokens.body.id_token);
  });
});
