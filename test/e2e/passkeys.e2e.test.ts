// End to end: passkeys in real Chromium with a CDP virtual authenticator, against a listening Portcullis on localhost.
// The offer after a password login, "Continue with passkey", autofill, "No passkeys available", "Not now", and a full
// OIDC login with a passkey whose ID token says how the user signed in (amr).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { CDPSession, Page, Request } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { queued, seedUser } from '../helpers/account-browser.js';
import { addClient } from '../../src/admin/clients.js';
import type { Clock } from '../../src/domain/clock.js';
import type { User } from '../../src/domain/types.js';

const skip = browserSkipReason();
const PASSWORD = 'correct horse battery staple 42';
const DAY_MS = 24 * 60 * 60_000;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Real time plus an offset the test moves forward, for the 30-day "Not now" snooze. */
class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
}

interface Portcullis {
  app: TestApp;
  baseUrl: string;
  clock: OffsetClock;
}

/** A listening app on http://localhost:PORT (rpID localhost), with the passkey offer switched on. */
async function startPortcullis(): Promise<Portcullis> {
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const clock = new OffsetClock();
  const app = await createTestApp({ publicUrl: baseUrl, port, passkeys: { offerAfterPasswordLogin: true } }, { clock });
  await app.server.listen({ port, host: '127.0.0.1' });
  return { app, baseUrl, clock };
}

interface Authenticator {
  cdp: CDPSession;
  id: string;
}

/** A platform authenticator (ctap2, internal, resident keys, UV) whose passkeys are synced, like iCloud Keychain's. */
async function addAuthenticator(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: true,
      defaultBackupState: true,
    },
  });
  return authenticatorId;
}

