// Breached passwords through the real app: the login block, the emailed reset (over real SMTP), admin notices,
// refusal at sign-up, change, reset and CLI user creation, and online mode against a local range server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp-server.js';
import { headerOf, plainTextOf } from '../helpers/mail-text.js';
import { Browser, hiddenCsrf, location } from '../helpers/oidc-flow.js';
import { csrfFrom, FakeClock, Inbox, linkIn, loginAt, postAccountForm, queued, signIn } from '../helpers/account-browser.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { MESSAGES } from '../../src/http/password-login.js';
import { BREACHED_NEW_PASSWORD } from '../../src/account/breached-password.js';
import { createBreachChecker } from '../../src/protection/breached/breach-checker.js';
import { runCli } from '../../src/cli/run-cli.js';

const SESSION = 'portcullis_session';
const PREFIX = 'pwned-';
/** In the bundled @zxcvbn-ts/language-common list (asserted below), and long enough for the length rule. */
const COMMON = 'password123';
const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** The page shows `message` (allowing for HTML escaping of quotes and apostrophes). */
const shows = (body: string, message: string): boolean => body.includes(message) || body.includes(escapeHtml(message));
const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

async function eventsOf(app: TestApp, userId: string) {
  return app.store.events.list({ userId, limit: 200 });
}

