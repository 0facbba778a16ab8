// The browser session SDK against a REAL, listening Portcullis (not the contract fixture of session-sdk.browser.test.ts):
// sign in through /login in Chromium, land on /account (which embeds <portcullis-session-timer> and loads
// /sdk/session.js under the server's strict CSP), then move the server's injected clock and Playwright's browser clock
// together and watch the notices, the final dialog, "Stay signed in", "Sign in again" and the logout at zero.
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Request, Response } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { seedUser } from '../helpers/account-browser.js';
import type { Clock } from '../../src/domain/clock.js';
import type { Session, User } from '../../src/domain/types.js';

const skip = browserSkipReason();
const PASSWORD = 'correct horse battery staple 42';
const EMAIL = 'ada@example.test';
const SESSION_COOKIE = 'portcullis_session';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// Reports CSP violations through console.error (so they survive navigations in the 'console' listener) and records
// the SDK's events. An init script is injected by the driver, so the page's CSP does not apply to it.
const INIT_SCRIPT = `
document.addEventListener('securitypolicyviolation', (event) => {
  console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
});
window.__events = [];
for (const type of ['notice', 'final', 'extended', 'expired']) {
  document.addEventListener('portcullis-session:' + type, (event) => window.__events.push({ type, detail: event.detail }));
}`;

