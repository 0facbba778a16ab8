// 2FA through the hosted pages (Fastify inject, real SQLite app): enrollment on the account page, the code step of the
// /login sign-in, replay refusal, the attempt caps, recovery codes, the 5-minute window, and the admin reset (use-case
// and CLI) that keeps passkeys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserFrom, deliveredTo, FakeClock, loginAt, postAccountForm, seedUser, signIn } from '../helpers/account-browser.js';
import { formAction, hiddenCsrf, location, type Browser } from '../helpers/oidc-flow.js';
import { passkeyRow } from '../passkeys/fixtures.js';
import { totpCode, totpStep } from '../../src/authn/totp.js';
import { resetTwoFactor } from '../../src/account/two-factor.js';
import { MAX_PASSKEYS_PER_USER } from '../../src/account/passkeys.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { User } from '../../src/domain/types.js';

const PASSWORD = 'a long enough password 1';
const STEP_MS = 30_000;
/** 10 s into a 30-second TOTP step, so moves by whole steps stay inside one. */
const START = totpStep(1_700_000_000_000) * STEP_MS + 10_000;

interface Enrolled {
  user: User;
  secret: string;
  recoveryCodes: string[];
}

describe('2FA at /login and on the account page (HTTP)', () => {
  const clock = new FakeClock(START);
  let app: TestApp;
  let counter = 0;

  before(async () => {
    app = await createTestApp({}, { clock });
  });
  after(async () => {
    await app.dispose();
  });

  const newUser = (): Promise<User> => seedUser(app, `login-2fa-${++counter}@example.com`, PASSWORD);
  const codeNow = (secret: string): string => totpCode({ secret, now: clock.now() });
  const events = async (userId: string, code: string) => (await app.store.events.list({ userId, limit: 500 })).filter((e) => e.code === code);
  const sessionsOf = async (user: User): Promise<number> => (await app.store.sessions.listActiveForUser(user.id)).length;
  /** A different 6-digit code: never one of the three the verifier accepts around now. */
  const wrongCode = (secret: string): string => {
    const near = new Set([-1, 0, 1].map((k) => totpCode({ secret, now: clock.now() + k * STEP_MS })));
    for (let n = 0; ; n++) {
      const candidate = String(n).padStart(6, '0');
      if (!near.has(candidate)) return candidate;
    }
  };

  /** Turns 2FA on through the account page with a code computed here, as an authenticator app would; then moves on a step. */
  async function enroll(): Promise<Enrolled> {
    const user = await newUser();
    const browser = browserFrom(app);
    await signIn(browser, user.email, PASSWORD);
    const setup = await postAccountForm(browser, '/account/2fa/start', { current: PASSWORD });
    assert.equal(setup.statusCode, 200, setup.body.slice(0, 300));
    const secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(setup.body)?.[1];
    assert.ok(secret, 'the page shows the secret for typing by hand');
    assert.match(setup.body, /<svg/, 'and a QR code');
    const done = await browser.postForm('/account/2fa/confirm', { csrf: hiddenCsrf(setup.body), code: codeNow(secret) });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    const recoveryCodes = [...done.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1] as string);
    assert.equal(recoveryCodes.length, 10);
    clock.advance(STEP_MS);
    return { user, secret, recoveryCodes };
  }

  /** Email and password at /login; for an enrolled user this leads to the code page. */
  async function password(user: User, browser: Browser = browserFrom(app)): Promise<{ browser: Browser; page: LightMyRequestResponse }> {
    const posted = await loginAt(browser, user.email, PASSWORD);
    assert.equal(posted.statusCode, 303, posted.body.slice(0, 300));
    assert.equal(location(posted), '/login', 'an enrolled user goes to the code step, not to /account');
    assert.equal(browser.jar.get('portcullis_session'), undefined, 'no session after the password alone');
    const page = await browser.get('/login');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Two-step verification<\/h1>/);
    return { browser, page };
  }

  /** Posts the code form of the page the browser is on. */
  async function submit(browser: Browser, page: LightMyRequestResponse, fields: { code?: string; recovery_code?: string }): Promise<LightMyRequestResponse> {
    return browser.postForm(formAction(page.body), { csrf: hiddenCsrf(page.body), ...fields });
  }

  async function signedInAfter(browser: Browser, response: LightMyRequestResponse): Promise<void> {
    assert.equal(response.statusCode, 303, response.body.slice(0, 400));
    assert.equal(location(response), '/account');
    assert.ok(browser.jar.get('portcullis_session'), 'the session starts after the second factor');
    assert.equal((await browser.get('/account')).statusCode, 200);
  }

  it('enrollment on the account page: the secret and a QR code, then a code computed here turns 2FA on', async () => {
    const user = await newUser();
    const browser = browserFrom(app);
    await signIn(browser, user.email, PASSWORD);
    assert.match((await browser.get('/account')).body, /Set up an authenticator app/);

    // Threat: a borrowed, signed-in browser enrolls its own authenticator and locks the owner out; the password is asked again.
    const refused = await postAccountForm(browser, '/account/2fa/start', { current: 'not the password' });
    assert.equal(refused.statusCode, 400);
    assert.equal(await app.store.mfa.getTotp(user.id), null);

    const setup = await postAccountForm(browser, '/account/2fa/start', { current: PASSWORD });
    assert.equal(setup.statusCode, 200);
    const secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(setup.body)?.[1];
    assert.ok(secret && secret.length === 32, 'a 160-bit base32 secret');
    assert.ok(setup.body.includes('role="img"') && setup.body.includes('<svg'), 'a QR code');
    assert.equal((await app.store.mfa.getTotp(user.id))?.secret ?? null, null, 'pending only: not active before a code');

    const done = await browser.postForm('/account/2fa/confirm', { csrf: hiddenCsrf(setup.body), code: codeNow(secret) });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Two-step verification is on/);
    const codes = [...done.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    assert.equal((await app.store.mfa.getTotp(user.id))?.secret, secret);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 10);
    assert.match((await browser.get('/account')).body, /<span class="badge">on<\/span>[\s\S]*10 recovery codes left/);
    assert.equal((await events(user.id, 'mfa_enrolled')).length, 1);
    const mail = (await deliveredTo(app, user.email)).map((m) => m.subject);
    assert.ok(mail.some((s) => /two-(step|factor)/i.test(s)), `mail: ${mail.join(' | ')}`);
  });

  // Threat: a stolen password alone opens the account.
  it('after enrollment, the password alone gives no session: the login asks for the code, and the code finishes it', async () => {
    const { user, secret } = await enroll();
    const before = await sessionsOf(user);
    const { browser, page } = await password(user);
    assert.match(page.body, /name="code"/);
    assert.match(page.body, /name="recovery_code"/);
    assert.equal((await browser.get('/account')).statusCode, 303, '/account still sends the browser to sign in');
    assert.equal(await sessionsOf(user), before);

    await signedInAfter(browser, await submit(browser, page, { code: codeNow(secret) }));
    assert.equal(await sessionsOf(user), before + 1);
  });

  // Threat: the audit log (and every webhook subscribed to login_success) reports a sign-in that never happened,
  // because a stolen password passed and the second factor then stopped the attacker.
  it('login_success is recorded only when the session starts: a password that waits for the code records mfa_required', async () => {
    const { user, secret } = await enroll();
    const successesBefore = (await events(user.id, 'login_success')).length;

    // The attacker: the right password, then wrong codes, then gives up.
    const attacker = await password(user);
    assert.equal((await submit(attacker.browser, attacker.page, { code: wrongCode(secret) })).statusCode, 401);
    assert.equal((await events(user.id, 'login_success')).length, successesBefore, 'no login_success for a sign-in stopped at the second factor');
    const waiting = await events(user.id, 'mfa_required');
    assert.equal(waiting.length, 1, 'the correct password is still on record');
    assert.equal(waiting[0]?.outcome, 'info');
    assert.equal(waiting[0]?.reason, 'password');

    // The owner: password and the right code.
    const owner = await password(user);
    await signedInAfter(owner.browser, await submit(owner.browser, owner.page, { code: codeNow(secret) }));
    const successes = await events(user.id, 'login_success');
    assert.equal(successes.length, successesBefore + 1);
    assert.deepEqual(successes[0]?.details?.amr, ['pwd', 'otp', 'mfa'], 'the success names both factors (RFC 8176)');
    assert.equal((await events(user.id, 'mfa_required')).length, 2);
  });

  // Threat: a code seen over the shoulder or phished in real time is replayed in a second login.
  it('a TOTP code is never accepted twice, not even in another login', async () => {
    const { user, secret } = await enroll();
    const code = codeNow(secret);
    const first = await password(user);
    await signedInAfter(first.browser, await submit(first.browser, first.page, { code }));

    const second = await password(user);
    const replayed = await submit(second.browser, second.page, { code });
    assert.equal(replayed.statusCode, 401);
    assert.equal(second.browser.jar.get('portcullis_session'), undefined);
    assert.match(replayed.body, /That code is not valid/);
    assert.match(replayed.body, /4 attempts left/);
    const failed = await events(user.id, 'mfa_challenge_failed');
    assert.ok(failed.some((e) => e.reason === 'replayed'), `reasons: ${failed.map((e) => e.reason).join(', ')}`);

    // The next code from the app works in the same login.
    clock.advance(STEP_MS);
    await signedInAfter(second.browser, await submit(second.browser, replayed, { code: codeNow(secret) }));
  });

  // Threat: an attacker with the password guesses codes; each login transaction gets 5 tries, then it ends.
  it('the second factor is capped per login transaction: after 5 wrong codes it ends, and the right code is refused', async () => {
    const { user, secret } = await enroll();
    const sessionsBefore = await sessionsOf(user);
    let { browser, page } = await password(user);
    for (let i = 1; i <= 4; i++) {
      const wrong = await submit(browser, page, { code: wrongCode(secret) });
      assert.equal(wrong.statusCode, 401, `wrong code ${i}`);
      assert.match(wrong.body, new RegExp(`${5 - i} attempts? left`));
      page = wrong;
    }
    const fifth = await submit(browser, page, { code: wrongCode(secret) });
    assert.equal(fifth.statusCode, 400);
    assert.match(fifth.body, /Too many wrong codes/);
    const sixth = await submit(browser, page, { code: codeNow(secret) });
    assert.equal(sixth.statusCode, 400, 'the transaction has ended: even the right code is refused');
    assert.equal(browser.jar.get('portcullis_session'), undefined);
    assert.equal(await sessionsOf(user), sessionsBefore);
    const exceeded = await events(user.id, 'mfa_attempts_exceeded');
    assert.equal(exceeded.length, 1);

    // The account is not locked: a new sign-in in the same browser starts over (5 of the 10 hourly attempts left).
    ({ page } = await password(user, browser));
    await signedInAfter(browser, await submit(browser, page, { code: codeNow(secret) }));
  });

  // Threat: the attacker starts a new login transaction for every 5 guesses; the per-user cap spans them.
  it('the second factor is capped per user per hour: 10 attempts across login transactions', async () => {
    const { user, secret } = await enroll();
    const sessionsBefore = await sessionsOf(user);
    const guess = async (count: number) => {
      let { browser, page } = await password(user);
      for (let i = 0; i < count; i++) {
        page = await submit(browser, page, { code: wrongCode(secret) });
        assert.equal(page.statusCode, 401);
      }
      return { browser, page };
    };
    await guess(4);
    await guess(4);
    const { browser, page } = await guess(2);
    // The 11th attempt this hour, with the right code: refused, and this transaction ends.
    const capped = await submit(browser, page, { code: codeNow(secret) });
    assert.equal(capped.statusCode, 429);
    assert.match(capped.body, /Too many verification attempts in the last hour/);
    assert.equal(await sessionsOf(user), sessionsBefore);
    const exceeded = await events(user.id, 'mfa_attempts_exceeded');
    assert.ok(exceeded.some((e) => e.reason === 'hourly_cap'), `reasons: ${exceeded.map((e) => e.reason).join(', ')}`);
    // A new transaction, even in the same browser, is refused as well, right code or not.
    const again = await password(user, browser);
    assert.equal((await submit(again.browser, again.page, { code: codeNow(secret) })).statusCode, 429);

    // One attempt comes back every 6 minutes.
    clock.advance(6 * 60_000);
    const later = await password(user);
    await signedInAfter(later.browser, await submit(later.browser, later.page, { code: codeNow(secret) }));
  });

  // Threat: a leaked recovery code gives lasting access, or its use goes unnoticed by the owner.
  it('a recovery code works once, and its use sends a security email', async () => {
    const { user, recoveryCodes } = await enroll();
    await deliveredTo(app, user.email);
    const code = recoveryCodes[2] as string;
    const first = await password(user);
    await signedInAfter(first.browser, await submit(first.browser, first.page, { recovery_code: code }));
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 9);
    assert.match((await first.browser.get('/account')).body, /9 recovery codes left/);

    await app.mailWorker.runOnce();
    const mails = (await app.store.devMailbox.list(1000)).filter((m) => m.to === user.email && m.subject.startsWith('A recovery code was used'));
    assert.equal(mails.length, 1);
    assert.ok(mails[0]?.text.includes('9 unused recovery codes left'), mails[0]?.text);

    const second = await password(user);
    const reused = await submit(second.browser, second.page, { recovery_code: code });
    assert.equal(reused.statusCode, 401);
    assert.equal(second.browser.jar.get('portcullis_session'), undefined);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 9);
    // Another, unused code still works.
    await signedInAfter(second.browser, await submit(second.browser, reused, { recovery_code: recoveryCodes[5] as string }));
  });

  // Threat: a half-finished login (password typed, code not yet) is picked up much later on an unattended screen.
  it('the code must follow the password within 5 minutes', async () => {
    const { user, secret } = await enroll();
    const sessionsBefore = await sessionsOf(user);
    const late = await password(user);
    clock.advance(5 * 60_000 + 1_000);
    const refused = await submit(late.browser, late.page, { code: codeNow(secret) });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /The time to enter your code ran out/);
    assert.equal(late.browser.jar.get('portcullis_session'), undefined);
    assert.equal(await sessionsOf(user), sessionsBefore);

    // Signing in again in the same browser starts a new transaction; just inside the window the code works.
    const inTime = await password(user, late.browser);
    clock.advance(5 * 60_000 - 5_000);
    await signedInAfter(inTime.browser, await submit(inTime.browser, inTime.page, { code: codeNow(secret) }));
  });

  it('a passkey user with 2FA: resetting 2FA (use-case) removes TOTP and recovery codes, keeps passkeys, emails the user', async () => {
    const { user, secret } = await enroll();
    assert.equal(await app.store.passkeys.add(passkeyRow(user.id, { name: 'Work laptop', createdAt: clock.now() }), MAX_PASSKEYS_PER_USER), 'added');
    await deliveredTo(app, user.email);

    const deps = { store: app.store, clock: app.clock, mailer: app.mailer, publicUrl: app.config.publicUrl };
    assert.deepEqual(await resetTwoFactor(deps, user.id, { via: 'admin', adminUserId: null }), { removed: true });

    assert.equal(await app.store.mfa.getTotp(user.id), null);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 0);
    const passkeys = await app.store.passkeys.listForUser(user.id);
    assert.deepEqual(passkeys.map((p) => p.name), ['Work laptop'], 'passkeys are kept');
    const mail = (await deliveredTo(app, user.email)).filter((m) => m.subject.startsWith('Two-factor authentication was reset'));
    assert.equal(mail.length, 1);
    assert.ok(mail[0]?.text.includes('Your passkeys were kept'));
    assert.equal((await events(user.id, 'mfa_reset')).length, 1);

    // The password alone signs in again; the old code means nothing now.
    const browser = browserFrom(app);
    const posted = await loginAt(browser, user.email, PASSWORD);
    assert.equal(posted.statusCode, 303);
    assert.equal(location(posted), '/account');
    assert.ok(browser.jar.get('portcullis_session'));
    void secret;
  });
});

