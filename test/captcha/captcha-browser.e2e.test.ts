// Bot detection and the CAPTCHA end to end: real Chromium against a listening Portcullis, on the account page's own sign-in (/login).
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, type TestBrowser } from '../helpers/browser.js';
import { seedUser } from '../helpers/account-browser.js';
import { eventsOf, IMAGE_PROMPT, imageAnswer, launchBrowserAs, signalsOf } from '../helpers/captcha.js';
import { MESSAGES } from '../../src/http/password-login.js';

const skip = browserSkipReason();
const PASSWORD = 'correct horse battery staple 42';
const EMAIL = 'person@example.test';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Setup {
  app: TestApp;
  baseUrl: string;
  page: Page;
  /** CSP reports from the console and from `securitypolicyviolation` events, to check the CSP was respected. */
  cspViolations(): Promise<string[]>;
}

/**
 * One Chromium (with a normal desktop user agent) for the suite; each test gets its own listening app with one user,
 * a fresh page and no cookies (cookies are per host, not per port, so the previous test's would otherwise leak in).
 */
let browser: TestBrowser | undefined;

async function setUp(t: TestContext, bot: Record<string, unknown>): Promise<Setup> {
  assert.ok(browser, 'the browser was launched');
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;
  const app = await createTestApp({ publicUrl: baseUrl, port, bot });
  t.after(() => app.dispose());
  await app.server.listen({ port, host: '127.0.0.1' });
  await seedUser(app, EMAIL, PASSWORD);
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  t.after(() => page.close());
  const console: string[] = [];
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) console.push(message.text());
  });
  return {
    app,
    baseUrl,
    page,
    async cspViolations() {
      const reported = await page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
      return [...console, ...reported];
    },
  };
}

/** Opens /login and waits for the page script to fill in the browser proof. */
async function openLogin(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('#email').waitFor();
  await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('input[name="proof"]')?.value ?? '') !== '');
}

/** Waits for the next page after a form submit. */
async function submitAndWait(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: 'Sign in' }).click()]);
}

