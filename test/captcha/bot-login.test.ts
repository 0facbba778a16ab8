// Bot detection in the real login pipeline over HTTP (Fastify inject, real SQLite, real argon2): who is challenged,
// that a challenge stops the attempt before any password is checked, and that solutions are single-use, bound and short-lived.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserFrom, FakeClock, seedUser } from '../helpers/account-browser.js';
import { hiddenCsrf, type Browser } from '../helpers/oidc-flow.js';
import { countHashing, randomIpv4, uniqueEmail } from '../helpers/protection.js';
import { browserProofFor, captchaIdIn, DESKTOP_CHROME_UA, eventsOf, IMAGE_PROMPT, imageAnswer, signalsOf } from '../helpers/captcha.js';
import { CAPTCHA_TTL_MS } from '../../src/protection/captcha/captcha-provider.js';
import { MESSAGES } from '../../src/http/password-login.js';

const PASSWORD = 'correct horse battery staple 42';

/** GETs /login (once per transaction is enough; later posts reuse the token of the last page) and returns the page. */
async function loginPage(browser: Browser): Promise<LightMyRequestResponse> {
  const page = await browser.get('/login');
  assert.equal(page.statusCode, 200, `GET /login: ${page.statusCode} ${page.body.slice(0, 300)}`);
  return page;
}

/** Posts the login form with the CSRF token of `page` (the last page this browser saw). */
function submit(browser: Browser, page: LightMyRequestResponse, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return browser.postForm('/login', { csrf: hiddenCsrf(page.body), ...fields });
}