describe('a login with a breached password, through real SMTP', () => {
  let smtp: TestSmtpServer;
  let app: TestApp;
  const clock = new FakeClock();

  before(async () => {
    smtp = await startSmtpServer();
    app = await createTestApp({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, breach: { testPrefix: PREFIX } }, { clock });
  });
  after(async () => {
    await app.dispose();
    await smtp.close();
  });

  /** Runs the outbox worker once and returns what the SMTP server received for `to` during this call. */
  async function deliver(to: string): Promise<ReceivedMail[]> {
    const before = smtp.received.length;
    await app.mailWorker.runOnce();
    return smtp.received.slice(before).filter((m) => m.to.includes(to));
  }

  test('a login with a breached password is blocked until the password is changed, through real SMTP', async () => {
    // Threat: credential stuffing with a password from a breach corpus succeeds because the password is "correct".
    const email = 'leaky@example.com';
    const oldPassword = `${PREFIX}correct horse`;
    const newPassword = 'a fresh passphrase nobody leaked 5521';
    // Created directly (no breach dep), as an account that predates the breach data would be.
    const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: oldPassword, emailVerified: true });

    const browser = new Browser(app.server);
    const blocked = await loginAt(browser, email, oldPassword);
    assert.equal(blocked.statusCode, 403, blocked.body.slice(0, 300));
    assert.ok(shows(blocked.body, MESSAGES.breached), 'the page explains the block and the emailed link');
    assert.equal(browser.jar.get(SESSION), undefined, 'no session cookie');
    assert.ok(!String(blocked.headers['set-cookie'] ?? '').includes(`${SESSION}=`), 'no session cookie header either');
    assert.deepEqual(await app.store.sessions.listActiveForUser(user.id), [], 'no session in the store');
    const leaks = (await eventsOf(app, user.id)).filter((e) => e.code === 'pwd_leak');
    assert.equal(leaks.length, 1, 'one pwd_leak event');
    assert.equal(leaks[0]!.outcome, 'failure');
    assert.deepEqual(leaks[0]!.details, { source: 'test_prefix', blocked: true });
    assert.ok(!(await eventsOf(app, user.id)).some((e) => e.code === 'login_success'), 'no login_success event');

    const mail = await deliver(email);
    assert.equal(mail.length, 1, 'one email over SMTP');
    assert.match(headerOf(mail[0]!.raw, 'subject'), /choose a new .* password/i);
    const text = plainTextOf(mail[0]!.raw);
    assert.match(text, /appears in a public list of breached passwords/);
    const link = linkIn(text, '/password/reset');

    // A second login within the hour is blocked again but sends no second email.
    clock.advance(20 * 60_000);
    const again = await loginAt(browser, email, oldPassword);
    assert.equal(again.statusCode, 403);
    assert.equal(browser.jar.get(SESSION), undefined);
    assert.deepEqual(await deliver(email), [], 'at most one email per hour');
    assert.equal((await eventsOf(app, user.id)).filter((e) => e.code === 'pwd_leak').length, 2, 'each blocked login is an event');

    // Opening the link (what a mail scanner does) changes nothing.
    const form = await browser.get(link);
    assert.equal(form.statusCode, 200, form.body.slice(0, 300));
    assert.match(form.body, /Choose a new password/);
    const unchanged = await app.store.users.findById(user.id);
    assert.ok(await app.hasher.verify(unchanged!.passwordHash!, oldPassword), 'the GET did not change the password');
    assert.equal((await browser.get(link)).statusCode, 200, 'the GET did not consume the link');

    const reset = await browser.postForm(link, { csrf: hiddenCsrf(form.body), password: newPassword });
    assert.equal(reset.statusCode, 200, reset.body.slice(0, 300));
    assert.match(reset.body, /Password changed/);
    const changed = await deliver(email);
    assert.equal(changed.length, 1, 'the password-changed notice');
    assert.doesNotMatch(headerOf(changed[0]!.raw, 'subject'), /choose a new/i);

    const fresh = new Browser(app.server);
    const ok = await loginAt(fresh, email, newPassword);
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    assert.equal(location(ok), '/account');
    assert.ok(fresh.jar.get(SESSION), 'the new password signs in');
    const old = await loginAt(new Browser(app.server), email, oldPassword);
    assert.equal(old.statusCode, 401, 'the old password no longer works');
    assert.ok(!shows(old.body, MESSAGES.breached), 'and a wrong password says nothing about breaches');
    assert.equal((await browser.postForm(link, { csrf: hiddenCsrf(form.body), password: 'yet another new passphrase' })).statusCode, 410, 'the link worked once');
  });

  test('after the hour, a further breached login sends a new email', async () => {
    // Threat: a user who ignored the first email is never reminded while their breached password keeps being tried.
    const email = 'hourly@example.com';
    const password = `${PREFIX}hourly passphrase`;
    await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password, emailVerified: true });
    assert.equal((await loginAt(new Browser(app.server), email, password)).statusCode, 403);
    assert.equal((await deliver(email)).length, 1);
    clock.advance(59 * 60_000);
    assert.equal((await loginAt(new Browser(app.server), email, password)).statusCode, 403);
    assert.equal((await deliver(email)).length, 0, 'still within the hour');
    clock.advance(2 * 60_000);
    assert.equal((await loginAt(new Browser(app.server), email, password)).statusCode, 403);
    assert.equal((await deliver(email)).length, 1, 'a new email once the hour has passed');
  });
});

