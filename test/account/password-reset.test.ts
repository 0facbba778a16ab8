// Password reset by email through the real app: the link, its 1-hour life, and that a completed reset ends every session and refresh token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeWithLogin, Browser, exchangeCode, hiddenCsrf, location, seedPublicClient, tokenRequest } from '../helpers/oidc-flow.js';
import { csrfFrom, FakeClock, Inbox, loginAt, queued, seedUser, signIn, tokenOf } from '../helpers/account-browser.js';

const normalise = (body: string, email: string): string => body.replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="X"').replaceAll(email, 'EMAIL');

describe('password reset', () => {
  let app: TestApp;
  let inbox: Inbox;
  const clock = new FakeClock();

  before(async () => {
    app = await createTestApp({}, { clock });
    inbox = new Inbox(app);
  });
  after(async () => {
    await app.dispose();
  });

  async function requestReset(browser: Browser, email: string) {
    const csrf = await csrfFrom(browser, '/password/forgot');
    return browser.postForm('/password/forgot', { csrf, email });
  }

  test('the reset flow ends old sessions and refresh tokens', async () => {
    // Threat: an attacker who had the password (or a stolen session or refresh token) keeps access after the owner resets it.
    const email = 'reset@example.com';
    const oldPassword = 'the old password 123';
    const newPassword = 'a brand new passphrase';
    const fixture = await seedPublicClient(app, { email, password: oldPassword, clientId: 'reset-spa' });

    const sessionA = new Browser(app.server);
    await signIn(sessionA, email, oldPassword);
    assert.equal((await sessionA.get('/account')).statusCode, 200);

    const oidc = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: oidc.code, verifier: oidc.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    // Use the refresh token once, so the one checked later is known to be live right before the reset.
    const rotated = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token!, client_id: fixture.clientId });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const liveRefresh = rotated.body.refresh_token!;

    const stranger = new Browser(app.server);
    const known = await requestReset(stranger, email);
    const unknown = await requestReset(stranger, 'nobody@example.com'); // same length as `email`
    assert.equal(known.statusCode, 200);
    assert.equal(unknown.statusCode, 200);
    assert.equal(normalise(known.body, email), normalise(unknown.body, 'nobody@example.com'), 'the same answer for a known and an unknown address');
    assert.deepEqual(await inbox.newMail('nobody@example.com'), [], 'no mail for an unknown address');
    assert.deepEqual(await queued(app, 'nobody@example.com', 'reset_password'), []);

    const link = await inbox.newLink(email, '/password/reset');
    const form = await stranger.get(link);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Choose a new password/);

    const weak = await stranger.postForm(link, { csrf: hiddenCsrf(form.body), password: 'short' });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.body, /at least 8 characters/);
    const { id } = tokenOf(link);
    assert.equal((await app.store.links.findById(id))?.usedAt, null, 'a rejected password does not use up the link');
    assert.equal((await stranger.get(link)).statusCode, 200, 'the link still opens');

    const done = await stranger.postForm(link, { csrf: hiddenCsrf(weak.body), password: newPassword });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assert.match(done.body, /Password changed/);

    const afterA = await sessionA.get('/account');
    assert.equal(afterA.statusCode, 303, 'session A no longer opens the account page');
    assert.equal(location(afterA), '/login?next=/account');
    assert.equal((await oidc.browser.get('/account')).statusCode, 303, 'the session made during the OIDC login ended too');

    const refresh = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: liveRefresh, client_id: fixture.clientId });
    assert.equal(refresh.status, 400, JSON.stringify(refresh.body));
    assert.equal(refresh.body.error, 'invalid_grant');

    const fresh = new Browser(app.server);
    const oldLogin = await loginAt(fresh, email, oldPassword);
    assert.equal(oldLogin.statusCode, 401, 'the old password no longer works');
    await signIn(fresh, email, newPassword);
    assert.equal((await fresh.get('/account')).statusCode, 200);

    assert.equal((await queued(app, email, 'password_changed')).length, 1, 'a "password changed" notification was queued');
    const notices = (await inbox.newMail(email)).filter((m) => /password was changed/.test(m.subject));
    assert.equal(notices.length, 1, 'and delivered');
  });

  test('a reset link expires after 1 hour and says what to do next', async () => {
    const email = 'expiry@example.com';
    const user = await seedUser(app, email, 'the first password 1');
    const browser = new Browser(app.server);
    assert.equal((await requestReset(browser, email)).statusCode, 200);
    const link = await inbox.newLink(email, '/password/reset');

    clock.advance(59 * 60_000);
    const stillValid = await browser.get(link);
    assert.equal(stillValid.statusCode, 200, 'valid just before the hour is up');

    clock.advance(60_000);
    const expired = await browser.get(link);
    assert.equal(expired.statusCode, 410);
    assert.match(expired.body, /Link expired/);
    assert.match(expired.body, /Request a new one/);
    assert.match(expired.body, /href="\/password\/forgot"/, 'the page links to where a new link can be requested');

    const late = await browser.postForm(link, { csrf: hiddenCsrf(stillValid.body), password: 'too late a password' });
    assert.equal(late.statusCode, 410);
    const unchanged = await app.store.users.findById(user.id);
    assert.ok(await app.hasher.verify(unchanged!.passwordHash!, 'the first password 1'), 'the password did not change');
  });
});