function assertChallenged(response: LightMyRequestResponse, what: string): string {
  assert.equal(response.statusCode, 401, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.ok(response.body.includes(IMAGE_PROMPT), `${what}: the page shows the image CAPTCHA`);
  const id = captchaIdIn(response.body);
  assert.ok(id, `${what}: the page carries a challenge id`);
  return id;
}

function assertSignedIn(browser: Browser, response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 303, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.ok(browser.jar.get('portcullis_session'), `${what}: a session started`);
}

async function withApp(overrides: Record<string, unknown>, run: (app: TestApp, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock();
  const app = await createTestApp(overrides, { clock });
  try {
    await run(app, clock);
  } finally {
    await app.dispose();
  }
}

/** Credential stuffing: `count` different identifiers from one browser without the page script's proof. Returns the responses. */
async function stuff(browser: Browser, count: number, last?: { email: string; password: string }): Promise<LightMyRequestResponse[]> {
  let page = await loginPage(browser);
  const responses: LightMyRequestResponse[] = [];
  for (let i = 0; i < count; i++) {
    const credentials = i === count - 1 && last ? last : { email: uniqueEmail(`stuffed${i}`), password: `Summer2024!${i}` };
    const response = await submit(browser, page, credentials);
    responses.push(response);
    page = response;
  }
  return responses;
}

describe('bot detection in the login pipeline', () => {
  test('a bare HTTP client trying credential stuffing is challenged and never reaches password verification', async () => {
    // Threat: credential stuffing (leaked email/password pairs replayed by a script) burning argon2 and finding reused passwords.
    await withApp({ bot: { loginMode: 'when_risky' } }, async (app) => {
      const victim = 'victim@example.test';
      await seedUser(app, victim, PASSWORD);
      const hashing = countHashing(app.hasher);
      const ip = randomIpv4();
      // A desktop user agent: the script spoofs it, and the missing browser proof still gives it away.
      const bot = browserFrom(app, { ip, userAgent: DESKTOP_CHROME_UA });

      // 19 leaked pairs that do not match, then one that does: none of them is checked.
      const responses = await stuff(bot, 20, { email: victim, password: PASSWORD });
      responses.forEach((response, i) => assertChallenged(response, `attempt ${i + 1}`));
      assert.ok(!responses.some((r) => r.body.includes(MESSAGES.invalidCredentials)), 'no attempt learns whether the password was right');
      assert.equal(bot.jar.get('portcullis_session'), undefined, 'no session, not even for the matching pair');

      // Guessing at the CAPTCHA does not get a password checked either.
      let page = responses.at(-1)!;
      for (const guess of ['AAAAAA', 'XXXXXX', '']) {
        page = await submit(bot, page, { email: victim, password: PASSWORD, captcha_id: captchaIdIn(page.body)!, captcha_answer: guess });
        assertChallenged(page, `guess ${JSON.stringify(guess)}`);
      }

      assert.equal(hashing.verifications, 0, 'no argon2 verification (real or dummy) ran for any challenged attempt');

      const required = await eventsOf(app, 'captcha_required');
      assert.equal(required.length, 21, 'each unsolved attempt is logged as captcha_required (20 attempts and the empty guess)');
      assert.ok(required.every((e) => signalsOf(e).includes('browser_proof_missing')), 'every event names the missing browser proof');
      assert.ok(required.every((e) => e.ip === ip && e.outcome === 'failure'));
      const last = required[19]!;
      assert.ok(signalsOf(last).includes('credential_stuffing'), `the 20th attempt is flagged as stuffing: ${signalsOf(last).join(',')}`);
      assert.ok(signalsOf(last).includes('login_velocity'), `the 20th attempt within a minute is flagged as velocity: ${signalsOf(last).join(',')}`);
      const stuffing = (last.details.signals as Record<string, Record<string, number>>).credential_stuffing!;
      assert.equal(stuffing.distinct_identifiers_last_hour, 20, 'the event carries the numbers behind the finding');
      assert.ok(Array.isArray(last.details.reasons) && (last.details.reasons as string[]).includes('credential_stuffing'), 'the decision reasons are logged too');
      const failed = await eventsOf(app, 'captcha_failed');
      assert.deepEqual(failed.map((e) => e.reason), ['wrong', 'wrong'], 'wrong guesses are captcha_failed');
      assert.equal((await eventsOf(app, 'login_success', 'login_failed_password', 'login_failed_unknown_user')).length, 0, 'no password outcome was recorded');
    });
  });

  test('a replayed solution, a solution from another transaction, and an expired solution are refused', async () => {
    // Threat: CAPTCHA-solving farms and solution reuse: one solved challenge must buy exactly one password check, in one login, for a short while.
    await withApp({ bot: { loginMode: 'when_risky' } }, async (app, clock) => {
      const email = 'alice@example.test';
      await seedUser(app, email, PASSWORD);
      const hashing = countHashing(app.hasher);
      const ip = randomIpv4();
      const a = browserFrom(app, { ip, userAgent: DESKTOP_CHROME_UA });
      const b = browserFrom(app, { ip, userAgent: DESKTOP_CHROME_UA });

      let pageA = await submit(a, await loginPage(a), { email, password: 'wrong guess' });
      const first = assertChallenged(pageA, 'no proof');
      const firstAnswer = await imageAnswer(app, first);

      // The right answer (case-insensitive, spaces trimmed) lets exactly one password check through.
      const solved = { captcha_id: first, captcha_answer: ` ${firstAnswer.toLowerCase()} ` };
      pageA = await submit(a, pageA, { email, password: 'wrong password', ...solved });
      assert.equal(pageA.statusCode, 401);
      assert.ok(pageA.body.includes(MESSAGES.invalidCredentials), 'the password was checked and found wrong');
      assert.equal(hashing.verifications, 1, 'the solved challenge bought one verification');
      assert.equal((await eventsOf(app, 'captcha_passed')).length, 1);

      // Replayed, now with the right password: refused before the password is looked at.
      pageA = await submit(a, pageA, { email, password: PASSWORD, ...solved });
      const second = assertChallenged(pageA, 'replay');
      assert.ok(pageA.body.includes(MESSAGES.captchaWrong));
      assert.equal(a.jar.get('portcullis_session'), undefined, 'a replayed solution starts no session');
      assert.equal(hashing.verifications, 1, 'a replayed solution checks no password');
      assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['replayed']);

      // A's fresh challenge, solved, but submitted in B's login transaction.
      const secondAnswer = await imageAnswer(app, second);
      const pageB = await submit(b, await loginPage(b), { email, password: PASSWORD, captcha_id: second, captcha_answer: secondAnswer });
      assertChallenged(pageB, 'other transaction');
      assert.equal(b.jar.get('portcullis_session'), undefined);
      assert.equal(hashing.verifications, 1, 'a solution from another transaction checks no password');
      assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['replayed', 'wrong_transaction']);
      assert.equal((await app.store.oidc.find('Captcha', second, 0))?.consumedAt, null, "B's attempt did not burn A's challenge");

      // The same challenge, back in A, once its five minutes are over.
      clock.advance(CAPTCHA_TTL_MS + 1_000);
      pageA = await submit(a, pageA, { email, password: PASSWORD, captcha_id: second, captcha_answer: secondAnswer });
      const third = assertChallenged(pageA, 'expired');
      assert.equal(a.jar.get('portcullis_session'), undefined);
      assert.equal(hashing.verifications, 1, 'an expired solution checks no password');
      assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['replayed', 'wrong_transaction', 'expired']);

      // A fresh challenge, solved in time, in its own transaction: the login goes through.
      const response = await submit(a, pageA, { email, password: PASSWORD, captcha_id: third, captcha_answer: await imageAnswer(app, third) });
      assertSignedIn(a, response, 'fresh solution');
      assert.equal(hashing.verifications, 2);
      const [success] = await eventsOf(app, 'login_success');
      assert.equal(success?.details.captcha_required, true, 'the successful login records that a CAPTCHA was required');
    });
  });

  describe('always and never behave as named; monitoring-only challenges nobody but logs', () => {
    test('always challenges even a first, unhurried request that carries the browser proof; when_risky lets that same request through', async () => {
      // Threat: an operator under attack switches to `always`; it must not quietly exempt clients that look human.
      await withApp({ bot: { loginMode: 'always' } }, async (app, clock) => {
        const email = 'always@example.test';
        await seedUser(app, email, PASSWORD);
        const hashing = countHashing(app.hasher);
        const person = browserFrom(app, { ip: randomIpv4(), userAgent: DESKTOP_CHROME_UA });
        const page = await loginPage(person);
        assert.ok(page.body.includes(IMAGE_PROMPT), 'with always, the first page already shows the challenge');
        clock.advance(5_000);
        const response = await submit(person, page, { email, password: PASSWORD, proof: browserProofFor(page.body) });
        const id = assertChallenged(response, 'always, first request with proof');
        assert.equal(hashing.verifications, 0);
        const [required] = await eventsOf(app, 'captcha_required');
        assert.equal(required?.reason, 'mode_always', 'the reason is the mode, not a signal');
        assert.deepEqual(signalsOf(required!), [], 'no bot signal fired for this request');
        clock.advance(5_000);
        const solved = await submit(person, response, { email, password: PASSWORD, proof: browserProofFor(response.body), captcha_id: id, captcha_answer: await imageAnswer(app, id) });
        assertSignedIn(person, solved, 'always, solved');
        assert.equal(hashing.verifications, 1);
      });
      await withApp({ bot: { loginMode: 'when_risky' } }, async (app, clock) => {
        const email = 'risky@example.test';
        await seedUser(app, email, PASSWORD);
        const person = browserFrom(app, { ip: randomIpv4(), userAgent: DESKTOP_CHROME_UA });
        const page = await loginPage(person);
        assert.ok(!page.body.includes(IMAGE_PROMPT), 'when_risky shows no challenge up front');
        clock.advance(5_000);
        assertSignedIn(person, await submit(person, page, { email, password: PASSWORD, proof: browserProofFor(page.body) }), 'when_risky, request with proof');
        assert.equal((await eventsOf(app, 'captcha_required', 'captcha_would_challenge')).length, 0);
      });
    });

    test('never challenges anybody, even a bare client stuffing credentials', async () => {
      // Threat: a mode that says `never` but still challenges (or half-challenges) would break API-less deployments that chose it knowingly.
      await withApp({ bot: { loginMode: 'never' } }, async (app) => {
        const email = 'never@example.test';
        await seedUser(app, email, PASSWORD);
        const hashing = countHashing(app.hasher);
        const bot = browserFrom(app, { ip: randomIpv4() });
        const page = await loginPage(bot);
        assert.ok(!page.body.includes('data-proof-nonce'), 'with never, the page carries no browser proof');
        const responses = await stuff(bot, 20, { email, password: PASSWORD });
        responses.slice(0, 19).forEach((r, i) => {
          assert.equal(r.statusCode, 401, `attempt ${i + 1}`);
          assert.ok(!r.body.includes(IMAGE_PROMPT), `attempt ${i + 1} is not challenged`);
          assert.ok(r.body.includes(MESSAGES.invalidCredentials));
        });
        assertSignedIn(bot, responses[19]!, 'the matching pair');
        assert.equal(hashing.verifications, 20, 'every attempt went to the password check');
        assert.equal((await eventsOf(app, 'captcha_required', 'captcha_would_challenge', 'captcha_failed', 'captcha_passed')).length, 0);
      });
    });

    test('monitoring-only challenges nobody but logs each would-be challenge with its signals', async () => {
      // Threat: an operator trialling bot detection must see what it would do without locking real users out.
      await withApp({ bot: { loginMode: 'when_risky', monitorOnly: true } }, async (app) => {
        const hashing = countHashing(app.hasher);
        const ip = randomIpv4();
        const responses = await stuff(browserFrom(app, { ip }), 20);
        responses.forEach((r, i) => {
          assert.equal(r.statusCode, 401, `attempt ${i + 1}`);
          assert.ok(!r.body.includes(IMAGE_PROMPT), `attempt ${i + 1} is not challenged`);
          assert.ok(r.body.includes(MESSAGES.invalidCredentials));
        });
        assert.equal(hashing.verifications, 20, 'every attempt went to the password check');
        const would = await eventsOf(app, 'captcha_would_challenge');
        assert.equal(would.length, 20, 'each would-be challenge is logged');
        assert.ok(would.every((e) => e.ip === ip && e.outcome === 'info' && signalsOf(e).includes('browser_proof_missing')));
        assert.ok(signalsOf(would[19]!).includes('credential_stuffing'), `the stuffing is visible in the log: ${signalsOf(would[19]!).join(',')}`);
        assert.equal((await eventsOf(app, 'captcha_required', 'captcha_failed')).length, 0, 'nobody was actually challenged');
      });
    });
  });
});