describe('breach.actions.notifyAdmins: immediate, through real SMTP', () => {
  let smtp: TestSmtpServer;
  let app: TestApp;

  before(async () => {
    smtp = await startSmtpServer();
    app = await createTestApp({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, breach: { testPrefix: PREFIX, actions: { notifyAdmins: 'immediate' } } });
  });
  after(async () => {
    await app.dispose();
    await smtp.close();
  });

  test('the admins of the user\'s organization are emailed, nobody else', async () => {
    // Threat: an account in the organization is exposed and the people responsible for it never learn of it.
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    await createOrg(deps, 'Acme');
    await createOrg(deps, 'Other');
    await createUser(deps, { email: 'admin@acme.example', password: 'the admin passphrase 1', orgName: 'Acme', role: 'admin' });
    await createUser(deps, { email: 'colleague@acme.example', password: 'the colleague passphrase', orgName: 'Acme', role: 'member' });
    await createUser(deps, { email: 'admin@other.example', password: 'the other admin passphrase', orgName: 'Other', role: 'admin' });
    const password = `${PREFIX}member passphrase`;
    await createUser(deps, { email: 'member@acme.example', password, orgName: 'Acme', role: 'member' });

    const blocked = await loginAt(new Browser(app.server), 'member@acme.example', password);
    assert.equal(blocked.statusCode, 403);
    await app.mailWorker.runOnce();
    const byRecipient = (to: string) => smtp.received.filter((m) => m.to.includes(to));
    assert.equal(byRecipient('member@acme.example').length, 1, 'the user gets the reset email');
    const toAdmin = byRecipient('admin@acme.example');
    assert.equal(toAdmin.length, 1, 'the org admin is notified');
    assert.match(headerOf(toAdmin[0]!.raw, 'subject'), /signed in with a breached password/);
    const text = plainTextOf(toAdmin[0]!.raw);
    assert.match(text, /member@acme\.example/);
    assert.doesNotMatch(text, /\/password\/reset\//, 'the admin does not get the user\'s reset link');
    assert.ok(!text.includes(password), 'nor the password');
    assert.deepEqual(byRecipient('colleague@acme.example'), [], 'members are not admins');
    assert.deepEqual(byRecipient('admin@other.example'), [], 'admins of other organizations are not told');
  });

  test('a user without an organization notifies no admin', async () => {
    // Threat: a notice about one user reaching administrators who have no business knowing about them.
    const before = smtp.received.length;
    const password = `${PREFIX}loner passphrase`;
    await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email: 'loner@example.com', password });
    assert.equal((await loginAt(new Browser(app.server), 'loner@example.com', password)).statusCode, 403);
    await app.mailWorker.runOnce();
    assert.deepEqual(smtp.received.slice(before).flatMap((m) => m.to), ['loner@example.com']);
  });
});