async function withAuthenticator(browser: TestBrowser): Promise<Authenticator> {
  const cdp = await browser.context.newCDPSession(browser.page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  return { cdp, id: await addAuthenticator(cdp) };
}

/**
 * Lets a test switch passkey autofill off, as in a browser without conditional mediation, so that only
 * "Continue with passkey" can sign in (with a credential on the authenticator, autofill answers on page load).
 */
async function installAutofillSwitch(browser: TestBrowser): Promise<void> {
  // A string, not a function: tsx compiles functions with a `__name` helper that does not exist in the page.
  await browser.context.addInitScript(`
    try {
      if (window.localStorage.getItem('pc-test-no-autofill') === '1') {
        Object.defineProperty(window.PublicKeyCredential, 'isConditionalMediationAvailable', { value: () => Promise.resolve(false), configurable: true });
      }
    } catch {
      // about:blank and opaque origins have no localStorage.
    }
  `);
}

async function setAutofill(page: Page, on: boolean): Promise<void> {
  await page.evaluate((off) => (off ? localStorage.setItem('pc-test-no-autofill', '1') : localStorage.removeItem('pc-test-no-autofill')), !on);
}

/** Every POST the page sends, with its JSON or form body, for asserting what went over the wire. */
function recordPosts(page: Page): { url: string; body: string }[] {
  const posts: { url: string; body: string }[] = [];
  page.on('request', (request: Request) => {
    if (request.method() === 'POST') posts.push({ url: request.url(), body: request.postData() ?? '' });
  });
  return posts;
}

function optionModes(posts: { url: string; body: string }[], from = 0): string[] {
  return posts
    .slice(from)
    .filter((p) => /\/passkey\/options$/.test(new URL(p.url).pathname))
    .map((p) => String((JSON.parse(p.body) as { mode?: unknown }).mode));
}

async function passwordLogin(page: Page, email: string): Promise<void> {
  await page.locator('#email').waitFor();
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page: Page, baseUrl: string): Promise<void> {
  assert.equal(new URL(page.url()).pathname, '/account');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  const me = await page.request.get(`${baseUrl}/account`, { maxRedirects: 0 });
  assert.equal(me.status(), 303, 'signed out: /account sends the browser to /login');
}

describe('passkeys at /login in Chromium (CDP virtual authenticator)', { skip }, () => {
  let portcullis: Portcullis;
  let browser: TestBrowser;
  let authenticator: Authenticator;
  let user: User;
  let posts: { url: string; body: string }[];

  before(async () => {
    portcullis = await startPortcullis();
    browser = await launchBrowser();
    await installAutofillSwitch(browser);
    authenticator = await withAuthenticator(browser);
    posts = recordPosts(browser.page);
    user = await seedUser(portcullis.app, 'ada@example.test', PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await portcullis?.app.dispose();
  });

  test('a password login offers a passkey; "Create and use a passkey" lands on /account, which lists it; then log out', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = browser;
    await page.goto(`${baseUrl}/login`);
    await passwordLogin(page, user.email);

    // The offer, on the login surface itself, before the session starts.
    await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await app.store.sessions.listActiveForUser(user.id).then((s) => s.length), 0, 'no session while the offer is open');
    await page.click('#create-passkey');
    await page.waitForURL(`${baseUrl}/account`);

    const [stored, ...more] = await app.store.passkeys.listForUser(user.id);
    assert.ok(stored, 'a passkey was stored');
    assert.equal(more.length, 0);
    assert.deepEqual([stored.backupEligible, stored.backedUp], [true, true]);
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticator.id });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true, 'discoverable, so the login needs no email');
    assert.equal(Buffer.from(credentials[0]?.credentialId ?? '', 'base64').toString('base64url'), stored.credentialId);

    // The account page lists it, with its name and the synced badge.
    const section = page.locator('section[aria-labelledby="passkeys-h"]');
    assert.equal(await section.locator('tbody tr').count(), 1);
    assert.equal(await section.locator(`[id="pk-${stored.credentialId}"]`).inputValue(), stored.name);
    assert.match(await section.locator('tbody tr').innerText(), /synced/);
    assert.equal((await queued(app, user.email, 'passkey_added')).length, 1, 'a security email about the new passkey');

    await signOut(page, baseUrl);
  });

  test('"Continue with passkey" signs in without an email address', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = browser;
    await setAutofill(page, false);
    const from = posts.length;
    await page.goto(`${baseUrl}/login`);
    const button = page.locator('#continue-with-passkey');
    await button.waitFor({ state: 'visible' });
    assert.equal(await page.inputValue('#email'), '', 'nothing typed');
    await button.click();
    await page.waitForURL(`${baseUrl}/account`);

    assert.deepEqual(optionModes(posts, from), ['modal'], 'one modal request; autofill was off');
    const sent = posts.slice(from).map((p) => p.body).join('\n');
    assert.ok(!sent.includes(user.email), 'no request carried the email address');
    assert.ok(!posts.slice(from).some((p) => new URL(p.url).pathname === '/login'), 'the password form was never posted');
    assert.equal(await app.store.sessions.listActiveForUser(user.id).then((s) => s.length), 1);
    const [passkey] = await app.store.passkeys.listForUser(user.id);
    assert.ok(passkey?.lastUsedAt, 'the use is recorded');
    const codes = (await app.store.events.list({ userId: user.id, limit: 20 })).map((e) => e.code);
    assert.ok(codes.includes('login_passkey_success'), `events: ${codes.join(', ')}`);

    await signOut(page, baseUrl);
    await setAutofill(page, true);
  });

  test('autofill: on page load the email field (autocomplete "username webauthn") offers the passkey and signs in', async () => {
    const { baseUrl } = portcullis;
    const { page } = browser;
    const from = posts.length;
    const loginHtml = page.waitForResponse((r) => r.url() === `${baseUrl}/login` && r.request().method() === 'GET');
    // No click: the virtual authenticator answers the conditional request at once, as if the user picked the passkey.
    await page.goto(`${baseUrl}/login`, { waitUntil: 'commit' });
    const body = await (await loginHtml).text();
    assert.match(body, /<input id="email" name="email" type="email" autocomplete="username webauthn"/);
    await page.waitForURL(`${baseUrl}/account`);
    assert.deepEqual(optionModes(posts, from), ['autofill']);
    assert.ok(!posts.slice(from).some((p) => new URL(p.url).pathname === '/login'), 'the password form was never posted');
    await signOut(page, baseUrl);
  });

  test('with no passkey on this device, "Continue with passkey" shows the guidance, and the password form still signs in', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = browser;
    // An empty authenticator answers NotAllowedError at once, like a browser whose user has no passkey here or
    // cancels. (With no authenticator at all, Chromium leaves the request pending until its timeout.)
    await authenticator.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: authenticator.id });
    authenticator.id = await addAuthenticator(authenticator.cdp);

    await page.goto(`${baseUrl}/login`);
    const button = page.locator('#continue-with-passkey');
    await button.waitFor({ state: 'visible' });
    assert.equal(await page.isVisible('#no-passkeys'), false);
    await button.click();
    const guidance = page.locator('#no-passkeys');
    await guidance.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'no-passkeys', 'focus moves to the guidance');
    assert.equal(await guidance.getAttribute('role'), 'alert');
    const text = await guidance.innerText();
    assert.match(text, /No passkeys available/);
    assert.match(text, /iCloud Keychain/);
    assert.match(text, /Google Password Manager/);
    assert.match(text, /Sign in with your email and password/);
    assert.equal(new URL(page.url()).pathname, '/login');

    // The password form still works: it leads to the offer (no passkey here), and "Not now" finishes the login.
    await passwordLogin(page, user.email);
    await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor();
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${baseUrl}/account`);
    assert.equal(await app.store.sessions.listActiveForUser(user.id).then((s) => s.length), 1);
    assert.equal((await app.store.passkeys.listForUser(user.id)).length, 1, '"Not now" created nothing');
    await signOut(page, baseUrl);
  });

  test('"Not now" postpones the offer: the next password logins within 30 days go straight in, after 30 days it is back', async () => {
    const { baseUrl, clock } = portcullis;
    const { page } = browser;

    async function loginLandsOn(): Promise<string> {
      await page.goto(`${baseUrl}/login`);
      const posted = page.waitForResponse((r) => r.url() === `${baseUrl}/login` && r.request().method() === 'POST');
      await passwordLogin(page, user.email);
      const response = await posted;
      assert.equal(response.status(), 303);
      return response.headers().location ?? '';
    }

    // Straight after "Not now" (previous test), and 29 days later: no offer page in between.
    assert.equal(await loginLandsOn(), '/account');
    await page.waitForURL(`${baseUrl}/account`);
    await signOut(page, baseUrl);
    clock.offset = 29 * DAY_MS;
    assert.equal(await loginLandsOn(), '/account');
    await page.waitForURL(`${baseUrl}/account`);
    await signOut(page, baseUrl);

    // 31 days after "Not now", the offer comes back.
    clock.offset = 31 * DAY_MS;
    assert.equal(await loginLandsOn(), '/login');
    await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor();
    await page.getByRole('button', { name: 'Not now' }).click();
    await page.waitForURL(`${baseUrl}/account`);
    await signOut(page, baseUrl);
  });

  test('the account page adds another passkey, renames it, and deletes the old one after a confirmation page', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = browser;
    // The authenticator was emptied above, so the first passkey is stored but no longer on this device.
    await page.goto(`${baseUrl}/login`);
    await passwordLogin(page, user.email);
    await page.waitForURL(`${baseUrl}/account`);
    const [old] = await app.store.passkeys.listForUser(user.id);
    assert.ok(old);

    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${baseUrl}/account?done=passkey`);
    assert.match(await page.getByRole('status').first().innerText(), /Your new passkey is ready/);
    const all = await app.store.passkeys.listForUser(user.id);
    assert.equal(all.length, 2);
    const added = all.find((p) => p.credentialId !== old.credentialId);
    assert.ok(added);
    const section = page.locator('section[aria-labelledby="passkeys-h"]');
    assert.equal(await section.locator('tbody tr').count(), 2);

    // Rename the new one.
    const nameField = section.locator(`[id="pk-${added.credentialId}"]`);
    await nameField.fill('My test laptop');
    await section.locator('tbody tr', { has: page.locator(`[id="pk-${added.credentialId}"]`) }).getByRole('button', { name: 'Rename' }).click();
    await page.waitForURL(`${baseUrl}/account?done=passkey_renamed`);
    assert.equal(await section.locator(`[id="pk-${added.credentialId}"]`).inputValue(), 'My test laptop');

    // Delete the old one: the link opens a confirmation page first.
    const oldRow = section.locator('tbody tr', { has: page.locator(`[id="pk-${old.credentialId}"]`) });
    await oldRow.getByRole('link', { name: 'Delete' }).click();
    await page.waitForURL(`${baseUrl}/account/passkeys/${old.credentialId}/delete`);
    await page.getByRole('heading', { name: 'Delete this passkey?' }).waitFor();
    assert.equal((await app.store.passkeys.listForUser(user.id)).length, 2, 'nothing deleted before confirming');
    await page.getByRole('button', { name: 'Delete passkey' }).click();
    await page.waitForURL(`${baseUrl}/account?done=passkey_removed`);
    assert.deepEqual((await app.store.passkeys.listForUser(user.id)).map((p) => p.name), ['My test laptop']);
    assert.equal(await section.locator('tbody tr').count(), 1);
    assert.equal((await queued(app, user.email, 'passkey_removed')).length, 1, 'a security email about the removal');

    // The new passkey signs in (autofill answers on page load).
    await signOut(page, baseUrl);
    await page.goto(`${baseUrl}/login`);
    await page.waitForURL(`${baseUrl}/account`);
    await signOut(page, baseUrl);
  });
});

