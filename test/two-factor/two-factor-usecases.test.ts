// The 2FA use-cases on a real app (SQLite, outbox, dev mailbox): enrollment, replay refusal, recovery codes, the per-user cap and the admin reset.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { deliveredTo, FakeClock, seedUser } from '../helpers/account-browser.js';
import type { AccountDeps } from '../../src/account/account-deps.js';
import {
  confirmTotpEnrollment,
  hasTwoFactor,
  regenerateRecoveryCodes,
  resetTwoFactor,
  startTotpEnrollment,
  takeMfaAttempt,
  verifySecondFactor,
  type TwoFactorDeps,
} from '../../src/account/two-factor.js';
import { totpCode, totpStep } from '../../src/authn/totp.js';
import { PortcullisError } from '../../src/domain/errors.js';
import type { User } from '../../src/domain/types.js';

/** 10 s into a 30-second step, so ±30 s moves are whole steps. */
const START = totpStep(1_700_000_000_000) * 30_000 + 10_000;
const STEP_MS = 30_000;
const CONTEXT = { ip: '203.0.113.5', userAgent: 'two-factor-test' };

/** The app's AccountDeps can be passed as they are (a type error here if they stop fitting). */
const fromAccountDeps = (account: AccountDeps): TwoFactorDeps => account;
void fromAccountDeps;