describe('breached passwords are refused at sign-up, change and reset with the reason', () => {
  let app: TestApp;
  let inbox: Inbox;
  const prefixed = `${PREFIX}a new password`;

  before(async () => {
    app = await createTestApp({ breach: { testPrefix: PREFIX } });
    inbox = new Inbox(app);
  });
  after(async () => {
    await app.dispose();
  });

  test('the common password used here is in the bundled list', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-breach-flows-'));
    const checker = createBreachChecker({ mode: 'offline', dataDir });
    try {
      assert.deepEqual(await checker.check(COMMON), { breached: true, source: 'offline', countClass: null });
      assert.deepEqual(await checker.check(prefixed), { breached: false, source: 'offline' }, 'the prefix only applies where configured');
    } finally {
      checker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('sign-up', async () => {
    // Threat: new accounts created with passwords attackers try first (NIST 800-63B §3.1.1.2).
    for (const [i, password] of [COMMON, prefixed].entries()) {
      const browser = new Browser(app.server);
      const email = `signup${i}@example.com`;
      const csrf = await csrfFrom(browser, '/signup');
      const refused = await browser.postForm('/signup', { csrf, email, password, name: 'Sam' });
      assert.equal(refused.statusCode, 400, `${password}: ${refused.body.slice(0, 300)}`);
      assert.ok(shows(refused.body, BREACHED_NEW_PASSWORD), 'the reason and guidance are shown');
      assert.ok(refused.body.includes(email), 'the form is shown again with the address');
      assert.ok(!refused.body.includes(password), 'the password is not echoed back');
      assert.equal(await app.store.users.findByEmail(email), null, 'no account');
      assert.deepEqual(await queued(app, email, 'verify_email'), [], 'no mail');
    }
  });

  test('sign-up with a breached password answers the same for a registered address (no enumeration)', async () => {
    // Threat: account enumeration through the sign-up form's error path.
    const taken = 'taken@example.com';
    const fresh = 'fresh@example.com'; // same length as `taken`
    await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email: taken, password: 'the owner passphrase 9' });
    const normalise = (body: string, email: string): string => body.replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="X"').replaceAll(email, 'EMAIL');
    const post = async (email: string) => {
      const browser = new Browser(app.server);
      return browser.postForm('/signup', { csrf: await csrfFrom(browser, '/signup'), email, password: COMMON });
    };
    const a = await post(taken);
    const b = await post(fresh);
    assert.equal(a.statusCode, 400);
    assert.equal(b.statusCode, 400);
    assert.equal(normalise(a.body, taken), normalise(b.body, fresh));
    assert.deepEqual(await queued(app, taken, 'signup_existing_account'), [], 'the owner is not mailed either');
  });

  test('password change on /account/password', async () => {
    // Threat: a user replacing a good password with a known-breached one.
    const email = 'changer@example.com';
    const current = 'the current passphrase 42';
    const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: current });
    const browser = new Browser(app.server);
    await signIn(browser, email, current);
    for (const password of [COMMON, prefixed]) {
      const refused = await postAccountForm(browser, '/account/password', { current, password });
      assert.equal(refused.statusCode, 400, `${password}: ${refused.body.slice(0, 300)}`);
      assert.ok(shows(refused.body, BREACHED_NEW_PASSWORD), 'the reason and guidance are shown');
      assert.ok(!refused.body.includes(password), 'the password is not echoed back');
    }
    const stored = await app.store.users.findById(user.id);
    assert.ok(await app.hasher.verify(stored!.passwordHash!, current), 'the password is unchanged');
    assert.ok(!(await eventsOf(app, user.id)).some((e) => e.code === 'password_changed'));
    const accepted = await postAccountForm(browser, '/account/password', { current, password: 'a sound new passphrase 77' });
    assert.equal(accepted.statusCode, 303, 'a good password is still accepted');
  });

  test('password reset by email link', async () => {
    // Threat: the reset flow becoming a way around the breached-password rule.
    const email = 'resetter@example.com';
    const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: 'the forgotten passphrase' });
    const browser = new Browser(app.server);
    await browser.postForm('/password/forgot', { csrf: await csrfFrom(browser, '/password/forgot'), email });
    const link = await inbox.newLink(email, '/password/reset');
    for (const password of [COMMON, prefixed]) {
      const form = await browser.get(link);
      assert.equal(form.statusCode, 200);
      const refused = await browser.postForm(link, { csrf: hiddenCsrf(form.body), password });
      assert.equal(refused.statusCode, 400, `${password}: ${refused.body.slice(0, 300)}`);
      assert.ok(shows(refused.body, BREACHED_NEW_PASSWORD), 'the reason and guidance are shown');
      assert.ok(!refused.body.includes(password), 'the password is not echoed back');
    }
    const stored = await app.store.users.findById(user.id);
    assert.ok(await app.hasher.verify(stored!.passwordHash!, 'the forgotten passphrase'), 'the password is unchanged');
    const form = await browser.get(link);
    assert.equal(form.statusCode, 200, 'the refused attempts did not use up the link');
    const done = await browser.postForm(link, { csrf: hiddenCsrf(form.body), password: 'a sound reset passphrase 31' });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
  });
});

