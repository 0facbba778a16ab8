// The account page (/account) through the real app: sessions, password and email changes, security activity, and the /login redirect.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeWithLogin, Browser, exchangeCode, hiddenCsrf, location, seedPublicClient, tokenRequest } from '../helpers/oidc-flow.js';
import { browserFrom, csrfFrom, Inbox, loginAt, postAccountForm, queued, seedUser, signIn } from '../helpers/account-browser.js';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';
const PASSWORD = 'my account password';

interface SessionRow {
  id: string;
  device: string;
  ip: string;
  current: boolean;
}

/** The rows of the "Active sessions" table. */
function sessionRows(body: string): SessionRow[] {
  const rows: SessionRow[] = [];
  for (const match of body.matchAll(/<tr><td>(.*?)<\/td><td>(.*?)<br>[\s\S]*?action="\/account\/sessions\/([^/"]+)\/revoke"/g)) {
    rows.push({ id: match[3]!, device: match[1]!.replace(/ <span class="badge">this browser<\/span>/, ''), ip: match[2]!, current: match[1]!.includes('this browser') });
  }
  return rows;
}

const sessionIdOf = (browser: Browser): string => {
  const cookie = browser.jar.get('portcullis_session');
  assert.ok(cookie, 'the browser has a session cookie');
  return cookie.split('.')[0]!;
};

