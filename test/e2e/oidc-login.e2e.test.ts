// End to end: real Chromium, a real Portcullis on a loopback port, and real relying parties built on openid-client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { addClient } from '../../src/admin/clients.js';
import type { User } from '../../src/domain/types.js';

const skip = browserSkipReason();
const PASSWORD = 'correct horse battery staple 42';
const LOGIN_SCREENSHOT = '/tmp/portcullis-login.png';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Portcullis {
  app: TestApp;
  baseUrl: string;
  issuer: string;
}

/** The issuer must name the port, so the port is chosen before the app is built. */
async function startPortcullis(): Promise<Portcullis> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const app = await createTestApp({ publicUrl: baseUrl, port });
  await app.server.listen({ port, host: '127.0.0.1' });
  return { app, baseUrl, issuer: app.config.issuer };
}

async function addUser(app: TestApp, email: string): Promise<User> {
  const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
  const orgName = `Org ${randomBytes(4).toString('hex')}`;
  await createOrg(deps, orgName);
  return createUser(deps, { email, password: PASSWORD, orgName, role: 'member' });
}

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/** What the relying party's callback did, for the test to check. */
interface Completed {
  tokens: Tokens;
  claims: oidc.IDToken;
  userinfo: oidc.UserInfoResponse;
  refreshed: Tokens | null;
}

interface RelyingParty {
  origin: string;
  clientId: string;
  /** Set by a confidential client's test once Portcullis has issued the secret (before the first request). */
  clientSecret: string | null;
  redirectUri: string;
  postLogoutRedirectUri: string;
  configuration(): Promise<oidc.Configuration>;
  completed: Completed[];
  errors: unknown[];
  loggedOut: number;
  close(): Promise<void>;
}

/**
 * A small relying party on node:http. It runs on 127.0.0.1 while Portcullis runs on localhost, so the two never share cookies.
 * GET /login starts the code flow with PKCE; /callback exchanges the code, validates the ID token, calls userinfo and refreshes once.
 */