describe('`portcullis user reset-2fa` against a running app\'s data folder', () => {
  const clock = new FakeClock(Date.now());
  let app: TestApp;

  before(async () => {
    app = await createTestApp({}, { clock });
  });
  after(async () => {
    await app.dispose();
  });

  async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (c) => out.push(String(c)));
    stderr.on('data', (c) => err.push(String(c)));
    const code = await runCli(args, {
      stdout,
      stderr,
      stdin: Readable.from([]),
      // The app's own data folder and secret, so the CLI opens the same SQLite database.
      env: { PORTCULLIS_DATA_DIR: app.config.dataDir, PORTCULLIS_SECRET: app.config.secret, PORTCULLIS_PUBLIC_URL: app.config.publicUrl, PORTCULLIS_ARGON2_MEMORY_KIB: '1024', PORTCULLIS_ARGON2_TIME_COST: '1' },
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('resetting 2FA keeps passkeys: TOTP and codes gone, passkey kept, user emailed, and the login asks for no code', async () => {
    const user = await seedUser(app, 'cli-reset@example.com', PASSWORD);
    const browser = browserFrom(app);
    await signIn(browser, user.email, PASSWORD);
    const setup = await postAccountForm(browser, '/account/2fa/start', { current: PASSWORD });
    const secret = /<code class="secret">([A-Z2-7]+)<\/code>/.exec(setup.body)?.[1];
    assert.ok(secret);
    const done = await browser.postForm('/account/2fa/confirm', { csrf: hiddenCsrf(setup.body), code: totpCode({ secret, now: clock.now() }) });
    assert.equal(done.statusCode, 200);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 10);
    const passkey = passkeyRow(user.id, { name: 'Phone', createdAt: clock.now() });
    assert.equal(await app.store.passkeys.add(passkey, MAX_PASSKEYS_PER_USER), 'added');
    // Before: the password alone does not sign in.
    const gated = await loginAt(browserFrom(app), user.email, PASSWORD);
    assert.equal(location(gated), '/login');
    await deliveredTo(app, user.email);

    const run = await cli(['user', 'reset-2fa', user.email]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Two-step verification reset for cli-reset@example\.com; 1 passkey\(s\) kept/);
    // The CLI runs on the system clock; the app's clock (fixed in this test) must reach the time the mail was queued at.
    clock.advance(Math.max(0, Date.now() - clock.now()) + 60_000);

    assert.equal(await app.store.mfa.getTotp(user.id), null);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 0);
    assert.deepEqual((await app.store.passkeys.listForUser(user.id)).map((p) => p.credentialId), [passkey.credentialId]);
    const reset = (await app.store.events.list({ userId: user.id, limit: 50 })).filter((e) => e.code === 'mfa_reset');
    assert.equal(reset.length, 1);
    assert.equal((reset[0]?.details as { via?: string } | undefined)?.via, 'cli');
    // The CLI queued the email in the shared outbox; the app's worker delivers it.
    const mail = (await deliveredTo(app, user.email)).filter((m) => m.subject.startsWith('Two-factor authentication was reset'));
    assert.equal(mail.length, 1);

    const after = browserFrom(app);
    const posted = await loginAt(after, user.email, PASSWORD);
    assert.equal(posted.statusCode, 303);
    assert.equal(location(posted), '/account', 'no code step any more');
    assert.ok(after.jar.get('portcullis_session'));

    // A second run has nothing to do.
    const again = await cli(['user', 'reset-2fa', user.email]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /had no two-step verification; nothing to do/);
  });
});