describe('account page', () => {
  let app: TestApp;
  let inbox: Inbox;
  let counter = 0;
  const unique = (label: string): string => `${label}${++counter}@example.com`;

  before(async () => {
    app = await createTestApp();
    inbox = new Inbox(app);
  });
  after(async () => {
    await app.dispose();
  });

  async function refreshTokenFor(email: string, password: string, clientId: string): Promise<string> {
    const fixture = { email, password, clientId };
    const result = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return tokens.body.refresh_token!;
  }

  const refreshWorks = async (refreshToken: string, clientId: string) =>
    (await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })).body;

  test('the account page requires a session', async () => {
    // Threat: account details and actions reachable without signing in.
    const anonymous = new Browser(app.server);
    const page = await anonymous.get('/account');
    assert.equal(page.statusCode, 303);
    assert.equal(location(page), '/login?next=/account');
    const forged = await anonymous.get('/account', { cookie: 'portcullis_session=abc.def' });
    assert.equal(forged.statusCode, 303, 'a made-up session cookie is no session');
    const post = await anonymous.postForm('/account/profile', { csrf: 'x', name: 'Mallory' });
    assert.equal(post.statusCode, 303);
    assert.equal(location(post), '/login?next=/account');
  });

  test('one sign-in transaction starts one session, however many copies of its POST race', async () => {
    // Threat: a double-submitted or replayed sign-in POST finishes the transaction twice, starting a second session
    // (and, on the OIDC surface, completing the interaction twice).
    const email = unique('race');
    const user = await seedUser(app, email, PASSWORD);
    const browser = browserFrom(app);
    const csrf = await csrfFrom(browser, '/login');
    const before = (await app.store.sessions.listActiveForUser(user.id)).length;
    const answers = await Promise.all(Array.from({ length: 4 }, () => browser.postForm('/login', { csrf, email, password: PASSWORD })));
    const signedIn = answers.filter((a) => a.statusCode === 303 && location(a) === '/account');
    assert.equal(signedIn.length, 1, `statuses: ${answers.map((a) => a.statusCode).join(', ')}`);
    for (const loser of answers.filter((a) => a !== signedIn[0])) assert.ok(loser.statusCode >= 400 && loser.statusCode < 500, `a losing copy gets a 4xx page, not ${loser.statusCode}`);
    assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, before + 1, 'exactly one new session');
    const successes = (await app.store.events.list({ userId: user.id, limit: 50 })).filter((e) => e.code === 'login_success');
    assert.equal(successes.length, 1, 'one login_success');
  });

  test('the account page lists sessions with device and IP and marks this browser', async () => {
    const email = unique('sessions');
    await seedUser(app, email, PASSWORD);
    const laptop = browserFrom(app, { ip: '198.51.100.10', userAgent: CHROME_WINDOWS });
    const desktop = browserFrom(app, { ip: '203.0.113.5', userAgent: FIREFOX_LINUX });
    await signIn(laptop, email, PASSWORD);
    await signIn(desktop, email, PASSWORD);

    const page = await laptop.get('/account');
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(email));
    const rows = sessionRows(page.body);
    assert.equal(rows.length, 2, page.body);
    const mine = rows.find((r) => r.current);
    const other = rows.find((r) => !r.current);
    assert.deepEqual(mine, { id: sessionIdOf(laptop), device: 'Chrome on Windows', ip: '198.51.100.10', current: true });
    assert.deepEqual(other, { id: sessionIdOf(desktop), device: 'Firefox on Linux', ip: '203.0.113.5', current: false });
    assert.equal(page.body.match(/this browser/g)?.length, 1, 'exactly one session is marked as this browser');
    assert.match(page.body, /Location unavailable|Local or private network/);
  });

  test('logging out another session works and that session\'s cookie stops working', async () => {
    const email = unique('logout-other');
    await seedUser(app, email, PASSWORD);
    const mine = browserFrom(app, { userAgent: CHROME_WINDOWS });
    const stolen = browserFrom(app, { ip: '203.0.113.66', userAgent: FIREFOX_LINUX });
    await signIn(mine, email, PASSWORD);
    await signIn(stolen, email, PASSWORD);
    const target = sessionRows((await mine.get('/account')).body).find((r) => !r.current);
    assert.ok(target);

    const revoked = await postAccountForm(mine, `/account/sessions/${target.id}/revoke`);
    assert.equal(revoked.statusCode, 303);
    assert.equal(location(revoked), '/account?done=session');
    const again = await mine.get(location(revoked));
    assert.equal(again.statusCode, 200, 'my own session stays');
    assert.match(again.body, /That session is signed out/);
    assert.deepEqual(sessionRows(again.body).map((r) => r.id), [sessionIdOf(mine)]);

    const dead = await stolen.get('/account');
    assert.equal(dead.statusCode, 303, 'the logged-out cookie no longer opens the account page');
    assert.equal(location(dead), '/login?next=/account');
  });

  test('a session of another user cannot be revoked', async () => {
    // Threat: insecure direct object reference: a user ending other users' sessions by guessing or learning their ids.
    const alice = unique('alice');
    const bob = unique('bob');
    await seedUser(app, alice, PASSWORD);
    await seedUser(app, bob, PASSWORD);
    const aliceBrowser = new Browser(app.server);
    const bobBrowser = new Browser(app.server);
    await signIn(aliceBrowser, alice, PASSWORD);
    await signIn(bobBrowser, bob, PASSWORD);
    const bobSession = sessionIdOf(bobBrowser);

    const attempt = await postAccountForm(aliceBrowser, `/account/sessions/${bobSession}/revoke`);
    assert.ok(attempt.statusCode < 500);
    assert.equal((await app.store.sessions.findById(bobSession))?.revokedAt, null, "Bob's session is not revoked");
    assert.equal((await bobBrowser.get('/account')).statusCode, 200, "Bob's session still works");
    const bobUser = await app.store.users.findByEmail(bob);
    const bobEvents = await app.store.events.list({ userId: bobUser!.id, limit: 50 });
    assert.equal(bobEvents.some((e) => e.code === 'session_revoked'), false);
  });

  test('log out everywhere ends every session and refresh token', async () => {
    // Threat: a stolen session or refresh token keeps working after the owner signs out everywhere.
    const email = unique('everywhere');
    await seedPublicClient(app, { email, password: PASSWORD, clientId: 'everywhere-spa' });
    const phone = new Browser(app.server);
    const laptop = new Browser(app.server);
    await signIn(phone, email, PASSWORD);
    await signIn(laptop, email, PASSWORD);
    const refreshToken = await refreshTokenFor(email, PASSWORD, 'everywhere-spa');

    const done = await postAccountForm(laptop, '/account/sessions/revoke-all');
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Signed out everywhere/);
    assert.equal(laptop.jar.get('portcullis_session'), undefined, 'the cookie of this browser is cleared');

    for (const [name, browser] of [['phone', phone], ['laptop', laptop]] as const) {
      assert.equal((await browser.get('/account')).statusCode, 303, `${name} is signed out`);
    }
    const user = await app.store.users.findByEmail(email);
    assert.deepEqual(await app.store.sessions.listActiveForUser(user!.id), []);
    assert.equal((await refreshWorks(refreshToken, 'everywhere-spa')).error, 'invalid_grant', 'the refresh token is dead');
  });

  test('changing the password needs the current password, keeps this session and ends the others', async () => {
    // Threat: someone at an unlocked, signed-in browser changes the password and locks the owner out.
    const email = unique('change-pw');
    const user = await seedPublicClient(app, { email, password: PASSWORD, clientId: 'change-pw-spa' }).then((f) => f.user);
    const here = new Browser(app.server);
    const elsewhere = new Browser(app.server);
    await signIn(here, email, PASSWORD);
    await signIn(elsewhere, email, PASSWORD);
    const refreshToken = await refreshTokenFor(email, PASSWORD, 'change-pw-spa');
    const newPassword = 'my new account password';

    const wrong = await postAccountForm(here, '/account/password', { current: 'not my password', password: newPassword });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /current password is not correct/);
    assert.ok(await app.hasher.verify((await app.store.users.findById(user.id))!.passwordHash!, PASSWORD), 'unchanged');
    assert.equal((await elsewhere.get('/account')).statusCode, 200, 'the other session is untouched');
    assert.deepEqual(await queued(app, email, 'password_changed'), []);

    const weak = await here.postForm('/account/password', { csrf: hiddenCsrf(wrong.body), current: PASSWORD, password: 'short' });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.body, /at least 8 characters/);

    const changed = await postAccountForm(here, '/account/password', { current: PASSWORD, password: newPassword });
    assert.equal(changed.statusCode, 303);
    assert.equal(location(changed), '/account?done=password');
    assert.equal((await here.get('/account')).statusCode, 200, 'this session stays signed in');
    assert.equal((await elsewhere.get('/account')).statusCode, 303, 'the other session ended');
    assert.equal((await refreshWorks(refreshToken, 'change-pw-spa')).error, 'invalid_grant', 'refresh tokens ended');
    assert.equal((await loginAt(new Browser(app.server), email, PASSWORD)).statusCode, 401, 'the old password fails');
    await signIn(new Browser(app.server), email, newPassword);
    assert.equal((await queued(app, email, 'password_changed')).length, 1, 'a notification was queued');
  });

  test('changing the email needs the password, confirms at the new address, then notifies the old one', async () => {
    // Threat: account takeover by silently moving the account to an attacker's address.
    const oldEmail = unique('before');
    const newEmail = unique('after');
    const user = await seedUser(app, oldEmail, PASSWORD);
    const browser = new Browser(app.server);
    await signIn(browser, oldEmail, PASSWORD);

    const wrong = await postAccountForm(browser, '/account/email', { email: newEmail, current: 'not my password' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /current password is not correct/);
    assert.deepEqual(await queued(app, newEmail, 'email_change_verify'), [], 'no link without the password');

    const requested = await postAccountForm(browser, '/account/email', { email: newEmail, current: PASSWORD });
    assert.equal(requested.statusCode, 303);
    assert.equal((await queued(app, newEmail, 'email_change_verify')).length, 1, 'the confirmation goes to the new address');
    assert.deepEqual((await app.store.outbox.list({ limit: 1000 })).filter((m) => m.to === oldEmail), [], 'nothing goes to the old address yet');
    assert.equal((await app.store.users.findById(user.id))?.email, oldEmail, 'the email is unchanged until the link is used');

    const link = await inbox.newLink(newEmail, '/email/change');
    const page = await browser.get(link);
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(newEmail));
    assert.equal((await app.store.users.findById(user.id))?.email, oldEmail, 'still unchanged after the GET');

    const confirmed = await browser.postForm(link, { csrf: hiddenCsrf(page.body) });
    assert.equal(confirmed.statusCode, 200);
    assert.match(confirmed.body, /Email changed/);
    const updated = await app.store.users.findById(user.id);
    assert.equal(updated?.email, newEmail);
    assert.equal(updated?.emailVerified, true);

    const notices = await queued(app, oldEmail, 'email_changed');
    assert.equal(notices.length, 1, 'the old address is told');
    const delivered = (await inbox.newMail(oldEmail)).filter((m) => /email address was changed/.test(m.subject));
    assert.equal(delivered.length, 1);
    assert.ok(delivered[0]!.text.includes(newEmail), 'the notice names the new address');

    assert.equal((await loginAt(new Browser(app.server), oldEmail, PASSWORD)).statusCode, 401, 'the old email no longer signs in');
    await signIn(new Browser(app.server), newEmail, PASSWORD);
  });

  test('the account page lists recent security activity', async () => {
    const email = unique('activity');
    await seedUser(app, email, PASSWORD);
    const browser = browserFrom(app, { ip: '198.51.100.77' });
    assert.equal((await loginAt(browser, email, 'a wrong password here')).statusCode, 401);
    await signIn(browser, email, PASSWORD);
    assert.equal((await postAccountForm(browser, '/account/profile', { name: 'Ada' })).statusCode, 303);
    const page = await browser.get('/account');
    assert.equal(page.statusCode, 200);
    const activity = page.body.slice(page.body.indexOf('Recent security activity'));
    for (const description of ['Failed login: wrong password', 'Successful login', 'Profile updated', 'User created']) {
      assert.ok(activity.includes(description), `activity lists "${description}"`);
    }
    assert.ok(activity.includes('198.51.100.77'), 'with the IP address');
    assert.ok(page.body.includes('value="Ada"'), 'the profile name was saved');
  });

  test('/login next cannot redirect off-site', async () => {
    // Threat: open redirect: a phishing link through our login page lands the user on an attacker's site.
    const email = unique('next');
    await seedUser(app, email, PASSWORD);
    for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', `/${'a'.repeat(300)}`]) {
      const browser = new Browser(app.server);
      const login = await loginAt(browser, email, PASSWORD, next);
      assert.equal(login.statusCode, 303, next);
      assert.equal(location(login), '/account', `next=${next} ends at /account`);
    }
    const page = await new Browser(app.server).get(`/login?next=${encodeURIComponent('//evil.example')}`);
    assert.doesNotMatch(page.body, /evil\.example/, 'the form does not carry the off-site target either');
    const local = await loginAt(new Browser(app.server), email, PASSWORD, '/account?done=profile');
    assert.equal(location(local), '/account?done=profile', 'a local path is kept');
  });
});