describe('bot detection and CAPTCHA in real Chromium', { skip }, () => {
  before(async () => {
    browser = await launchBrowserAs();
    // Init scripts run outside the page's CSP, so this listener does not itself need an exception.
    await browser.context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
  });
  after(async () => {
    await browser?.close();
  });

  test('a normal browser login with the default settings and one user is never challenged', async (t) => {
    // Threat (to users): a bot defence that challenges ordinary people trains them to solve CAPTCHAs everywhere, and locks out some.
    const { app, baseUrl, page } = await setUp(t, { loginMode: 'when_risky' });
    assert.ok(!(await page.evaluate(() => navigator.userAgent)).includes('Headless'), 'the browser presents an ordinary user agent');
    await openLogin(page, baseUrl);
    assert.equal(await page.getByText(IMAGE_PROMPT, { exact: true }).count(), 0, 'no challenge on the first page');
    await page.waitForTimeout(1_500);
    await page.locator('#email').pressSequentially(EMAIL, { delay: 35 });
    await page.locator('#password').pressSequentially(PASSWORD, { delay: 35 });
    await submitAndWait(page);
    assert.equal(new URL(page.url()).pathname, '/account', `signed in and on the account page, not ${page.url()}`);
    assert.deepEqual((await eventsOf(app, 'captcha_required', 'captcha_would_challenge', 'captcha_failed')).map((e) => `${e.code}:${e.reason}`), []);
    const [success] = await eventsOf(app, 'login_success');
    assert.equal(success?.details.captcha_required, false);
  });

  test('the image CAPTCHA is shown after the pattern trips; a wrong answer is refused, the right answer lets the login continue', async (t) => {
    // Threat: one browser cycling through accounts (credential stuffing by a scripted real browser that passes the browser proof).
    const { app, baseUrl, page } = await setUp(t, { loginMode: 'when_risky' });
    await openLogin(page, baseUrl);
    // Five different accounts that do not exist: allowed (medium sensitivity allows five identifiers an hour), each a plain failure.
    for (let i = 1; i <= 5; i++) {
      await page.waitForTimeout(1_000);
      await page.fill('#email', `someone-${i}@example.test`);
      await page.fill('#password', `guess number ${i}`);
      await submitAndWait(page);
      assert.equal(await page.getByText(IMAGE_PROMPT, { exact: true }).count(), 0, `attempt ${i} is not challenged`);
      assert.equal(await page.getByText(MESSAGES.invalidCredentials).count(), 1, `attempt ${i} fails on the password`);
    }
    // The sixth identifier trips credential stuffing: the right password alone no longer gets in.
    await page.waitForTimeout(1_000);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await submitAndWait(page);
    await page.getByText(IMAGE_PROMPT, { exact: true }).waitFor();
    assert.ok(await page.locator('[data-captcha-svg] svg').isVisible(), 'the distorted image is shown');
    assert.equal(new URL(page.url()).pathname, '/login');
    const [required] = await eventsOf(app, 'captcha_required');
    assert.deepEqual(signalsOf(required!), ['credential_stuffing'], 'only the stuffing signal fired: the real browser passed the proof, the timing and the UA checks');

    // A wrong answer (Q is not in the alphabet) is refused, with a new image.
    const firstId = await page.inputValue('input[name="captcha_id"]');
    await page.fill('#password', PASSWORD);
    await page.fill('#captcha_answer', 'QQQQQQ');
    await page.waitForTimeout(1_000);
    await submitAndWait(page);
    await page.getByText(MESSAGES.captchaWrong).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login', 'still on the sign-in page');
    const secondId = await page.inputValue('input[name="captcha_id"]');
    assert.notEqual(secondId, firstId, 'a refused answer brings a new image');
    assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['wrong']);

    // The right answer, typed in lower case like a person might.
    await page.fill('#password', PASSWORD);
    await page.fill('#captcha_answer', (await imageAnswer(app, secondId)).toLowerCase());
    await page.waitForTimeout(1_000);
    await submitAndWait(page);
    assert.equal(new URL(page.url()).pathname, '/account', `signed in, not ${page.url()}`);
    const [success] = await eventsOf(app, 'login_success');
    assert.equal(success?.details.captcha_required, true);
  });

  test('the proof-of-work path solves in real Chromium within a few seconds', async (t) => {
    // Threat (to users): people who cannot read the image must still get in, without a third party and without typing.
    const { app, baseUrl, page, cspViolations } = await setUp(t, { loginMode: 'always' });
    await openLogin(page, baseUrl);
    await page.getByText(IMAGE_PROMPT, { exact: true }).waitFor();
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    const started = Date.now();
    await page.getByText("Can't read it? Verify another way").click();
    await page.locator('[data-captcha-status]', { hasText: 'Verified' }).waitFor({ timeout: 10_000 });
    const solvedMs = Date.now() - started;
    assert.ok((await page.inputValue('input[name="altcha"]')) !== '', 'the solution is in the form');
    assert.equal(await page.inputValue('#captcha_answer'), '', 'nothing was typed into the image field');
    await submitAndWait(page);
    const totalMs = Date.now() - started;
    assert.equal(new URL(page.url()).pathname, '/account', `signed in, not ${page.url()}`);
    t.diagnostic(`proof of work solved in ${solvedMs} ms; signed in ${totalMs} ms after choosing it`);
    assert.ok(totalMs < 10_000, `from "Verify another way" to signed in took ${totalMs} ms`);
    const passed = await eventsOf(app, 'captcha_passed');
    assert.equal(passed.length, 1);
    assert.deepEqual(await cspViolations(), [], 'the worker ran under the page CSP');
  });

  test('the New image button swaps the image within the CSP, and the new image is the one that counts', async (t) => {
    // Threat (to users): an unreadable image must be replaceable without reloading, and without loosening the CSP for it.
    const { app, baseUrl, page, cspViolations } = await setUp(t, { loginMode: 'always' });
    await openLogin(page, baseUrl);
    await page.getByText(IMAGE_PROMPT, { exact: true }).waitFor();
    const firstId = await page.inputValue('input[name="captcha_id"]');
    const firstSvg = await page.locator('[data-captcha-svg]').innerHTML();
    const [reply] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/login/captcha/image'),
      page.getByRole('button', { name: 'New image' }).click(),
    ]);
    assert.equal(reply.status(), 200);
    await page.getByText('New image loaded').waitFor();
    const secondId = await page.inputValue('input[name="captcha_id"]');
    assert.notEqual(secondId, firstId, 'the hidden id follows the new image');
    const secondSvg = await page.locator('[data-captcha-svg]').innerHTML();
    assert.notEqual(secondSvg, firstSvg, 'the picture changed');
    assert.ok(secondSvg.startsWith('<svg'), 'the new image is an inline SVG');
    assert.ok(await page.locator('[data-captcha-svg] svg').isVisible());

    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.fill('#captcha_answer', await imageAnswer(app, secondId));
    await page.waitForTimeout(1_000);
    await submitAndWait(page);
    assert.equal(new URL(page.url()).pathname, '/account', `signed in with the new image's answer, not ${page.url()}`);
    assert.deepEqual(await cspViolations(), [], 'no CSP violation on either page');
  });
});
