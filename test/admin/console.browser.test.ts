// The admin console in real Chromium against a listening Portcullis: an operator signs in through /login, sees a
// brute-force block on the dashboard, lifts it with the Unblock button, and the user can sign in again. The console
// pages load with no console error and no CSP violation (they have no script and no inline style).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { seedUser } from '../helpers/account-browser.js';
import { loginClient } from '../helpers/protection.js';
import { location } from '../helpers/oidc-flow.js';
import type { User } from '../../src/domain/types.js';

const skip = browserSkipReason();
const PASSWORD = 'console browser passphrase 5e2b';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('admin console in Chromium', { skip }, () => {
  let app: TestApp;
  let baseUrl: string;
  let browser: TestBrowser | undefined;
  let operator: User;
  let victim: User;
  const problems: string[] = [];

  before(async () => {
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    app = await createTestApp({ publicUrl: baseUrl, port });
    await app.server.listen({ port, host: '127.0.0.1' });
    operator = await seedUser(app, 'operator@example.test', PASSWORD);
    await app.store.users.setOperator(operator.id, true, app.clock.now());
    victim = await seedUser(app, 'victim@example.test', PASSWORD);
    browser = await launchBrowser();
    browser.page.on('console', (message) => {
      // The browser's own /favicon.ico probe 404s on every page of this server; it is not the console's.
      if (new URL(message.location().url || baseUrl).pathname === '/favicon.ico') return;
      if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(message.text())) problems.push(`${message.type()}: ${message.text()} (${message.location().url})`);
    });
    browser.page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test('the operator signs in through /login and lands on the dashboard', async () => {
    const { page } = browser!;
    await page.goto(`${baseUrl}/admin`);
    assert.equal(new URL(page.url()).pathname, '/login', 'not signed in: the sign-in page');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/admin');
    await page.fill('#email', operator.email);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${baseUrl}/admin`);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('navigation', { name: 'Admin console' }).getByRole('link', { name: 'Dashboard' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Dashboard' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.locator('svg.chart[role="img"]').count(), 12, 'six series over two windows');
    assert.deepEqual(problems, [], 'no console errors or CSP violations');
  });

  test('ten wrong passwords from the browser’s IP block the user; the operator unblocks them from the dashboard', async () => {
    const { page } = browser!;
    // From 127.0.0.1, the address the browser itself connects from.
    const attacker = loginClient(app);
    assert.deepEqual(await attacker.fail(victim.email, 10), new Array(10).fill(401));
    assert.equal((await loginClient(app).login(victim.email, PASSWORD)).statusCode, 429, 'the right password is refused while blocked');

    await page.goto(`${baseUrl}/admin`);
    const blocks = page.locator('#blocks');
    const row = blocks.locator('tbody tr', { hasText: victim.email });
    await row.waitFor();
    assert.match(await row.innerText(), /127\.0\.0\.1/);
    assert.match(await row.innerText(), /\b10\b/, 'ten failures');

    await row.getByRole('button', { name: `Unblock ${victim.email} from 127.0.0.1` }).click();
    await page.waitForURL(`${baseUrl}/admin?done=unblocked&n=1`);
    const notice = page.getByRole('status').filter({ hasText: 'The block is lifted' });
    await notice.waitFor();
    assert.equal(await page.locator('#blocks tbody tr', { hasText: victim.email }).count(), 0, 'the block is gone from the list');
    await page.locator('#no-blocks').waitFor();

    const signIn = await loginClient(app).login(victim.email, PASSWORD);
    assert.equal(signIn.statusCode, 303, `the user can sign in again: ${signIn.body.slice(0, 200)}`);
    assert.equal(location(signIn), '/account');
    const unblocked = (await app.store.events.query({ codes: ['login_unblocked'], userId: victim.id, limit: 5 })).events;
    assert.equal(unblocked[0]?.details.actor, `user:${operator.id}`, 'recorded with the operator as actor');
    assert.deepEqual(problems, []);
  });

  test('the other console pages load cleanly, and a destructive action asks first', async () => {
    const { page } = browser!;
    await page.goto(`${baseUrl}/admin/users`);
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('link', { name: victim.email }).click();
    await page.waitForURL(`${baseUrl}/admin/users/${victim.id}`);
    await page.getByRole('heading', { level: 1, name: new RegExp(victim.email) }).waitFor();

    await page.getByRole('link', { name: 'Disable account…' }).click();
    await page.waitForURL(`${baseUrl}/admin/users/${victim.id}/disable`);
    await page.getByRole('heading', { level: 1, name: `Disable ${victim.email}?` }).waitFor();
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(`${baseUrl}/admin/users/${victim.id}`);
    assert.equal((await app.store.users.findById(victim.id))?.disabled, false, 'cancel changes nothing');

    await page.goto(`${baseUrl}/admin/events?code=group%3Ablocks`);
    await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor();
    assert.ok((await page.locator('table.events tbody tr').count()) >= 1, 'the block events are listed');
    await page.goto(`${baseUrl}/admin/settings`);
    await page.getByRole('heading', { level: 1, name: 'Attack-protection settings' }).waitFor();
    assert.equal(await page.getByLabel('bruteForce.threshold').inputValue(), '10');
    assert.deepEqual(problems, [], 'no console errors or CSP violations');
  });
});