/** The server's clock: only the test moves it, always together with the browser's. */
class SettableClock implements Clock {
  constructor(public current: number) {}
  now(): number {
    return this.current;
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface StatusRequest {
  method: string;
  at: number; // server clock when sent
  page: Page | null;
}

interface Portcullis {
  app: TestApp;
  baseUrl: string;
  clock: SettableClock;
  /** Server and browser time at sign-in (a whole second unless a phase is asked for, so server seconds and browser milliseconds agree). */
  t0: number;
  browser: TestBrowser;
  user: User;
  consoleErrors: string[];
  pageErrors: string[];
  statusRequests: StatusRequest[];
  statusResponses: Response[];
  pending: Set<Request>;
  close(): Promise<void>;
}

interface UiView {
  url: string;
  phase: string | null;
  toast: string | null;
  dialog: null | { title: string; text: string; countdown: string; button: string };
  focus: string | null;
  events: { type: string; detail: Record<string, unknown> }[];
  expiresAt: number | null;
  endsBy: string | null;
  offset: number | null;
}

/** What the user sees, from the element's shadow root. (No named functions inside: tsx would wrap them in `__name`.) */
async function readUi(page: Page): Promise<UiView> {
  return page.evaluate(() => {
    const host = document.querySelector('portcullis-session-timer') as
      | (HTMLElement & { state: { phase: string; expiresAt: number | null; endsBy: string | null; offset: number } | null })
      | null;
    const root = host?.shadowRoot;
    if (!host || !root) throw new Error(`no <portcullis-session-timer> with a shadow root on ${location.href}`);
    const toast = root.querySelector('[part~=toast]') as HTMLElement;
    const dialog = root.querySelector('dialog') as HTMLDialogElement;
    return {
      url: location.href,
      phase: host.state?.phase ?? null,
      toast: toast.hidden ? null : (root.querySelector('[part~=toast-text]')?.textContent ?? ''),
      dialog: dialog.open
        ? {
            title: root.getElementById(dialog.getAttribute('aria-labelledby') ?? '')?.textContent ?? '',
            text: root.getElementById(dialog.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
            countdown: root.querySelector('[part~=countdown]')?.textContent ?? '',
            button: root.querySelector('[part~=stay]')?.textContent ?? '',
          }
        : null,
      focus: document.activeElement === host ? (root.activeElement?.getAttribute('part') ?? null) : (document.activeElement?.id || document.activeElement?.tagName || null),
      events: (window as unknown as { __events: UiView['events'] }).__events,
      expiresAt: host.state?.expiresAt ?? null,
      endsBy: host.state?.endsBy ?? null,
      offset: host.state?.offset ?? null,
    };
  });
}

/** Polls until `ok` (bounded). */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

/** Where the SDK sends the page at the end: logout-url with next=<login-url as an absolute URL>. */
function endedUrl(baseUrl: string): string {
  const url = new URL('/session/ended', baseUrl);
  url.searchParams.set('next', new URL('/login?next=/account', baseUrl).href);
  return url.href;
}

describe('session SDK in Chromium against a real Portcullis (/account, /session/status, /session/ended)', { skip }, () => {
  let current: Portcullis | undefined;

  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  after(async () => {
    await current?.close();
  });

  /**
   * A listening Portcullis with the given session limits and an injected clock, a fresh Chromium profile whose clock is
   * installed and paused at the same time, and a signed-in user on /account in the first tab.
   */
  async function start(limits: { idle: string; absolute: string; phaseMs?: number }): Promise<{ p: Portcullis; page: Page }> {
    await current?.close();
    current = undefined;
    const t0 = Math.ceil(Date.now() / SECOND) * SECOND + SECOND + (limits.phaseMs ?? 0);
    const clock = new SettableClock(t0);
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const app = await createTestApp({ publicUrl: baseUrl, port, sessionIdleTimeout: limits.idle, sessionAbsoluteTimeout: limits.absolute }, { clock });
    let browser: TestBrowser | undefined;
    const close = async (): Promise<void> => {
      try {
        await browser?.close();
      } finally {
        await app.dispose();
      }
    };
    try {
      await app.server.listen({ port, host: '127.0.0.1' });
      const user = await seedUser(app, EMAIL, PASSWORD);
      browser = await launchBrowser();
      const p: Portcullis = {
        app,
        baseUrl,
        clock,
        t0,
        browser,
        user,
        consoleErrors: [],
        pageErrors: [],
        statusRequests: [],
        statusResponses: [],
        pending: new Set(),
        close,
      };
      current = p;
      const { context } = browser;
      await context.addInitScript(INIT_SCRIPT);
      const watch = (page: Page): void => {
        page.on('console', (message) => {
          if (message.type() !== 'error' && message.type() !== 'warning') return;
          const where = message.location().url || page.url();
          // Chromium's own favicon probe (no page asks for it; Portcullis serves none) is not the page's error.
          if (new URL(where).pathname === '/favicon.ico') return;
          p.consoleErrors.push(`${message.type()}: ${message.text()} (${where})`);
        });
        page.on('pageerror', (error) => p.pageErrors.push(`${String(error)} (${page.url()})`));
      };
      watch(browser.page);
      context.on('page', watch);
      context.on('request', (request) => {
        p.pending.add(request);
        if (new URL(request.url()).pathname === '/session/status') p.statusRequests.push({ method: request.method(), at: clock.now(), page: request.frame().page() });
      });
      context.on('requestfinished', (request) => p.pending.delete(request));
      context.on('requestfailed', (request) => p.pending.delete(request));
      context.on('response', (response) => {
        if (new URL(response.url()).pathname === '/session/status') p.statusResponses.push(response);
      });
      await context.clock.install({ time: t0 - 10 * SECOND });
      await context.clock.pauseAt(t0);

      const page = browser.page;
      await page.goto(`${baseUrl}/login`);
      await page.locator('#email').waitFor();
      await page.fill('#email', EMAIL);
      await page.fill('#password', PASSWORD);
      const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const response = await posted;
      assert.equal(response.status(), 303, `POST /login answered ${response.status()}`);
      await page.waitForURL(`${baseUrl}/account`);
      await until(() => readUi(page), (ui) => ui.phase !== null && ui.phase !== 'loading', 'the first status on /account');
      await settle();
      return { p, page };
    } catch (error) {
      if (!current) await close();
      throw error;
    }
  }

  /** Lets the requests the pages started finish (loopback; the paused clock fires no timers meanwhile). Bounded. */
  async function settle(): Promise<void> {
    const p = current!;
    const deadline = Date.now() + 5000;
    let quiet = 0;
    while (quiet < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      quiet = p.pending.size === 0 ? quiet + 1 : 0;
    }
  }

  /** Moves the server's clock, then the browser's, by `ms` (due browser timers fire once, at the new time). */
  async function advance(ms: number): Promise<void> {
    const p = current!;
    p.clock.current += ms;
    await p.browser.context.clock.fastForward(ms);
    await settle();
  }

  /** Both clocks to `elapsed` after sign-in. */
  async function advanceTo(elapsed: number): Promise<void> {
    const p = current!;
    const ms = p.t0 + elapsed - p.clock.current;
    assert.ok(ms >= 0, 'time only moves forward');
    await advance(ms);
  }

  /** The signed-in user's one session, read from the store. */
  async function theSession(): Promise<Session> {
    const p = current!;
    const sessions = await p.app.store.sessions.listActiveForUser(p.user.id);
    assert.equal(sessions.length, 1, `one session: ${JSON.stringify(sessions)}`);
    return sessions[0]!;
  }

  /** The browser's Portcullis session cookie, if it has one. */
  async function sessionCookie(): Promise<string | undefined> {
    const p = current!;
    return (await p.browser.context.cookies(p.baseUrl)).find((c) => c.name === SESSION_COOKIE)?.value;
  }

  /** GET /session/status with the browser's cookie (or `cookie`), through the server only (the SDK does not see it). */
  async function serverStatus(cookie?: string): Promise<Record<string, unknown>> {
    const value = cookie ?? (await sessionCookie());
    assert.ok(value, 'the browser holds the session cookie');
    const response = await current!.app.server.inject({ method: 'GET', url: '/session/status', cookies: { [SESSION_COOKIE]: value } });
    assert.equal(response.statusCode, 200);
    return response.json() as Record<string, unknown>;
  }

  const secondsOf = (ms: number): number => Math.floor(ms / SECOND);
  const posts = (): StatusRequest[] => current!.statusRequests.filter((r) => r.method === 'POST');

  function noErrors(): void {
    const p = current!;
    assert.deepEqual(p.pageErrors, [], 'no uncaught errors or unhandled rejections');
    assert.deepEqual(p.consoleErrors, [], 'no console errors or warnings (CSP violations included)');
  }

  test('signed in through /login, /account runs the SDK under the strict CSP: it GETs /session/status (active), no console error, no CSP violation', async () => {
    const { p, page } = await start({ idle: '6m', absolute: '8h' });
    assert.equal(await page.evaluate(() => Date.now()), p.clock.now(), 'browser and server clocks agree');

    // The page: the element with its fixed attributes, the module from /sdk/session.js, and a strict CSP header.
    const host = page.locator('portcullis-session-timer');
    assert.equal(await host.count(), 1);
    assert.deepEqual(
      await host.evaluate((el) => ({ status: el.getAttribute('status-url'), logout: el.getAttribute('logout-url'), login: el.getAttribute('login-url') })),
      { status: '/session/status', logout: '/session/ended', login: '/login?next=/account' },
    );
    assert.equal(await page.locator('script[type=module][src="/sdk/session.js"]').count(), 1);
    const accountDocument = await page.request.get(`${p.baseUrl}/account`, { maxRedirects: 0 });
    assert.equal(accountDocument.status(), 200);
    const csp = accountDocument.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/, `strict script-src: ${csp}`);
    assert.match(csp, /style-src 'self'(;|$)/, `strict style-src: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(await host.evaluate((el) => el.shadowRoot?.adoptedStyleSheets.length ?? 0), 1, 'styled with a constructable stylesheet');

    // The SDK fetched the status (GET) and took it: active, idle-bound, times from the server's clock.
    const gets = p.statusRequests.filter((r) => r.method === 'GET');
    assert.ok(gets.length >= 1, 'the SDK GETs /session/status');
    assert.equal(posts().length, 0, 'loading the page reports no activity by itself');
    const first = p.statusResponses[0];
    assert.ok(first);
    assert.equal(first.status(), 200);
    assert.deepEqual(await first.json(), {
      active: true,
      server_time: secondsOf(p.t0),
      idle_expires_at: secondsOf(p.t0 + 6 * MINUTE),
      absolute_expires_at: secondsOf(p.t0 + 8 * HOUR),
      expires_at: secondsOf(p.t0 + 6 * MINUTE),
      ends_by: 'idle',
    });
    let ui = await readUi(page);
    assert.equal(ui.phase, 'active');
    assert.equal(ui.toast, null);
    assert.equal(ui.dialog, null);
    assert.equal(ui.expiresAt, p.t0 + 6 * MINUTE);
    assert.equal(ui.endsBy, 'idle');
    assert.equal(ui.offset, 0, 'the clocks move together: no offset');

    // Some quiet time (short of the 5 min notice, due 1 min after sign-in): polling only GETs, the server session is
    // not extended, nothing is logged as an error.
    const lastSeen = (await theSession()).lastSeenAt;
    for (let i = 0; i < 3; i++) await advance(15 * SECOND);
    ui = await readUi(page);
    assert.equal(ui.phase, 'active');
    assert.equal(posts().length, 0);
    assert.equal((await theSession()).lastSeenAt, lastSeen, 'GET /session/status never extends the session');
    noErrors();

    // Control: the violation listener does report a violation (so the empty list above means something).
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.head.append(script);
    });
    await until(async () => p.consoleErrors.length, (n) => n > 0, 'the control CSP violation to be reported', 3000);
    assert.ok(p.consoleErrors.some((e) => e.includes('script-src')), p.consoleErrors.join('\n'));
    assert.equal(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline), undefined, 'the inline script was blocked');
  });

  for (const bound of ['idle', 'absolute'] as const) {
    test(`the 4 h notice appears 4 hours before the end (${bound}-bound 5 h session)`, async () => {
      const limits = bound === 'idle' ? { idle: '5h', absolute: '7d' } : { idle: '8h', absolute: '5h' };
      const { p, page } = await start(limits);
      let ui = await readUi(page);
      assert.equal(ui.endsBy, bound);
      assert.equal(ui.expiresAt, p.t0 + 5 * HOUR);
      assert.equal(ui.toast, null);

      const getsBefore = p.statusRequests.length;
      await advanceTo(HOUR - 2 * SECOND);
      ui = await readUi(page);
      assert.equal(ui.toast, null, 'no notice 4 h + 2 s before the end');
      assert.ok(p.statusRequests.length > getsBefore, 'the status was re-fetched from the server meanwhile');
      await advance(3 * SECOND);
      ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 4 h notice');
      assert.equal(ui.toast, 'Your session ends in 4 hours.');
      assert.deepEqual(ui.events.filter((e) => e.type === 'notice').map((e) => e.detail.threshold), [4 * HOUR]);
      assert.equal(posts().length, 0);
      assert.deepEqual(await serverStatus(), {
        active: true,
        server_time: secondsOf(p.t0 + HOUR + SECOND),
        idle_expires_at: secondsOf(p.t0 + 5 * HOUR), // idle-bound: 5 h idle; absolute-bound: 8 h idle capped at the absolute end
        absolute_expires_at: secondsOf(p.t0 + (bound === 'idle' ? 7 * 24 * HOUR : 5 * HOUR)),
        expires_at: secondsOf(p.t0 + 5 * HOUR),
        ends_by: bound,
      });
      noErrors();
    });
  }

  test('the 5 min notice and the final countdown dialog appear at their time (idle 6 min, absolute 8 h)', async () => {
    const { p, page } = await start({ idle: '6m', absolute: '8h' });
    await advanceTo(MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).toast, null, 'no notice 5 min + 2 s before the end');
    await advance(3 * SECOND);
    let ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 5 min notice');
    assert.equal(ui.toast, 'Your session ends in 5 minutes.');
    assert.deepEqual(ui.events.filter((e) => e.type === 'notice').map((e) => e.detail.threshold), [5 * MINUTE]);

    await advanceTo(5 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).dialog, null, 'no final dialog 62 s before the end');
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.toast, null, 'the dialog replaces the notice');
    assert.deepEqual(ui.dialog, {
      title: 'Your session is about to end',
      text: 'You will be signed out in 59 seconds. Do you want to stay signed in?',
      countdown: '0:59',
      button: 'Stay signed in',
    });
    assert.equal(ui.focus, 'button stay', 'focus moves into the dialog');
    await advance(SECOND);
    assert.equal((await readUi(page)).dialog?.countdown, '0:58', 'the countdown follows the clock');
    assert.equal(posts().length, 0, 'nothing was POSTed without user input');
    assert.equal((await theSession()).lastSeenAt, p.t0, 'the server session was not extended');
    assert.equal(page.url(), `${p.baseUrl}/account`);
    noErrors();
  });

  test('the final dialog cannot be dismissed: Escape and clicks outside (even on a page button) do nothing', async () => {
    const { p, page } = await start({ idle: '6m', absolute: '8h' });
    await advanceTo(5 * MINUTE + SECOND);
    await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    // A button of the account page that is on screen, under the dialog's backdrop.
    const target = await page.evaluate(() => {
      const button = Array.from(document.querySelectorAll('main button')).find((b) => {
        const r = b.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
      });
      if (!button) return null;
      const r = button.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2, label: button.textContent };
    });
    assert.ok(target, 'the account page has a visible button under the backdrop');

    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.mouse.click(5, 5); // the backdrop
    await page.mouse.click(target.x, target.y); // a page button under the backdrop
    await page.keyboard.press('Escape');
    await settle();
    const ui = await readUi(page);
    assert.ok(ui.dialog, `still open after Escape and clicks outside (clicked "${target.label}")`);
    assert.equal(ui.focus, 'button stay', 'focus stayed on the dialog button');
    assert.equal(ui.url, `${p.baseUrl}/account`, 'the page behind the dialog did not act on the click');
    assert.equal(posts().length, 0, 'input while the dialog is open does not report activity');
    assert.equal((await theSession()).lastSeenAt, p.t0, 'nor extend the session on the server');
    await advance(SECOND);
    assert.equal((await readUi(page)).dialog?.countdown, '0:58', 'still counting down');
    noErrors();
  });

  test('"Stay signed in" extends an idle-bound session: the dialog closes and the server moved lastSeenAt and idle_expires_at', async () => {
    const { p, page } = await start({ idle: '6m', absolute: '8h' });
    await advanceTo(5 * MINUTE + SECOND);
    let ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.dialog?.button, 'Stay signed in');
    const before = await serverStatus();
    assert.equal(before.idle_expires_at, secondsOf(p.t0 + 6 * MINUTE));

    await page.locator('portcullis-session-timer [part~=stay]').click();
    ui = await until(() => readUi(page), (u) => u.dialog === null, 'the dialog to close');
    await settle();
    const sent = posts();
    assert.equal(sent.length, 1, 'one activity POST');
    assert.equal(sent[0]?.at, p.t0 + 5 * MINUTE + SECOND);
    const session = await theSession();
    assert.equal(session.lastSeenAt, p.t0 + 5 * MINUTE + SECOND, 'the server recorded the activity');
    const after = await serverStatus();
    assert.equal(after.idle_expires_at, secondsOf(p.t0 + 11 * MINUTE + SECOND), 'idle_expires_at moved later');
    assert.equal(after.expires_at, after.idle_expires_at);
    assert.equal(after.ends_by, 'idle');
    assert.equal(ui.expiresAt, p.t0 + 11 * MINUTE + SECOND, 'the SDK took the new end');
    assert.equal(ui.phase, 'active');
    const extended = ui.events.filter((e) => e.type === 'extended');
    assert.equal(extended.length, 1);
    assert.equal(extended[0]?.detail.previousExpiresAt, p.t0 + 6 * MINUTE);

    // Past the old end the user is still signed in.
    await advanceTo(6 * MINUTE + 10 * SECOND);
    ui = await readUi(page);
    assert.equal(ui.dialog, null);
    assert.equal(ui.url, `${p.baseUrl}/account`);
    assert.equal((await serverStatus()).active, true);
    noErrors();
  });

  test('absolute-bound session: the button says a new login is needed and leads to /session/ended, which offers "Sign out and sign in again"', async () => {
    const { p, page } = await start({ idle: '10m', absolute: '7m' });
    assert.equal((await readUi(page)).endsBy, 'absolute');
    const cookie = await sessionCookie();
    await advanceTo(6 * MINUTE + SECOND);
    const ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.deepEqual(ui.dialog, {
      title: 'Your session is about to end',
      text: 'You will be signed out in 59 seconds. For your security, you need to sign in again.',
      countdown: '0:59',
      button: 'Sign in again',
    });

    await page.locator('portcullis-session-timer [part~=stay]').click();
    await page.waitForURL(endedUrl(p.baseUrl));
    assert.equal(posts().length, 0, 'no activity POST: it could not help');
    // The session is still active (59 s left), so the page offers to end it now rather than claiming it ended.
    await page.getByRole('heading', { name: 'Sign in again', level: 1 }).waitFor();
    const signOut = page.getByRole('button', { name: 'Sign out and sign in again', exact: true });
    await signOut.waitFor();
    assert.equal((await theSession()).revokedAt, null, 'a GET of /session/ended ends nothing');
    assert.equal(await page.locator('portcullis-session-timer').count(), 0, 'no timer on the exit page');

    await signOut.click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    assert.deepEqual(await p.app.store.sessions.listActiveForUser(p.user.id), [], 'signed out');
    assert.equal(await sessionCookie(), undefined, 'the session cookie is gone');
    assert.deepEqual(await serverStatus(cookie), { active: false, server_time: secondsOf(p.t0 + 6 * MINUTE + SECOND), reason: 'logged_out' });
    await page.goto(`${p.baseUrl}/account`);
    assert.equal(page.url(), `${p.baseUrl}/login?next=/account`);
    noErrors();
  });

  test('two tabs stay in sync: "Stay signed in" in one closes the dialog in the other', async () => {
    const { p, page: one } = await start({ idle: '6m', absolute: '8h' });
    const two = await p.browser.context.newPage();
    await two.goto(`${p.baseUrl}/account`);
    await until(() => readUi(two), (u) => u.phase === 'active', 'the second tab');
    await settle();
    await advanceTo(5 * MINUTE + SECOND);
    await until(() => readUi(one), (u) => u.dialog?.button === 'Stay signed in', 'the dialog in tab one');
    await until(() => readUi(two), (u) => u.dialog?.button === 'Stay signed in', 'the dialog in tab two');
    const requestsBefore = p.statusRequests.length;

    await one.locator('portcullis-session-timer [part~=stay]').click();
    await until(() => readUi(one), (u) => u.dialog === null, 'the dialog in tab one to close');
    const ui = await until(() => readUi(two), (u) => u.dialog === null, 'the dialog in tab two to close');
    await settle();
    const since = p.statusRequests.slice(requestsBefore);
    assert.deepEqual(since.filter((r) => r.method === 'POST').map((r) => r.page === one), [true], 'one POST, from tab one');
    assert.deepEqual(since.filter((r) => r.page === two), [], 'tab two learnt it over the channel, not from a request');
    assert.equal((await theSession()).lastSeenAt, p.t0 + 5 * MINUTE + SECOND);
    assert.equal(ui.expiresAt, p.t0 + 11 * MINUTE + SECOND, 'tab two has the new end');
    assert.equal(ui.events.filter((e) => e.type === 'extended').length, 1);
    await advanceTo(6 * MINUTE + 10 * SECOND);
    assert.equal(one.url(), `${p.baseUrl}/account`);
    assert.equal(two.url(), `${p.baseUrl}/account`);
    noErrors();
  });

  test('at zero the user is logged out: the page goes to /session/ended, which says the session ended, and /account then redirects to /login', async () => {
    const { p, page } = await start({ idle: '6m', absolute: '8h' });
    const cookie = await sessionCookie();
    await advanceTo(5 * MINUTE + SECOND);
    await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    await advanceTo(6 * MINUTE - SECOND);
    assert.equal((await readUi(page)).dialog?.countdown, '0:01');
    assert.equal(page.url(), `${p.baseUrl}/account`);

    await advance(SECOND);
    await page.waitForURL(endedUrl(p.baseUrl));
    await page.getByRole('heading', { name: 'Your session has ended', level: 1 }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /you were signed out/);
    assert.equal(await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href'), '/login?next=/account');
    assert.equal(await page.getByRole('button', { name: 'Sign out and sign in again' }).count(), 0);
    assert.equal(posts().length, 0);
    assert.deepEqual(await serverStatus(cookie), { active: false, server_time: secondsOf(p.t0 + 6 * MINUTE), reason: 'expired_idle' });
    assert.equal(await sessionCookie(), undefined, '/session/ended cleared the cookie');

    await page.goto(`${p.baseUrl}/account`);
    assert.equal(page.url(), `${p.baseUrl}/login?next=/account`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    noErrors();
  });

  // Regression test for a rounding bug (fails until fixed): /session/status floors server_time AND the expiry times to
  // whole seconds, so when the latest status was fetched at a smaller fraction of a second than the session's
  // lastSeenAt, the SDK's zero comes up to ~1 s BEFORE the server's end. The browser then reaches /session/ended while
  // peek() still finds the session active: it is offered "Sign out and sign in again" instead of being told the session
  // ended, its cookie is kept, and loading /account in that window counts as activity and extends the session.
  test('at zero the user is logged out even when the session started mid-second and the last status came at another fraction of a second', async () => {
    // Signed in at .800 of a second: lastSeenAt = t0, the server's idle end is t0 + 6 min exactly.
    const { p, page } = await start({ idle: '6m', absolute: '8h', phaseMs: 800 });
    const cookie = await sessionCookie();
    const { id } = await theSession();
    await advanceTo(5 * MINUTE + SECOND);
    await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    // The user comes back to the tab during the countdown, at .100 of a second: the SDK re-fetches the status.
    await advance(300);
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await settle();
    const ui = await readUi(page);
    assert.equal(ui.offset, -100, 'server_time was floored: the SDK takes the server clock to be 100 ms behind');
    assert.ok(ui.dialog, 'still counting down');

    // Both clocks in 100 ms steps until the SDK leaves /account (bounded: at most 3 s past the server's end).
    await advanceTo(6 * MINUTE - 2 * SECOND);
    while (new URL(page.url()).pathname === '/account' && p.clock.current < p.t0 + 6 * MINUTE + 3 * SECOND) await advance(100);
    await page.waitForURL(endedUrl(p.baseUrl));
    const leftAt = p.clock.current - p.t0;
    const seen = {
      heading: await page.locator('main h1').textContent(),
      statusThen: (await serverStatus(cookie)).active,
      cookieKept: (await sessionCookie()) !== undefined,
    };
    await page.goto(`${p.baseUrl}/account`);
    const after = {
      ...seen,
      accountLandsOn: new URL(page.url()).pathname,
      sessionExtended: ((await p.app.store.sessions.findById(id))?.lastSeenAt ?? p.t0) > p.t0,
    };
    assert.deepEqual(
      after,
      { heading: 'Your session has ended', statusThen: false, cookieKept: false, accountLandsOn: '/login', sessionExtended: false },
      `the SDK left /account at t0 + ${leftAt} ms; the server's end is t0 + ${6 * MINUTE} ms`,
    );
    noErrors();
  });
});