async function startRelyingParty(issuer: string, clientId: string): Promise<RelyingParty> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const redirectUri = `${origin}/callback`;
  const postLogoutRedirectUri = `${origin}/logged-out`;
  const pending = new Map<string, string>(); // state -> PKCE verifier
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () =>
    (discovered ??= oidc.discovery(
      new URL(issuer),
      clientId,
      undefined,
      rp.clientSecret ? oidc.ClientSecretBasic(rp.clientSecret) : oidc.None(),
      { execute: [oidc.allowInsecureRequests] },
    ));
  const rp: RelyingParty = {
    origin,
    clientId,
    clientSecret: null,
    redirectUri,
    postLogoutRedirectUri,
    configuration,
    completed: [],
    errors: [],
    loggedOut: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const send = (res: import('node:http').ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><title>Test RP</title><body>${body}</body></html>`);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    void (async () => {
      try {
        const config = await configuration();
        if (url.pathname === '/login') {
          const verifier = oidc.randomPKCECodeVerifier();
          const state = oidc.randomState();
          pending.set(state, verifier);
          const to = oidc.buildAuthorizationUrl(config, {
            redirect_uri: redirectUri,
            scope: 'openid email',
            code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
            state,
          });
          res.writeHead(302, { location: to.href });
          res.end();
        } else if (url.pathname === '/callback') {
          const state = url.searchParams.get('state') ?? '';
          const verifier = pending.get(state);
          if (!verifier) return send(res, 400, '<h1>Unknown state</h1>');
          pending.delete(state);
          const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state });
          const claims = tokens.claims();
          if (!claims) throw new Error('no ID token in the token response');
          const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          const refreshed = tokens.refresh_token ? await oidc.refreshTokenGrant(config, tokens.refresh_token) : null;
          rp.completed.push({ tokens, claims, userinfo, refreshed });
          send(res, 200, `<h1 id="rp-signed-in">Signed in to the test RP</h1>`);
        } else if (url.pathname === '/logged-out') {
          rp.loggedOut += 1;
          send(res, 200, `<h1 id="rp-logged-out">Signed out of the test RP</h1>`);
        } else {
          send(res, 404, '<h1>Not found</h1>');
        }
      } catch (error) {
        rp.errors.push(error);
        send(res, 500, `<h1 id="rp-error">RP error</h1><pre>${String(error).replace(/</g, '&lt;')}</pre>`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return rp;
}

/** Fails with the relying party's own error when its callback threw, rather than a bare timeout. */
function assertNoRpErrors(rp: RelyingParty): void {
  if (rp.errors.length > 0) throw rp.errors[0];
}

async function signIn(browser: TestBrowser, email: string, password: string): Promise<void> {
  const { page } = browser;
  await page.locator('#email').waitFor();
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('OIDC login in a real browser', () => {
  let portcullis: Portcullis;
  before(async () => {
    if (skip) return;
    portcullis = await startPortcullis();
  });
  after(async () => {
    await portcullis?.app.dispose();
  });

  test('confidential first-party RP: login, tokens, userinfo, refresh rotation, RP-initiated logout', { skip }, async (t) => {
    const { app, issuer, baseUrl } = portcullis;
    const user = await addUser(app, 'alice@example.test');
    const browser = await launchBrowser();
    t.after(() => browser.close());
    // Register the client once the RP's port is known: its redirect URIs name the port.
    const clientId = 'e2e-confidential';
    const rp = await startRelyingParty(issuer, clientId);
    t.after(() => rp.close());
    const { secret } = await addClient(app.store, app.clock, {
      clientId,
      redirectUris: [rp.redirectUri],
      postLogoutRedirectUris: [rp.postLogoutRedirectUri],
      public: false,
      secret: null,
      firstParty: true,
    });
    assert.ok(secret, 'a confidential client gets a generated secret');
    rp.clientSecret = secret;
    const { page } = browser;

    // The browser starts at the RP, which sends it to Portcullis' hosted login page.
    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await page.locator('#email').waitFor();
    await page.screenshot({ path: LOGIN_SCREENSHOT, fullPage: true });
    await signIn(browser, user.email, PASSWORD);
    await page.waitForURL(`${rp.redirectUri}?**`);
    assertNoRpErrors(rp);
    await page.locator('#rp-signed-in').waitFor();

    // First party: no consent page. The RP validated the ID token; check what it saw.
    assert.equal(rp.completed.length, 1);
    const done = rp.completed[0];
    assert.ok(done);
    assert.equal(done.claims.sub, user.id);
    assert.equal(done.claims.iss, issuer);
    assert.deepEqual([done.claims.aud].flat(), [clientId]);
    assert.equal(done.userinfo.sub, user.id);
    assert.equal(done.userinfo.email, user.email);
    assert.equal(done.tokens.token_type.toLowerCase(), 'bearer');

    // Refresh tokens rotate: a new one on every use, and the used one stops working.
    const oldRefresh = done.tokens.refresh_token;
    assert.ok(oldRefresh, 'a refresh token was issued');
    assert.ok(done.refreshed?.refresh_token, 'the refresh grant returned a new refresh token');
    assert.notEqual(done.refreshed.refresh_token, oldRefresh);
    assert.ok(done.refreshed.access_token);
    const config = await rp.configuration();
    await assert.rejects(oidc.refreshTokenGrant(config, oldRefresh), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError, `expected an OAuth error response, got ${String(error)}`);
      assert.equal(error.error, 'invalid_grant');
      return true;
    });
    // Reusing a rotated refresh token looks like theft, so the whole grant is revoked, the newest refresh token too.
    await assert.rejects(oidc.refreshTokenGrant(config, done.refreshed.refresh_token), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError, `expected an OAuth error response, got ${String(error)}`);
      assert.equal(error.error, 'invalid_grant');
      return true;
    });

    // RP-initiated logout: Portcullis asks, the user confirms, the browser returns to the RP.
    const logoutUrl = oidc.buildEndSessionUrl(config, {
      id_token_hint: done.tokens.id_token!,
      post_logout_redirect_uri: rp.postLogoutRedirectUri,
      state: 'bye',
    });
    await page.goto(logoutUrl.href);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${rp.postLogoutRedirectUri}?**`);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
    await page.locator('#rp-logged-out').waitFor();
    assert.equal(rp.loggedOut, 1);

    // The Portcullis session is gone: a new login asks for credentials again.
    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await page.locator('#email').waitFor();
    assert.equal(await page.locator('#password').count(), 1);
    assert.equal(rp.completed.length, 1, 'no silent sign-in after logout');
    assert.deepEqual(await app.store.sessions.listActiveForUser(user.id), []);

    const codes = (await app.store.events.list({ userId: user.id, limit: 20 })).map((e) => e.code);
    assert.ok(codes.includes('login_success'), `events: ${codes.join(', ')}`);
    assert.ok(codes.includes('logout'), `events: ${codes.join(', ')}`);
    assertNoRpErrors(rp);
  });

  test('third-party public client: consent page, Allow, then PKCE code exchange', { skip }, async (t) => {
    const { app, issuer, baseUrl } = portcullis;
    const user = await addUser(app, 'bob@example.test');
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const rp = await startRelyingParty(issuer, 'e2e-public-third-party');
    t.after(() => rp.close());
    await addClient(app.store, app.clock, {
      clientId: rp.clientId,
      redirectUris: [rp.redirectUri],
      postLogoutRedirectUris: [rp.postLogoutRedirectUri],
      public: true,
      secret: null,
      firstParty: false,
      name: 'Third Party App',
    });
    const { page } = browser;

    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await signIn(browser, user.email, PASSWORD);

    // Not first party: Portcullis asks the user before the app gets anything.
    const allow = page.getByRole('button', { name: 'Allow' });
    await allow.waitFor();
    assert.match(new URL(page.url()).pathname, /^\/interaction\//);
    assert.match(await page.locator('main').innerText(), /Third Party App/);
    assert.equal(rp.completed.length, 0, 'no code before consent');
    await allow.click();

    await page.waitForURL(`${rp.redirectUri}?**`);
    assertNoRpErrors(rp);
    await page.locator('#rp-signed-in').waitFor();
    assert.equal(rp.completed.length, 1);
    const done = rp.completed[0];
    assert.ok(done);
    assert.equal(done.claims.sub, user.id);
    assert.deepEqual([done.claims.aud].flat(), [rp.clientId]);
    assert.equal(done.userinfo.email, user.email);
  });

  test('the /demo page signs in and shows the claims', { skip }, async (t) => {
    const { app, baseUrl } = portcullis;
    const user = await addUser(app, 'carol@example.test');
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;

    await page.goto(`${baseUrl}/demo`);
    await page.getByRole('link', { name: 'Sign in with Portcullis' }).click();
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await signIn(browser, user.email, PASSWORD);
    await page.waitForURL(`${baseUrl}/demo/callback?**`);

    // The email reaches the app through userinfo: oidc-provider keeps scope claims out of the ID token when an access token is issued.
    const claims = await page.locator('#id-token-claims').innerText();
    assert.ok(claims.includes(user.id), `claims show the sub: ${claims}`);
    assert.ok((await page.locator('main').innerText()).includes(user.email), 'the page shows the email');
    const userinfo = JSON.parse(await page.locator('#userinfo').innerText()) as Record<string, unknown>;
    assert.equal(userinfo.sub, user.id);
    assert.equal(userinfo.email, user.email);
  });

  test('a wrong password shows an accessible error and keeps the email', { skip }, async (t) => {
    const { app, baseUrl } = portcullis;
    const user = await addUser(app, 'dave@example.test');
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;

    await page.goto(`${baseUrl}/demo/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await signIn(browser, user.email, 'not the password at all');

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.innerText()).trim(), 'Incorrect email or password.');
    assert.equal(await page.inputValue('#email'), user.email);
    assert.equal(await page.inputValue('#password'), '', 'the password is never echoed back');
    assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');

    // The same login page still works with the right password.
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/demo/callback?**`);
    assert.ok((await page.locator('#id-token-claims').innerText()).includes(user.id));
    const codes = (await app.store.events.list({ userId: user.id, limit: 20 })).map((e) => e.code);
    assert.ok(codes.includes('login_failed_password'), `events: ${codes.join(', ')}`);
  });
});
