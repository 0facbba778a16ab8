// Real passkey ceremonies in Chromium with a CDP virtual authenticator, driven through web/passkeys.ts and verified by the use-cases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bundle as bundleWebAsset } from '../../src/http/routes/assets.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { backends } from '../helpers/databases.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { beginPasskeyLogin, beginPasskeyRegistration, finishPasskeyLogin, finishPasskeyRegistration, PASSKEY_MESSAGES } from '../../src/account/passkeys.js';
import { relyingParty, type RelyingParty } from '../../src/authn/webauthn.js';
import { nameFromUserAgent } from '../../src/authn/webauthn-names.js';
import type { User } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { newUser, recordingMailer, settableClock } from './fixtures.js';

const skip = browserSkipReason();
const CSRF = 'csrf-token-for-tests';
const SESSION = 'session-1';
const TX = 'login-tx-1';
// The app's CSP: no inline script at all.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><title>${title}</title><link rel="stylesheet" href="/assets/portcullis.css"><script type="module" src="/assets/passkeys.js"></script></head><body>${body}</body></html>`;
}

const registerPage = page(
  'Create a passkey',
  `<form method="post" action="/not-now"><input type="hidden" name="csrf" value="${CSRF}">
  <button type="button" id="create-passkey" data-options-url="/passkeys/register/options" data-verify-url="/passkeys/register/verify" hidden>Create and use a passkey</button>
  <button type="submit">Not now</button></form><p id="passkey-error" role="alert" hidden></p>`,
);

const loginPage = (autofill: boolean, errorLine: boolean): string =>
  page(
    'Sign in',
    `<form method="post" action="/password" data-passkey-login data-options-url="/login/passkey/options" data-verify-url="/login/passkey/verify">
  <input type="hidden" name="csrf" value="${CSRF}">
  <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="${autofill ? 'username webauthn' : 'username'}">
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
  <button type="submit">Continue</button>
  <button type="button" id="continue-with-passkey" hidden>Continue with passkey</button>
</form>
${errorLine ? '<p id="passkey-error" role="alert" hidden></p>' : ''}
<div id="no-passkeys" role="alert" tabindex="-1" hidden><h2>No passkeys available</h2><p>Sign in with your email and password, then create a passkey.</p></div>`,
  );

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((request.headers['content-type'] ?? '').startsWith('application/json')) return JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(text));
}