describe('two-factor use-cases', () => {
  const clock = new FakeClock(START);
  let app: TestApp;
  let deps: TwoFactorDeps;
  let counter = 0;

  before(async () => {
    app = await createTestApp({}, { clock });
    // The parts of the composition root's AccountDeps these use-cases read.
    deps = { store: app.store, clock: app.clock, mailer: app.mailer, publicUrl: app.config.publicUrl };
  });
  after(async () => {
    await app.dispose();
  });

  const newUser = async (): Promise<User> => seedUser(app, `mfa-${++counter}@example.com`, 'a long enough password 1');
  const codeNow = (secret: string, offsetSteps = 0): string => totpCode({ secret, now: clock.now() + offsetSteps * STEP_MS });
  const events = async (userId: string, code: string) => (await app.store.events.list({ userId, limit: 200 })).filter((e) => e.code === code);
  const subjects = async (to: string): Promise<string[]> => (await deliveredTo(app, to)).map((m) => m.subject);

  /** Enrolls a user with a code computed here, as an authenticator app would, and returns the secret and codes. */
  async function enroll(user: User): Promise<{ secret: string; recoveryCodes: string[] }> {
    const { secret } = await startTotpEnrollment(deps, user);
    const { recoveryCodes } = await confirmTotpEnrollment(deps, user, codeNow(secret), CONTEXT);
    clock.advance(STEP_MS);
    return { secret, recoveryCodes };
  }

  it('enrollment: a QR code and the secret, then 2FA switches on only after a correct code; the user is emailed', async () => {
    const user = await newUser();
    const enrollment = await startTotpEnrollment(deps, user);
    assert.match(enrollment.secret, /^[A-Z2-7]{32}$/);
    assert.ok(enrollment.uri.startsWith('otpauth://totp/') && enrollment.uri.includes(`secret=${enrollment.secret}`));
    assert.ok(enrollment.uri.includes('issuer=localhost%3A3000'), enrollment.uri);
    assert.match(enrollment.qrSvg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(await hasTwoFactor(deps, user.id), false, 'pending is not on');

    const wrong = String((Number(codeNow(enrollment.secret)) + 1) % 1_000_000).padStart(6, '0');
    await assert.rejects(confirmTotpEnrollment(deps, user, wrong), (e: unknown) => e instanceof PortcullisError && e.code === 'invalid_input');
    assert.equal(await hasTwoFactor(deps, user.id), false);

    const { recoveryCodes } = await confirmTotpEnrollment(deps, user, codeNow(enrollment.secret), CONTEXT);
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    assert.equal(await hasTwoFactor(deps, user.id), true);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 10);
    assert.equal((await events(user.id, 'mfa_enrolled')).length, 1);
    assert.deepEqual(await subjects(user.email), ['Two-factor authentication is on for your Portcullis account']);
    const [mail] = await deliveredTo(app, user.email);
    assert.ok(mail?.text.includes('203.0.113.5') && mail.text.includes('http://localhost:3000/account'));
  });

  it('an enrollment left unconfirmed for over 30 minutes must be started again', async () => {
    const user = await newUser();
    const { secret } = await startTotpEnrollment(deps, user);
    clock.advance(31 * 60_000);
    await assert.rejects(confirmTotpEnrollment(deps, user, codeNow(secret)), /expired/);
    assert.equal(await hasTwoFactor(deps, user.id), false);
  });

  it('re-enrolling keeps the old authenticator working until the new one is confirmed', async () => {
    const user = await newUser();
    const first = await enroll(user);
    const { secret: next } = await startTotpEnrollment(deps, user);
    assert.deepEqual(await verifySecondFactor(deps, user, { code: codeNow(first.secret) }), { ok: true, method: 'totp' });
    clock.advance(STEP_MS);
    await confirmTotpEnrollment(deps, user, codeNow(next));
    clock.advance(STEP_MS);
    assert.deepEqual(await verifySecondFactor(deps, user, { code: codeNow(next) }), { ok: true, method: 'totp' });
    assert.equal((await app.store.mfa.getTotp(user.id))?.secret, next);
  });

  // Threat: a code seen once (the enrollment screen, a phishing relay, a shoulder-surfer) is replayed within its 90-second life.
  it('a code is never accepted twice: not the enrollment code, not a login code, not an older one in the window', async () => {
    const user = await newUser();
    const { secret } = await startTotpEnrollment(deps, user);
    const enrollmentCode = codeNow(secret);
    await confirmTotpEnrollment(deps, user, enrollmentCode);
    assert.deepEqual(await verifySecondFactor(deps, user, { code: enrollmentCode }, CONTEXT), { ok: false, reason: 'replayed' });

    clock.advance(STEP_MS);
    const loginCode = codeNow(secret);
    assert.deepEqual(await verifySecondFactor(deps, user, { code: loginCode }, CONTEXT), { ok: true, method: 'totp' });
    assert.deepEqual(await verifySecondFactor(deps, user, { code: loginCode }, CONTEXT), { ok: false, reason: 'replayed' });
    assert.deepEqual(await verifySecondFactor(deps, user, { code: codeNow(secret, -1) }), { ok: false, reason: 'replayed' });

    const failures = await events(user.id, 'mfa_challenge_failed');
    assert.ok(failures.length >= 3 && failures.every((e) => e.reason === 'replayed' && e.outcome === 'failure'));
    assert.equal((await events(user.id, 'mfa_challenge_passed')).length, 1);
  });

  // Threat: two requests race with one intercepted code; each reads the old last step and both would pass without an atomic write.
  it('of 10 parallel submissions of one code exactly one passes', async () => {
    const user = await newUser();
    const { secret } = await enroll(user);
    const code = codeNow(secret);
    const results = await Promise.all(Array.from({ length: 10 }, () => verifySecondFactor(deps, user, { code })));
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'replayed'));
  });

  it('refuses malformed and wrong codes, and users without 2FA', async () => {
    const user = await newUser();
    assert.deepEqual(await verifySecondFactor(deps, user, { code: '123456' }), { ok: false, reason: 'not_enrolled' });
    const { secret } = await enroll(user);
    assert.deepEqual(await verifySecondFactor(deps, user, {}), { ok: false, reason: 'malformed' });
    assert.deepEqual(await verifySecondFactor(deps, user, { code: '12ab56' }), { ok: false, reason: 'malformed' });
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: 'nope' }), { ok: false, reason: 'malformed' });
    const wrong = String((Number(codeNow(secret)) + 500_000) % 1_000_000).padStart(6, '0');
    if (![-1, 0, 1].some((o) => codeNow(secret, o) === wrong)) {
      assert.deepEqual(await verifySecondFactor(deps, user, { code: wrong }), { ok: false, reason: 'invalid' });
    }
  });

  // Threat: a leaked recovery code gives lasting access, or its use goes unnoticed by the owner.
  it('a recovery code works once, and its use emails the user', async () => {
    const user = await newUser();
    const { recoveryCodes } = await enroll(user);
    await deliveredTo(app, user.email);
    const code = recoveryCodes[3] as string;
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: code.toUpperCase().replace(/-/g, ' ') }, CONTEXT), { ok: true, method: 'recovery' });
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: code }, CONTEXT), { ok: false, reason: 'invalid' });
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 9);

    const used = await events(user.id, 'recovery_code_used');
    assert.equal(used.length, 1);
    assert.deepEqual(used[0]?.details, { remaining: 9 });
    const mails = (await deliveredTo(app, user.email)).filter((m) => m.subject.startsWith('A recovery code was used'));
    assert.equal(mails.length, 1, 'exactly one email for one use');
    assert.ok(mails[0]?.text.includes('9 unused recovery codes left'));
    assert.ok(mails[0]?.text.includes('203.0.113.5'));
  });

  it('regenerating recovery codes needs a current code and invalidates the old set', async () => {
    const user = await newUser();
    const { secret, recoveryCodes: old } = await enroll(user);
    await assert.rejects(regenerateRecoveryCodes(deps, user, '000000'), (e: unknown) => e instanceof PortcullisError && e.code === 'invalid_input');
    const { recoveryCodes } = await regenerateRecoveryCodes(deps, user, codeNow(secret), CONTEXT);
    assert.equal(recoveryCodes.length, 10);
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: old[0] as string }), { ok: false, reason: 'invalid' });
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: recoveryCodes[0] as string }), { ok: true, method: 'recovery' });
    assert.equal((await events(user.id, 'recovery_codes_regenerated')).length, 1);
  });

  // Threat: an attacker with the password guesses 6-digit codes; 10 per hour per user keeps the odds negligible.
  it('takeMfaAttempt allows 10 per hour per user, logs the refusal, and refills one every 6 minutes', async () => {
    const user = await newUser();
    const other = await newUser();
    const now = clock.now();
    for (let i = 0; i < 10; i++) assert.deepEqual(await takeMfaAttempt(deps, user.id, now), { allowed: true }, `attempt ${i + 1}`);
    assert.deepEqual(await takeMfaAttempt(deps, user.id, now, CONTEXT), { allowed: false });
    assert.deepEqual(await takeMfaAttempt(deps, other.id, now), { allowed: true }, 'per user');
    const exceeded = await events(user.id, 'mfa_attempts_exceeded');
    assert.equal(exceeded.length, 1);
    assert.equal(exceeded[0]?.ip, '203.0.113.5');
    assert.deepEqual(await takeMfaAttempt(deps, user.id, now + 5 * 60_000), { allowed: false });
    assert.deepEqual(await takeMfaAttempt(deps, user.id, now + 6 * 60_000), { allowed: true });
  });

  it('regenerating shares the per-user cap, so the account page cannot be used to guess codes', async () => {
    const user = await newUser();
    const { secret } = await enroll(user);
    for (let i = 0; i < 10; i++) await takeMfaAttempt(deps, user.id, clock.now());
    await assert.rejects(regenerateRecoveryCodes(deps, user, codeNow(secret)), (e: unknown) => e instanceof PortcullisError && e.code === 'rate_limited');
  });

  it('an admin reset removes TOTP and every recovery code, logs it and emails the user', async () => {
    const user = await newUser();
    const { secret, recoveryCodes } = await enroll(user);
    await deliveredTo(app, user.email);
    assert.deepEqual(await resetTwoFactor(deps, user.id, { via: 'cli' }), { removed: true });
    assert.equal(await hasTwoFactor(deps, user.id), false);
    assert.equal(await app.store.mfa.getTotp(user.id), null);
    assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 0);
    assert.deepEqual(await verifySecondFactor(deps, user, { code: codeNow(secret) }), { ok: false, reason: 'not_enrolled' });
    assert.deepEqual(await verifySecondFactor(deps, user, { recoveryCode: recoveryCodes[0] as string }), { ok: false, reason: 'not_enrolled' });
    const [event] = await events(user.id, 'mfa_reset');
    assert.deepEqual(event?.details, { via: 'cli', adminUserId: null, removedTotp: true, removedRecoveryCodes: 10 });
    const mails = (await deliveredTo(app, user.email)).filter((m) => m.subject.startsWith('Two-factor authentication was reset'));
    assert.equal(mails.length, 1);
    assert.ok(mails[0]?.text.includes('Your passkeys were kept'));

    assert.deepEqual(await resetTwoFactor(deps, user.id, { via: 'admin', adminUserId: 'admin-1' }), { removed: false }, 'nothing left to remove');
    assert.equal((await deliveredTo(app, user.email)).filter((m) => m.subject.startsWith('Two-factor authentication was reset')).length, 1, 'no second email');
    await assert.rejects(resetTwoFactor(deps, 'no-such-user', { via: 'cli' }), (e: unknown) => e instanceof PortcullisError && e.code === 'not_found');
  });
});