async function cli(env: Record<string, string>, args: string[], input?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from(input === undefined ? [] : [input]),
    env: { ...env, PORTCULLIS_ARGON2_MEMORY_KIB: '1024', PORTCULLIS_ARGON2_TIME_COST: '1' },
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('portcullis user create refuses a breached password', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pc-breach-user-cli-'));
    env = { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_BREACH_TEST_PREFIX: PREFIX };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('user create --password-stdin with a breached password fails with the reason and creates nobody', async () => {
    // Threat: an operator provisioning accounts with passwords attackers try first.
    for (const [i, password] of [COMMON, `${PREFIX}cli passphrase`].entries()) {
      const result = await cli(env, ['user', 'create', '--email', `cli${i}@example.com`, '--password-stdin'], `${password}\n`);
      assert.notEqual(result.code, 0, `${password} was accepted: ${result.stdout}`);
      assert.match(result.stderr, /appears in a list of passwords exposed in data breaches/);
      assert.ok(!result.stderr.includes(password) && !result.stdout.includes(password), 'the password is not echoed');
    }
    const listed = JSON.parse((await cli(env, ['user', 'list', '--json'])).stdout) as { email: string }[];
    assert.deepEqual(listed, [], 'no user was created');
    const ok = await cli(env, ['user', 'create', '--email', 'cli-ok@example.com', '--password-stdin'], 'a sound operator passphrase\n');
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('online mode end to end', () => {
  const LEAKED = 'Tr0ub4dor&3 online only 8812';
  const SAFE = 'a long passphrase nobody has leaked 7319';
  let server: Server;
  let host: string;
  let slow = false;
  let requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  const apps: TestApp[] = [];

  before(async () => {
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', headers: req.headers });
      if (slow) {
        setTimeout(() => res.end(), 2000).unref();
        return;
      }
      const prefix = (req.url ?? '').replace('/range/', '');
      const lines: string[] = [];
      if (sha1(LEAKED).startsWith(prefix)) lines.push(`${sha1(LEAKED).slice(5)}:4242`);
      for (let i = 0; i < 30; i++) lines.push(`${sha1(`pad${i}${prefix}`).slice(5)}:0`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.sort().join('\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const app of apps) await app.dispose();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function onlineApp(online: Record<string, unknown> = {}): Promise<TestApp> {
    const app = await createTestApp({ breach: { mode: 'online', online: { host, ...online } } });
    apps.push(app);
    return app;
  }

  test('a login with a password in the range response is blocked; others sign in', async () => {
    // Threat: a password breached after the offline index was built (only the live range API knows it).
    const app = await onlineApp();
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    const leaky = await createUser(deps, { email: 'online-leaky@example.com', password: LEAKED });
    await createUser(deps, { email: 'online-safe@example.com', password: SAFE });
    requests = [];

    const blocked = await loginAt(new Browser(app.server), 'online-leaky@example.com', LEAKED);
    assert.equal(blocked.statusCode, 403, blocked.body.slice(0, 300));
    assert.ok(shows(blocked.body, MESSAGES.breached));
    assert.deepEqual((await eventsOf(app, leaky.id)).find((e) => e.code === 'pwd_leak')?.details, { source: 'online', blocked: true });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.url, `/range/${sha1(LEAKED).slice(0, 5)}`);
    assert.equal(requests[0]!.headers['add-padding'], 'true');
    assert.ok(!JSON.stringify(requests).includes(sha1(LEAKED).slice(5)), 'only the 5-character prefix leaves the server');

    const browser = new Browser(app.server);
    const ok = await loginAt(browser, 'online-safe@example.com', SAFE);
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    assert.ok(browser.jar.get(SESSION));

    // Sign-up is checked online too.
    const signup = new Browser(app.server);
    const refused = await signup.postForm('/signup', { csrf: await csrfFrom(signup, '/signup'), email: 'online-new@example.com', password: LEAKED });
    assert.equal(refused.statusCode, 400);
    assert.ok(shows(refused.body, BREACHED_NEW_PASSWORD));
  });

  test('when the range API times out, fail-open signs in and fail-closed blocks', async () => {
    // Threat: an HIBP outage (or a blocked egress) silently deciding whether logins work; the operator's fail mode must.
    slow = true;
    try {
      for (const failMode of ['open', 'closed'] as const) {
        const app = await onlineApp({ timeout: '300ms', failMode });
        await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email: 'timeout@example.com', password: SAFE });
        const started = Date.now();
        const response = await loginAt(new Browser(app.server), 'timeout@example.com', SAFE);
        assert.ok(Date.now() - started < 1900, 'the timeout bounds the wait');
        assert.equal(response.statusCode, failMode === 'open' ? 303 : 403, `${failMode}: ${response.body.slice(0, 200)}`);
      }
    } finally {
      slow = false;
    }
  });
});