describe('passkeys in Chromium (CDP virtual authenticator)', { skip }, () => {
  let context: { store: Store; dispose(): Promise<void> };
  let store: Store;
  let user: User;
  let rp: RelyingParty;
  let deps: { store: Store; clock: ReturnType<typeof settableClock>; mailer: ReturnType<typeof recordingMailer>; publicUrl: string };
  let server: Server;
  let base: string;
  let browser: TestBrowser;
  let cdp: CDPSession;
  let authenticatorId: string;
  let bundleDir: string;
  const optionModes: unknown[] = [];
  const verifyBodies: Record<string, unknown>[] = [];
  const passwordPosts: Record<string, unknown>[] = [];

  async function addAuthenticator(): Promise<string> {
    const { authenticatorId: id } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
        // A synced passkey, like iCloud Keychain or Google Password Manager would create.
        defaultBackupEligibility: true,
        defaultBackupState: true,
      },
    });
    return id;
  }

  before(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'pc-web-'));
    // The same in-memory esbuild bundle the server serves at /assets/passkeys.js.
    const bundle = await bundleWebAsset('passkeys.ts');
    const css = readFileSync('web/portcullis.css', 'utf8');

    const backend = backends()[0];
    assert.ok(backend);
    context = await backend.create();
    store = context.store;
    user = await newUser(store, Date.now());

    server = createServer((request, reply) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, type: string, body: string): void => {
        reply.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store' });
        reply.end(body);
      };
      const json = (status: number, body: unknown): void => send(status, 'application/json', JSON.stringify(body));
      const route = `${request.method} ${url.pathname}`;
      void (async () => {
        deps.clock.set(Date.now());
        if (route === 'GET /assets/passkeys.js') return send(200, 'text/javascript', bundle);
        if (route === 'GET /register') return send(200, 'text/html', registerPage);
        if (route === 'GET /assets/portcullis.css') return send(200, 'text/css', css);
        if (route === 'GET /login') return send(200, 'text/html', loginPage(url.searchParams.get('autofill') !== '0', url.searchParams.get('bare') !== '1'));
        if (route === 'GET /registered' || route === 'GET /welcome') return send(200, 'text/html', page('Done', `<h1>${url.pathname}</h1>`));
        if (request.method !== 'POST') return send(404, 'text/plain', 'not found');
        const body = await readJson(request);
        if (route === 'POST /password') {
          passwordPosts.push(body);
          return send(200, 'text/html', page('Password', '<h1>password form posted</h1>'));
        }
        // The lead's routes verify CSRF; both the header and the body copy must match here.
        if (request.headers['x-csrf-token'] !== CSRF || body.csrf !== CSRF) return json(403, { message: 'csrf' });
        if (route === 'POST /passkeys/register/options') return json(200, { options: await beginPasskeyRegistration(deps, user, rp, SESSION) });
        if (route === 'POST /passkeys/register/verify') {
          const result = await finishPasskeyRegistration(deps, user, rp, SESSION, body.response, { ip: '127.0.0.1', userAgent: request.headers['user-agent'] ?? null });
          return result.ok ? json(200, { redirect: '/registered' }) : json(400, { reason: result.reason, message: PASSKEY_MESSAGES[result.reason] });
        }
        if (route === 'POST /login/passkey/options') {
          optionModes.push(body.mode);
          return json(200, { options: await beginPasskeyLogin(deps, rp, TX) });
        }
        if (route === 'POST /login/passkey/verify') {
          verifyBodies.push(body);
          const result = await finishPasskeyLogin(deps, rp, TX, body.response, { ip: '127.0.0.1', userAgent: null });
          return result.ok ? json(200, { redirect: `/welcome?user=${result.user.id}` }) : json(400, { reason: result.reason, message: PASSKEY_MESSAGES[result.reason] });
        }
        return send(404, 'text/plain', 'not found');
      })().catch((error: unknown) => json(500, { message: String(error) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
    rp = relyingParty(base, 'Portcullis test');
    deps = { store, clock: settableClock(Date.now()), mailer: recordingMailer(), publicUrl: base };

    browser = await launchBrowser();
    cdp = await browser.context.newCDPSession(browser.page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    authenticatorId = await addAuthenticator();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await context?.dispose();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it('"Create and use a passkey" registers a discoverable credential and records its backup flags', async () => {
    const { page } = browser;
    await page.goto(`${base}/register`);
    await page.click('#create-passkey');
    await page.waitForURL(`${base}/registered`);
    const [passkey] = await store.passkeys.listForUser(user.id);
    assert.ok(passkey, 'a passkey was stored');
    assert.deepEqual([passkey.backupEligible, passkey.backedUp, passkey.deviceType], [true, true, 'multiDevice']);
    assert.deepEqual(passkey.transports, ['internal']);
    assert.equal(passkey.name, nameFromUserAgent(await page.evaluate(() => navigator.userAgent)), 'unknown AAGUID: named after the browser');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable (resident) credential');
    assert.equal(Buffer.from(credentials[0]?.credentialId ?? '', 'base64').toString('base64url'), passkey.credentialId);
    assert.deepEqual(deps.mailer.sent.map((m) => m.template), ['passkey_added']);
  });

  it('autofill: the email field offers the passkey (conditional mediation) and signs in', async () => {
    const { page } = browser;
    // The virtual authenticator answers a conditional request at once, as if the user picked the passkey from autofill.
    await page.goto(`${base}/login`);
    await page.waitForURL(`${base}/welcome?user=${user.id}`);
    assert.deepEqual(optionModes, ['autofill']);
  });

  it('"Continue with passkey" signs in without an email address', async () => {
    const { page } = browser;
    await page.goto(`${base}/login?autofill=0`);
    await page.click('#continue-with-passkey');
    await page.waitForURL(`${base}/welcome?user=${user.id}`);
    assert.equal(optionModes.at(-1), 'modal');
    const [passkey] = await store.passkeys.listForUser(user.id);
    assert.ok(passkey?.lastUsedAt, 'the use was recorded');
    assert.ok((passkey?.counter ?? 0) >= 1, 'the virtual authenticator counts signatures');
  });

  it('a replayed assertion (its challenge already used) is refused', async () => {
    const replay = verifyBodies.at(-1);
    assert.ok(replay);
    const answer = await browser.page.evaluate(
      async ({ body, csrf }) => {
        const response = await fetch('/login/passkey/verify', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
        return { status: response.status, json: (await response.json()) as { reason: string } };
      },
      { body: replay, csrf: CSRF },
    );
    assert.deepEqual([answer.status, answer.json.reason], [400, 'challenge_invalid']);
  });

  it('possible clone: a stored counter above the authenticator\'s is refused and logged', async () => {
    const { page } = browser;
    const [passkey] = await store.passkeys.listForUser(user.id);
    assert.ok(passkey);
    await store.passkeys.updateAfterUse(passkey.credentialId, { counter: 1_000_000, backedUp: true, lastUsedAt: Date.now() });
    // A page without an error line of its own: the script adds one above the button.
    await page.goto(`${base}/login?autofill=0&bare=1`);
    await page.click('#continue-with-passkey');
    await page.waitForSelector('#passkey-error[role="alert"]:not([hidden])');
    assert.equal(await page.textContent('#passkey-error'), PASSKEY_MESSAGES.counter_regressed);
    assert.equal(new URL(page.url()).pathname, '/login');
    const [event] = await store.events.list({ userId: user.id, limit: 1 });
    assert.equal(event?.code, 'passkey_clone_suspected');
  });

  it('no passkey on this device: the guidance is shown and focused, and the password form still works', async () => {
    const { page } = browser;
    // An authenticator without credentials answers NotAllowedError at once, as a browser does when the user cancels its
    // "no passkeys" dialog. (With no authenticator at all Chromium leaves the request pending until its timeout.)
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator();
    await page.goto(`${base}/login`);
    await page.waitForFunction(() => !(document.getElementById('continue-with-passkey') as HTMLButtonElement).hidden);
    const modes = optionModes.length;
    assert.equal(await page.isVisible('#no-passkeys'), false);
    await page.click('#continue-with-passkey');
    await page.waitForSelector('#no-passkeys:not([hidden])');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'no-passkeys');
    assert.equal(await page.isVisible('#passkey-error'), false);
    for (let i = 0; i < 50 && optionModes.length < modes + 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(optionModes.slice(modes), ['modal', 'autofill'], 'after the modal request fails, autofill is offered again');
    await page.fill('#email', 'ada@example.test');
    await page.fill('#password', 'correct horse battery staple');
    await page.click('button[type="submit"]');
    await page.waitForSelector('text=password form posted');
    assert.deepEqual(passwordPosts.at(-1), { csrf: CSRF, email: 'ada@example.test', password: 'correct horse battery staple' });
  });
});
