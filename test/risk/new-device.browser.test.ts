// New-device risk assessment in real Chromium against a listening Portcullis: each launchBrowser() is a fresh profile,
// so a second launch is a browser the server has never seen. Covers the portcullis_device cookie, the new_device
// finding in risk_logged / risk_blocked, the remembered device, the new-sign-in email, a block rule, and the account page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { deliveredTo, queued, seedUser } from '../helpers/account-browser.js';
import { deviceFamily } from '../../src/protection/risk/device-family.js';
import type { SecurityEvent } from '../../src/events/event-codes.js';
import type { User } from '../../src/domain/types.js';

const skip = browserSkipReason();
const PASSWORD = 'correct horse battery staple 42';
const DEVICE_COOKIE = 'portcullis_device';
const BLOCKED_MESSAGE =
  'This login attempt was blocked because it looked unusual. If this was you, try again from a device you have used before or contact your admin.';
const DAY_S = 24 * 3600;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Portcullis {
  app: TestApp;
  baseUrl: string;
}

/** A listening app on http://localhost:PORT (SQLite, real argon2, the passkey offer off, the bot check off). */
async function startPortcullis(overrides: Record<string, unknown> = {}, port?: number): Promise<Portcullis> {
  const listenOn = port ?? (await freePort());
  const baseUrl = `http://localhost:${listenOn}`;
  const app = await createTestApp({ publicUrl: baseUrl, port: listenOn, ...overrides });
  try {
    await app.server.listen({ port: listenOn, host: '127.0.0.1' });
  } catch (error) {
    await app.dispose();
    throw error;
  }
  return { app, baseUrl };
}

interface NewDeviceFinding {
  code: string;
  fired: boolean;
  confidence: string;
  evidence: Record<string, unknown>;
}

/** The new_device finding of a risk event (every assessor reports, fired or not). */
function newDeviceFinding(event: SecurityEvent): NewDeviceFinding {
  const findings = event.details.findings;
  assert.ok(Array.isArray(findings), `${event.code} has details.findings: ${JSON.stringify(event.details)}`);
  const finding = (findings as NewDeviceFinding[]).find((f) => f.code === 'new_device');
  assert.ok(finding, `${event.code} has a new_device finding: ${JSON.stringify(findings)}`);
  return finding;
}

/** The user's security events written while `action` ran. */
async function eventsDuring(app: TestApp, userId: string, action: () => Promise<void>): Promise<SecurityEvent[]> {
  const seen = new Set((await app.store.events.list({ userId, limit: 1000 })).map((e) => e.id));
  await action();
  return (await app.store.events.list({ userId, limit: 1000 })).filter((e) => !seen.has(e.id));
}

const only = (events: SecurityEvent[], code: string): SecurityEvent[] => events.filter((e) => e.code === code);

/** Fills and submits the /login password form; resolves with the response to the POST (a 303 on success). */
async function submitPassword(page: Page, baseUrl: string, email: string): Promise<Response> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('#email').waitFor();
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  return posted;
}