interface RelyingParty {
  origin: string;
  redirectUri: string;
  completed: { claims: oidc.IDToken; userinfo: oidc.UserInfoResponse }[];
  errors: unknown[];
  close(): Promise<void>;
}

/** A public first-party client on node:http with openid-client: code flow with PKCE, ID token validation, userinfo. */
async function startRelyingParty(issuer: string, clientId: string): Promise<RelyingParty> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const redirectUri = `${origin}/callback`;
  const pending = new Map<string, string>();
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => (discovered ??= oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] }));
  const send = (res: ServerResponse, status: number, body: string) => {
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
          rp.completed.push({ claims, userinfo });
          send(res, 200, '<h1 id="rp-signed-in">Signed in to the test RP</h1>');
        } else {
          send(res, 404, '<h1>Not found</h1>');
        }
      } catch (error) {
        rp.errors.push(error);
        send(res, 500, `<h1 id="rp-error">RP error</h1>`);
      }
    })();
  });
  const rp: RelyingParty = {
    origin,
    redirectUri,
    completed: [],
    errors: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return rp;
}

describe('a full OIDC login with a passkey in Chromium', { skip }, () => {
  let portcullis: Portcullis;
  before(async () => {
    portcullis = await startPortcullis();
  });
  after(async () => {
    await portcullis?.app.dispose();
  });

  test('the app receives tokens, and the ID token amr says hwk (and pwd for the password login before it)', async (t) => {
    const { app, baseUrl } = portcullis;
    const user = await seedUser(app, 'grace@example.test', PASSWORD);
    const browser = await launchBrowser();
    t.after(() => browser.close());
    await installAutofillSwitch(browser);
    const authenticator = await withAuthenticator(browser);
    const posts = recordPosts(browser.page);
    const rp = await startRelyingParty(app.config.issuer, 'e2e-passkey-app');
    t.after(() => rp.close());
    await addClient(app.store, app.clock, { clientId: 'e2e-passkey-app', redirectUris: [rp.redirectUri], public: true, secret: null, firstParty: true });
    const { page } = browser;

    // First visit: a password login through the app, with the passkey offer accepted on the OIDC login page.
    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await passwordLogin(page, user.email);
    await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/interaction\//);
    await page.click('#create-passkey');
    await page.waitForURL(`${rp.redirectUri}?**`);
    await page.locator('#rp-signed-in').waitFor();
    if (rp.errors.length) throw rp.errors[0];
    assert.equal((await app.store.passkeys.listForUser(user.id)).length, 1);
    const first = rp.completed[0];
    assert.ok(first);
    assert.equal(first.claims.sub, user.id);
    assert.deepEqual(first.claims.amr, ['pwd'], 'the first login was a password login');

    // A new browser session (the passkey stays on the authenticator), then "Continue with passkey" on the OIDC login page.
    await browser.context.clearCookies();
    await page.goto(`${baseUrl}/healthz`);
    await setAutofill(page, false);
    const from = posts.length;
    await page.goto(`${rp.origin}/login`);
    await page.waitForURL(`${baseUrl}/interaction/**`);
    await page.locator('#continue-with-passkey').waitFor({ state: 'visible' });
    await page.click('#continue-with-passkey');
    await page.waitForURL(`${rp.redirectUri}?**`);
    await page.locator('#rp-signed-in').waitFor();
    if (rp.errors.length) throw rp.errors[0];

    assert.deepEqual(optionModes(posts, from), ['modal']);
    assert.ok(!posts.slice(from).some((p) => p.body.includes(user.email)), 'no email typed or sent');
    assert.equal(rp.completed.length, 2);
    const second = rp.completed[1];
    assert.ok(second);
    assert.equal(second.claims.sub, user.id);
    assert.equal(second.userinfo.sub, user.id);
    assert.equal(second.userinfo.email, user.email);
    const amr = Array.isArray(second.claims.amr) ? second.claims.amr.map(String) : [];
    assert.ok(amr.includes('hwk'), `amr: ${JSON.stringify(amr)}`);
    assert.ok(amr.includes('mfa'), `a user-verified passkey counts as MFA; amr: ${JSON.stringify(amr)}`);
    assert.ok(!amr.includes('pwd'), `no password was used; amr: ${JSON.stringify(amr)}`);
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticator.id });
    assert.equal(credentials.length, 1);
  });
});
