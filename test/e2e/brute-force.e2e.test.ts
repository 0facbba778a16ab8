// End to end in real Chromium against a listening Portcullis: the brute-force block, its email through a real SMTP server, Unblock, and a successful sign-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { freePort, startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { headerOf, plainTextOf } from '../helpers/mail-text.js';
import { seedUser } from '../helpers/account-browser.js';
import { MESSAGES } from '../../src/http/password-login.js';

const skip = browserSkipReason();
// Not a real-world password, so a breached-password check can never refuse it.
const PASSWORD = 'portcullis e2e passphrase 51c9';
const THRESHOLD = 10;

interface Mail {
  subject: string;
  text: string;
}

/** Submits the /login form and returns the HTTP status of the POST. */
async function submitLogin(page: Page, email: string, password: string): Promise<number> {
  await page.locator('#email').waitFor();
  await page.fill('#email', email);
  await page.fill('#password', password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/login' && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('load');
  return response.status();
}

describe('brute-force block and unblock in a real browser', () => {
  let smtp: TestSmtpServer;
  let app: TestApp;
  let baseUrl: string;
  let browser: TestBrowser;

  before(async () => {
    if (skip) return;
    smtp = await startSmtpServer();
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    app = await createTestApp({ publicUrl: baseUrl, port, smtpUrl: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true` });
    await app.server.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  after(async () => {
    if (skip) return;
    await browser?.close();
    await app?.dispose();
    await smtp?.close();
  });

  /** Runs the app's mail worker until the SMTP server has received a message for `to` whose subject matches. */
  async function awaitMail(to: string, subject: RegExp): Promise<Mail> {
    for (let i = 0; i < 100; i++) {
      await app.mailWorker.runOnce();
      const found = smtp.received.filter((m) => m.to.includes(to)).map((m) => ({ subject: headerOf(m.raw, 'subject'), text: plainTextOf(m.raw) })).find((m) => subject.test(m.subject));
      if (found) return found;
      await delay(50);
    }
    throw new Error(`no mail matching ${subject} for ${to}; received: ${smtp.received.map((m) => `${m.to.join(',')}: ${headerOf(m.raw, 'subject')}`).join(' | ')}`);
  }

  test('a browser test: 10 wrong passwords, then the block page, then the email (real SMTP), then unblock, then a successful login', { skip }, async () => {
    // Threat: an attacker guessing a password from one network; and the real user, on that same network, left locked out.
    const email = `e2e-blocked-${Date.now()}@example.test`;
    await seedUser(app, email, PASSWORD);
    const { page } = browser;

    await page.goto(`${baseUrl}/login`);
    for (let i = 1; i <= THRESHOLD; i++) {
      assert.equal(await submitLogin(page, email, `wrong password ${i}`), 401, `wrong password ${i}`);
      assert.match(await page.getByRole('alert').innerText(), /Incorrect email or password/);
    }

    assert.equal(await submitLogin(page, email, PASSWORD), 429, 'even the right password is refused once blocked');
    const blockPage = await page.locator('main').innerText();
    assert.ok(blockPage.includes(MESSAGES.blocked), `the block page says what happened and to check email:\n${blockPage}`);

    const blocked = await awaitMail(email, /was blocked/);
    assert.ok(blocked.text.includes('127.0.0.1'), 'the email names the IP');
    const unblockUrl = new RegExp(`${baseUrl.replace(/[.]/g, '\\.')}/unblock/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+`).exec(blocked.text)?.[0];
    assert.ok(unblockUrl, `an Unblock link in:\n${blocked.text}`);

    await page.goto(unblockUrl);
    await page.getByRole('button', { name: 'Unblock' }).click();
    await page.getByRole('heading', { name: 'Sign-in unblocked' }).waitFor();

    const loginLinkMail = await awaitMail(email, /one-time/);
    assert.match(loginLinkMail.text, new RegExp(`${baseUrl.replace(/[.]/g, '\\.')}/login-link/`), 'the one-time login link arrives too');

    await page.goto(`${baseUrl}/login`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/account`);
    assert.ok((await page.locator('main').innerText()).includes(email), 'signed in to the account page');
  });
});