/** A password sign-in at /login that must land on /account. */
async function signIn(page: Page, baseUrl: string, email: string): Promise<Response> {
  const response = await submitPassword(page, baseUrl, email);
  assert.equal(response.status(), 303, `POST /login answered ${response.status()}`);
  await page.waitForURL(`${baseUrl}/account`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
  return response;
}

async function signOut(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/account`);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
}

async function deviceCookie(browser: TestBrowser, baseUrl: string) {
  return (await browser.context.cookies(baseUrl)).find((c) => c.name === DEVICE_COOKIE);
}

describe('new-device risk assessment in Chromium (default rules)', { skip }, () => {
  let portcullis: Portcullis;
  let profileA: TestBrowser | undefined;
  let profileB: TestBrowser | undefined;
  let user: User;
  let chromeFamily: { browser: string | null; os: string | null };
  let cookieA = '';

  before(async () => {
    portcullis = await startPortcullis();
    user = await seedUser(portcullis.app, 'ada@example.test', PASSWORD);
    profileA = await launchBrowser();
  });

  after(async () => {
    await profileA?.close();
    await profileB?.close();
    await portcullis?.app.dispose();
  });

  test('first sign-in ever (profile A): the device cookie is set by the password POST, HttpOnly and SameSite=Lax; new_device stays quiet without a baseline; no email', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = profileA!;
    chromeFamily = deviceFamily(await page.evaluate(() => navigator.userAgent));
    assert.ok(chromeFamily.browser, 'ua-parser names the browser');

    let posted: Response | undefined;
    const events = await eventsDuring(app, user.id, async () => {
      posted = await signIn(page, baseUrl, user.email);
    });

    // Issued by the password POST itself (the 303 that starts the session).
    const setCookie = (await posted!.headerValue('set-cookie')) ?? '';
    assert.match(setCookie, new RegExp(`(^|\\n)${DEVICE_COOKIE}=[A-Za-z0-9_-]{22,64};`), `Set-Cookie of POST /login: ${setCookie}`);

    const cookie = await deviceCookie(profileA!, baseUrl);
    assert.ok(cookie, 'the browser holds the device cookie');
    assert.match(cookie.value, /^[A-Za-z0-9_-]{22,64}$/);
    assert.equal(cookie.httpOnly, true, 'HttpOnly');
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.secure, false, 'plain http on localhost: not Secure');
    assert.ok(cookie.expires > Date.now() / 1000 + 399 * DAY_S, `long-lived (expires ${cookie.expires})`);
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(DEVICE_COOKIE), 'page script cannot read it');
    cookieA = cookie.value;

    assert.equal(only(events, 'login_success').length, 1);
    // With no remembered device there is no baseline: the assessor stays quiet, so nothing is logged or blocked.
    assert.equal(only(events, 'risk_logged').length + only(events, 'risk_blocked').length + only(events, 'risk_mfa').length, 0, `no risk event: ${events.map((e) => e.code).join(', ')}`);

    assert.equal((await queued(app, user.email, 'new_sign_in')).length, 0, 'no new-device email on the very first sign-in');
    const devices = await app.store.devices.listForUser(user.id, 0);
    assert.equal(devices.length, 1, 'the completed login remembered the device');
  });

  test('sign out and in again with the same profile A: new_device does not fire; one remembered Chrome-on-Linux device', async () => {
    const { app, baseUrl } = portcullis;
    const { page } = profileA!;
    await signOut(page, baseUrl);
    assert.equal((await deviceCookie(profileA!, baseUrl))?.value, cookieA, 'signing out keeps the device cookie');

    let posted: Response | undefined;
    const events = await eventsDuring(app, user.id, async () => {
      posted = await signIn(page, baseUrl, user.email);
    });
    assert.ok(!((await posted!.headerValue('set-cookie')) ?? '').includes(`${DEVICE_COOKIE}=`), 'a known browser is not issued a new device cookie');
    assert.equal((await deviceCookie(profileA!, baseUrl))?.value, cookieA, 'same device cookie');

    assert.equal(only(events, 'login_success').length, 1);
    for (const event of [...only(events, 'risk_logged'), ...only(events, 'risk_mfa'), ...only(events, 'risk_blocked')]) {
      const finding = newDeviceFinding(event);
      assert.equal(finding.fired, false, `new_device fired for a known browser: ${JSON.stringify(finding)}`);
    }
    assert.equal(only(events, 'risk_logged').length, 0, 'nothing fired, so nothing is logged');

    const devices = await app.store.devices.listForUser(user.id, 0);
    assert.equal(devices.length, 1, `exactly one device: ${JSON.stringify(devices)}`);
    const [device] = devices;
    assert.ok(device!.browser, 'browser family is known');
    assert.match(device!.browser, /^(Chrome|Chromium|Chrome Headless)$/);
    assert.equal(device!.browser, chromeFamily.browser, 'what ua-parser reports for this Chromium');
    assert.equal(device!.os, 'Linux');
    assert.equal(device!.lastIp, '127.0.0.1');
    assert.ok(device!.lastSeenAt > device!.firstSeenAt, 'the second sign-in refreshed lastSeenAt');
    assert.equal((await queued(app, user.email, 'new_sign_in')).length, 0, 'a known device sends no email');
  });

  test('a fresh profile B: new_device fires (medium) and the user is emailed about the new sign-in', async () => {
    const { app, baseUrl } = portcullis;
    profileB = await launchBrowser();
    const { page } = profileB;
    assert.equal(await deviceCookie(profileB, baseUrl), undefined, 'a fresh profile has no device cookie');

    const events = await eventsDuring(app, user.id, async () => {
      await signIn(page, baseUrl, user.email);
    });
    const cookieB = await deviceCookie(profileB, baseUrl);
    assert.ok(cookieB, 'profile B got its own device cookie');
    assert.notEqual(cookieB.value, cookieA);
    assert.equal(cookieB.httpOnly, true);
    assert.equal(cookieB.sameSite, 'Lax');

    const logged = only(events, 'risk_logged');
    assert.equal(logged.length, 1, `one risk_logged: ${events.map((e) => e.code).join(', ')}`);
    const finding = newDeviceFinding(logged[0]!);
    assert.equal(finding.fired, true);
    assert.equal(finding.confidence, 'medium', 'the user has a known device, so a new one means more');
    assert.equal(finding.evidence.known_devices, 1);

    const mails = await queued(app, user.email, 'new_sign_in');
    assert.equal(mails.length, 1, 'one new-sign-in email');
    const [delivered, ...more] = (await deliveredTo(app, user.email)).filter((m) => /^New sign-in to your .* account$/.test(m.subject));
    assert.ok(delivered, 'the email is delivered to the dev mailbox');
    assert.equal(more.length, 0);
    assert.match(delivered.text, new RegExp(`${chromeFamily.browser} on Linux`));
    assert.match(delivered.text, /127\.0\.0\.1/);
    assert.equal((await app.store.devices.listForUser(user.id, 0)).length, 2, 'profile B is remembered too');

    // Last, so a failure here does not hide the checks above: the browser sent no device cookie at all.
    assert.equal(finding.evidence.reason, 'no_cookie', `a browser that sent no cookie: ${JSON.stringify(finding.evidence)}`);
  });

  test('the account page of profile A lists the devices signed in from', async () => {
    const { baseUrl } = portcullis;
    const { page } = profileA!;
    await page.goto(`${baseUrl}/account`);
    assert.equal(new URL(page.url()).pathname, '/account', 'profile A is still signed in');
    const section = page.locator('section[aria-labelledby="devices-h"]');
    await section.getByRole('heading', { name: 'Devices you have signed in from' }).waitFor();
    const rows = section.locator('tbody tr');
    assert.equal(await rows.count(), 2, 'profile A and profile B');
    const texts = await rows.allInnerTexts();
    for (const text of texts) {
      assert.ok(text.includes(`${chromeFamily.browser} on Linux`), `row names the device: ${text}`);
      assert.ok(text.includes('127.0.0.1'), `row shows the last IP: ${text}`);
    }
    // Most recently seen first: profile B signed in last. Only profile A's own row is "This device".
    assert.deepEqual(
      texts.map((t) => t.includes('This device')),
      [false, true],
      `rows: ${JSON.stringify(texts)}`,
    );
  });

  test('profile B sees the same two devices, with its own marked as this device', async () => {
    const { baseUrl } = portcullis;
    const { page } = profileB!;
    await page.goto(`${baseUrl}/account`);
    assert.equal(new URL(page.url()).pathname, '/account', 'profile B is signed in');
    const rows = page.locator('section[aria-labelledby="devices-h"] tbody tr');
    await rows.first().waitFor();
    const texts = await rows.allInnerTexts();
    assert.deepEqual(
      texts.map((t) => t.includes('This device')),
      [true, false],
      `rows: ${JSON.stringify(texts)}`,
    );
  });
});

describe('new-device risk assessment in Chromium (rule: new_device → block)', { skip }, () => {
  const BLOCK_RULES = { risk: { rules: [{ when: ['new_device'], action: 'block' }] } };
  let dataDir: string;
  let portcullis: Portcullis | undefined;
  let profileA: TestBrowser | undefined;
  let profileC: TestBrowser | undefined;
  let user: User;

  before(async () => {
    // The device is remembered under the default rules; then the operator restarts with the block rule on the same
    // database. (The first sign-in ever has no baseline, so even the block rule would let it through.)
    dataDir = mkdtempSync(join(tmpdir(), 'pc-risk-block-'));
    const first = await startPortcullis({ dataDir });
    const port = Number(new URL(first.baseUrl).port);
    try {
      user = await seedUser(first.app, 'grace@example.test', PASSWORD);
      profileA = await launchBrowser();
      await signIn(profileA.page, first.baseUrl, user.email);
      await signOut(profileA.page, first.baseUrl);
    } finally {
      await first.app.dispose();
    }
    portcullis = await startPortcullis({ dataDir, ...BLOCK_RULES }, port);
  });

  after(async () => {
    await profileA?.close();
    await profileC?.close();
    await portcullis?.app.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the known profile A signs in', async () => {
    const { app, baseUrl } = portcullis!;
    assert.deepEqual(app.config.risk.rules, BLOCK_RULES.risk.rules);
    const events = await eventsDuring(app, user.id, async () => {
      await signIn(profileA!.page, baseUrl, user.email);
    });
    assert.equal(only(events, 'risk_blocked').length, 0);
    assert.equal(only(events, 'login_success').length, 1);
    await signOut(profileA!.page, baseUrl);
  });

  test('a fresh profile C is shown the block message in an alert and stays on the login page', async () => {
    const { app, baseUrl } = portcullis!;
    profileC = await launchBrowser();
    const { page } = profileC;
    const sessionsBefore = (await app.store.sessions.listActiveForUser(user.id)).length;

    let posted: Response | undefined;
    const events = await eventsDuring(app, user.id, async () => {
      posted = await submitPassword(page, baseUrl, user.email);
    });
    assert.equal(posted!.status(), 403);
    await page.waitForLoadState('domcontentloaded');

    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    assert.equal(await alert.count(), 1, 'one visible alert');
    assert.equal((await alert.innerText()).trim(), BLOCKED_MESSAGE);
    assert.equal(await page.locator('#email').getAttribute('aria-describedby'), (await alert.getAttribute('id')) ?? '', 'the email field points at the alert');
    assert.equal(new URL(page.url()).pathname, '/login', 'still on the login page');
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    assert.equal(await page.locator('#email').inputValue(), user.email, 'the email is kept for another try');

    const cookies = await profileC.context.cookies(baseUrl);
    assert.ok(!cookies.some((c) => c.name === 'portcullis_session'), 'no session cookie');
    assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, sessionsBefore, 'no session started');

    assert.equal(only(events, 'login_success').length, 0);
    const blocked = only(events, 'risk_blocked');
    assert.equal(blocked.length, 1, `one risk_blocked: ${events.map((e) => e.code).join(', ')}`);
    assert.equal(blocked[0]!.outcome, 'failure');
    assert.deepEqual(blocked[0]!.details.matched, ['new_device → block']);
    const finding = newDeviceFinding(blocked[0]!);
    assert.equal(finding.fired, true);
    assert.equal(finding.confidence, 'medium');
    assert.equal((await app.store.devices.listForUser(user.id, 0)).length, 1, 'a blocked browser is not remembered');
    assert.equal((await queued(app, user.email, 'new_sign_in')).length, 0, 'no new-sign-in email for a blocked attempt');
  });

  test('profile A can still sign in afterwards', async () => {
    const { app, baseUrl } = portcullis!;
    const events = await eventsDuring(app, user.id, async () => {
      await signIn(profileA!.page, baseUrl, user.email);
    });
    assert.equal(only(events, 'risk_blocked').length, 0);
    assert.equal(only(events, 'login_success').length, 1);
    assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 1);
  });
});
