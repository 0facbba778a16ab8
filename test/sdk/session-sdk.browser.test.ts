// The browser session SDK (packages/session-sdk/session.js) in real Chromium, with Playwright's clock driving the
// browser's time and a loopback CONTRACT FIXTURE standing in for Portcullis' /session/status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';

const skip = browserSkipReason();
const SDK_SOURCE = readFileSync(new URL('../../packages/session-sdk/session.js', import.meta.url), 'utf8');
// The app's CSP: no inline script or style, so the SDK must work with constructable stylesheets and textContent.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'";
// Browser time at page load: a whole second, so server seconds and browser milliseconds line up exactly.
const T0 = Date.UTC(2030, 0, 15, 9, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * CONTRACT FIXTURE, not Portcullis: a minimal in-memory implementation of the /session/status contract the SDK codes
 * against (the real endpoint is written separately). One session with an idle and an absolute limit; its clock is set
 * by the test (serverNow), so it moves in step with Playwright's clock in the browser, optionally skewed.
 * GET reports and never extends; POST with `X-Portcullis-Activity: 1` records activity (idle limit moves, capped by the
 * absolute one). Unlike the real server it does not throttle its writes to once a minute.
 */
class StatusFixture {
  serverNow = 0;
  createdAt = 0;
  lastActivity = 0;
  idleMs = 0;
  absoluteMs = 0;
  loggedOut = false;
  failStatus = false;
  gets = 0;
  posts: { header: string | undefined; at: number }[] = [];
  logoutHits: string[] = [];
  pending = 0;
  attrs = '';

  reset(limits: { idle: number; absolute: number; skew?: number; attrs?: string }): void {
    this.serverNow = T0 + (limits.skew ?? 0);
    this.createdAt = this.serverNow;
    this.lastActivity = this.serverNow;
    this.idleMs = limits.idle;
    this.absoluteMs = limits.absolute;
    this.loggedOut = false;
    this.failStatus = false;
    this.gets = 0;
    this.posts = [];
    this.logoutHits = [];
    this.attrs = limits.attrs ?? '';
  }

  status(): Record<string, unknown> {
    const sec = (ms: number): number => Math.floor(ms / 1000);
    const serverTime = sec(this.serverNow);
    const idle = sec(this.lastActivity + this.idleMs);
    const absolute = sec(this.createdAt + this.absoluteMs);
    if (this.loggedOut) return { active: false, server_time: serverTime, reason: 'logged_out' };
    if (serverTime >= Math.min(idle, absolute)) {
      return { active: false, server_time: serverTime, reason: idle <= absolute ? 'expired_idle' : 'expired_absolute' };
    }
    return {
      active: true,
      server_time: serverTime,
      idle_expires_at: idle,
      absolute_expires_at: absolute,
      expires_at: Math.min(idle, absolute),
      ends_by: idle < absolute ? 'idle' : 'absolute',
    };
  }

  /** Seconds left in the fixture's session (its own view). */
  get expiresAt(): number {
    const status = this.status();
    return typeof status.expires_at === 'number' ? status.expires_at * 1000 : 0;
  }
}

const appPage = (attrs: string): string => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App</title>
<link rel="stylesheet" href="/page.css"><script type="module" src="/events.js"></script><script type="module" src="/session.js"></script></head>
<body><h1>Some app</h1><button id="page-button" type="button">Page button</button><div class="tall"></div>
<portcullis-session-timer ${attrs}></portcullis-session-timer></body></html>`;

// Records the SDK's events and clicks on the page's own button (no inline script under the CSP).
const EVENTS_JS = `window.__events = [];
for (const type of ['notice', 'final', 'extended', 'expired']) {
  document.addEventListener('portcullis-session:' + type, (event) => window.__events.push({ type, detail: event.detail }));
}
window.__pageClicks = 0;
document.addEventListener('DOMContentLoaded', () => document.getElementById('page-button').addEventListener('click', () => window.__pageClicks++));`;

interface UiView {
  phase: string | null;
  toast: string | null;
  announced: string;
  dialog: null | { title: string; text: string; countdown: string; button: string; live: string; role: string | null; modal: string | null; labelledBy: string; describedBy: string };
  focus: string | null;
  events: { type: string; detail: Record<string, unknown> }[];
  expiresAt: number | null;
  offset: number | null;
  pageClicks: number;
}

/**
 * Reads what the user sees (and what a screen reader is told) from the element's shadow root.
 * (No named functions inside: tsx would wrap them in a `__name` helper that does not exist in the page.)
 */
async function readUi(page: Page): Promise<UiView> {
  return page.evaluate(() => {
    const host = document.querySelector('portcullis-session-timer') as (HTMLElement & { state: { phase: string; expiresAt: number | null; offset: number } | null }) | null;
    const root = host?.shadowRoot;
    const w = window as unknown as { __events: UiView['events']; __pageClicks: number };
    if (!host || !root) throw new Error('no <portcullis-session-timer> with a shadow root');
    const toast = root.querySelector('[part~=toast]') as HTMLElement;
    const dialog = root.querySelector('dialog') as HTMLDialogElement;
    const labelledBy = dialog.getAttribute('aria-labelledby') ?? '';
    const describedBy = dialog.getAttribute('aria-describedby') ?? '';
    return {
      phase: host.state?.phase ?? null,
      toast: toast.hidden ? null : (root.querySelector('[part~=toast-text]')?.textContent ?? ''),
      announced: root.querySelector('[role=status]')?.textContent ?? '',
      dialog: dialog.open
        ? {
            title: root.getElementById(labelledBy)?.textContent ?? '',
            text: root.getElementById(describedBy)?.textContent ?? '',
            countdown: root.querySelector('[part~=countdown]')?.textContent ?? '',
            button: root.querySelector('[part~=stay]')?.textContent ?? '',
            live: root.querySelector('dialog [aria-live]')?.textContent ?? '',
            role: dialog.getAttribute('role'),
            modal: dialog.getAttribute('aria-modal'),
            labelledBy,
            describedBy,
          }
        : null,
      focus: document.activeElement === host ? (root.activeElement?.getAttribute('part') ?? null) : (document.activeElement?.id || document.activeElement?.tagName || null),
      events: w.__events,
      expiresAt: host.state?.expiresAt ?? null,
      offset: host.state?.offset ?? null,
      pageClicks: w.__pageClicks,
    };
  });
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

describe('session SDK in Chromium (contract fixture for /session/status, Playwright clock)', { skip }, () => {
  const fixture = new StatusFixture();
  let server: Server;
  let base: string;
  let browser: TestBrowser | undefined;
  let pageErrors: string[] = [];

  function route(request: IncomingMessage, reply: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string): void => {
      reply.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store' });
      reply.end(body);
    };
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /session.js') return send(200, 'text/javascript', SDK_SOURCE);
    if (route === 'GET /events.js') return send(200, 'text/javascript', EVENTS_JS);
    if (route === 'GET /page.css') return send(200, 'text/css', '.tall { height: 4000px; }');
    if (route === 'GET /app') return send(200, 'text/html', appPage(fixture.attrs));
    if (route === 'GET /login') return send(200, 'text/html', '<!doctype html><title>Sign in</title><h1>Sign in</h1>');
    if (route === 'GET /logout') {
      fixture.logoutHits.push(url.search);
      fixture.loggedOut = true;
      return send(200, 'text/html', '<!doctype html><title>Signed out</title><h1>Signed out</h1>');
    }
    if (url.pathname === '/session/status') {
      if (request.method === 'GET') fixture.gets += 1;
      else if (request.method === 'POST') {
        const header = request.headers['x-portcullis-activity'];
        fixture.posts.push({ header: Array.isArray(header) ? header.join(',') : header, at: fixture.serverNow });
        if (header !== '1') return send(400, 'application/json', '{"error":"activity header required"}');
        if (fixture.status().active) fixture.lastActivity = fixture.serverNow;
      } else return send(405, 'text/plain', 'method not allowed');
      if (fixture.failStatus) return send(503, 'application/json', '{"error":"unavailable"}');
      return send(200, 'application/json', JSON.stringify(fixture.status()));
    }
    send(404, 'text/plain', 'not found');
  }

  before(async () => {
    server = createServer((request, reply) => {
      fixture.pending += 1;
      reply.on('close', () => (fixture.pending -= 1));
      route(request, reply);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const ATTRS = (extra = ''): string => `issuer="${base}" logout-url="/logout" login-url="/login" ${extra}`;

  /** A fresh Chromium profile with a paused clock at T0 and the app page loaded in `count` tabs. */
  async function open(limits: { idle: number; absolute: number; skew?: number; attrs?: string }, count = 1): Promise<Page[]> {
    await browser?.close();
    fixture.reset({ ...limits, attrs: limits.attrs ?? ATTRS() });
    browser = await launchBrowser();
    pageErrors = [];
    await browser.context.clock.install({ time: T0 - 10 * SECOND });
    await browser.context.clock.pauseAt(T0);
    const pages = [browser.page];
    while (pages.length < count) pages.push(await browser.context.newPage());
    for (const page of pages) {
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(`${base}/app`);
      await until(() => readUi(page), (ui) => ui.phase !== 'loading' && ui.phase !== null, 'the first status');
    }
    return pages;
  }

  /** Lets requests the page started finish (loopback; the paused clock fires no timers meanwhile). */
  async function settle(): Promise<void> {
    let quiet = 0;
    while (quiet < 4) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      quiet = fixture.pending === 0 ? quiet + 1 : 0;
    }
  }

  /** Moves both clocks forward like a sleeping laptop would: due timers fire once, at the new time. */
  async function advance(ms: number): Promise<void> {
    assert.ok(browser);
    fixture.serverNow += ms;
    await browser.context.clock.fastForward(ms);
    await settle();
  }

  /** Advances both clocks to `elapsed` after T0. */
  async function advanceTo(elapsed: number): Promise<void> {
    const now = await browser!.page.evaluate(() => Date.now());
    assert.ok(T0 + elapsed >= now, 'time only moves forward');
    await advance(T0 + elapsed - now);
  }

  const noPageErrors = (): void => assert.deepEqual(pageErrors, [], 'no uncaught errors or unhandled rejections');

  test('absolute-bound session: the 4 h and 5 min notices and the final dialog each appear at their time', async () => {
    const [page] = (await open({ idle: 8 * HOUR, absolute: 7 * HOUR })) as [Page];
    let ui = await readUi(page);
    assert.equal(ui.phase, 'active');
    assert.equal(ui.toast, null);

    await advanceTo(3 * HOUR - 2 * SECOND);
    assert.equal((await readUi(page)).toast, null, 'no notice 4 h + 2 s before the end');
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 4 h notice');
    assert.equal(ui.toast, 'Your session ends in 4 hours.');
    assert.equal(ui.announced, 'Your session ends in 4 hours.', 'told to screen readers through role=status');
    assert.deepEqual(ui.events.filter((e) => e.type === 'notice').map((e) => e.detail.threshold), [4 * HOUR]);
    const looks = await page.evaluate(() => {
      const host = document.querySelector('portcullis-session-timer') as HTMLElement;
      host.style.setProperty('--portcullis-timer-accent', 'rgb(200, 0, 0)');
      const root = host.shadowRoot!;
      const toast = getComputedStyle(root.querySelector('[part~=toast]')!);
      return { position: toast.position, bottom: toast.bottom, dismissColor: getComputedStyle(root.querySelector('[part~=dismiss]')!).color };
    });
    assert.deepEqual(looks, { position: 'fixed', bottom: '24px', dismissColor: 'rgb(200, 0, 0)' }, 'styled under a strict CSP and themable by custom properties');

    // Dismissed, it stays hidden, also after a reload (remembered per session end).
    await page.locator('portcullis-session-timer [part~=dismiss]').click();
    await until(() => readUi(page), (u) => u.toast === null, 'the dismissed notice to hide');
    await advance(10 * MINUTE);
    assert.equal((await readUi(page)).toast, null);
    await page.reload();
    await until(() => readUi(page), (u) => u.phase === 'notice', 'the reloaded page');
    assert.equal((await readUi(page)).toast, null, 'the dismissal survives a reload');

    await advanceTo(7 * HOUR - 5 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).toast, null, 'no 5 min notice yet');
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 5 min notice');
    assert.equal(ui.toast, 'Your session ends in 5 minutes.');

    await advanceTo(7 * HOUR - MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).dialog, null, 'no final dialog 62 s before the end');
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.toast, null, 'the dialog replaces the notice');
    assert.deepEqual(ui.dialog, {
      title: 'Your session is about to end',
      text: 'You will be signed out in 59 seconds. For your security, you need to sign in again.',
      countdown: '0:59',
      button: 'Sign in again',
      live: '',
      role: 'alertdialog',
      modal: 'true',
      labelledBy: 'title',
      describedBy: 'text',
    });
    assert.equal(ui.focus, 'button stay', 'focus moves into the dialog');
    assert.deepEqual(ui.events.filter((e) => e.type === 'final').map((e) => e.detail.endsBy), ['absolute']);
    noPageErrors();
  });

  test('idle-bound session: no 4 h notice for a 10 min idle limit, the 5 min notice when idle, then the final dialog', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    await advanceTo(5 * MINUTE - 2 * SECOND);
    let ui = await readUi(page);
    assert.equal(ui.toast, null, 'no notice while more than 5 min are left (and never the 4 h one)');
    assert.ok(fixture.gets >= 1);
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 5 min notice');
    assert.equal(ui.toast, 'Your session ends in 5 minutes.');
    assert.deepEqual(ui.events.filter((e) => e.type === 'notice').map((e) => e.detail.threshold), [5 * MINUTE]);

    await advanceTo(9 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).dialog, null);
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.dialog?.button, 'Stay signed in');
    assert.equal(ui.dialog?.text, 'You will be signed out in 59 seconds. Do you want to stay signed in?');
    assert.equal(fixture.posts.length, 0, 'nothing was POSTed without user input');
    noPageErrors();
  });

  test('the final dialog cannot be dismissed (Escape, backdrop, Tab, input) and "Stay signed in" extends the idle session', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    await advanceTo(9 * MINUTE + SECOND);
    await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    const endBefore = fixture.expiresAt;

    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await page.mouse.click(5, 5); // the backdrop
    const pageButton = await page.locator('#page-button').boundingBox();
    assert.ok(pageButton);
    await page.mouse.click(pageButton.x + pageButton.width / 2, pageButton.y + pageButton.height / 2); // under the backdrop
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    await page.mouse.wheel(0, 400);
    await settle();
    let ui = await readUi(page);
    assert.ok(ui.dialog, 'still open');
    assert.equal(ui.focus, 'button stay', 'focus stayed on the dialog button');
    assert.equal(ui.pageClicks, 0, 'the page behind the dialog got no click');
    assert.equal(fixture.posts.length, 0, 'input while the dialog is open does not report activity');
    assert.equal(fixture.expiresAt, endBefore);

    await page.locator('portcullis-session-timer [part~=stay]').click();
    ui = await until(() => readUi(page), (u) => u.dialog === null, 'the dialog to close');
    assert.deepEqual(fixture.posts.map((p) => p.header), ['1'], 'one POST, with the activity header');
    assert.equal(fixture.expiresAt, T0 + 19 * MINUTE + SECOND, 'the fixture extended the idle limit');
    assert.equal(ui.expiresAt, fixture.expiresAt, 'the SDK took the new end');
    const extended = ui.events.filter((e) => e.type === 'extended');
    assert.equal(extended.length, 1);
    assert.equal(extended[0]?.detail.previousExpiresAt, endBefore);
    assert.equal(ui.phase, 'active');
    noPageErrors();
  });

  test('absolute-bound final dialog: the button says a new login is needed and goes to logout-url with next=login-url', async () => {
    const [page] = (await open({ idle: 8 * HOUR, absolute: 7 * HOUR })) as [Page];
    await advanceTo(7 * HOUR - 30 * SECOND); // one big jump, like a laptop waking up
    const ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.dialog?.button, 'Sign in again');
    assert.equal(ui.dialog?.countdown, '0:30');
    await page.locator('portcullis-session-timer [part~=stay]').click();
    await page.waitForURL(`${base}/logout?next=${encodeURIComponent(`${base}/login`)}`);
    assert.equal(fixture.posts.length, 0, 'no activity POST: it could not help');
    assert.equal(fixture.logoutHits.length, 1);
    noPageErrors();
  });

  test('the countdown is read out at 30 and 10 seconds (not every second), and at zero the page ends at logout-url', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    await advanceTo(9 * MINUTE + SECOND);
    let ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.dialog?.live, '', 'the opening dialog is announced by its role; nothing extra');
    await advance(SECOND);
    assert.equal((await readUi(page)).dialog?.countdown, '0:58', 'the visible countdown follows each second');
    await advanceTo(9 * MINUTE + 30 * SECOND);
    ui = await readUi(page);
    assert.equal(ui.dialog?.countdown, '0:30');
    assert.equal(ui.dialog?.live, 'Your session ends in 30 seconds.');
    await advance(5 * SECOND);
    ui = await readUi(page);
    assert.equal(ui.dialog?.countdown, '0:25');
    assert.equal(ui.dialog?.live, 'Your session ends in 30 seconds.', 'not re-announced every second');
    await advanceTo(9 * MINUTE + 50 * SECOND);
    assert.equal((await readUi(page)).dialog?.live, 'Your session ends in 10 seconds.');

    await advance(11 * SECOND);
    await page.waitForURL(`${base}/logout?next=${encodeURIComponent(`${base}/login`)}`);
    assert.equal(fixture.logoutHits.length, 1);
    assert.equal(fixture.posts.length, 0);
    noPageErrors();
  });

  test('polling only GETs: an hour of watching an idle page never POSTs, and the status is re-fetched every 5 minutes', async () => {
    const [page] = (await open({ idle: 8 * HOUR, absolute: 7 * HOUR })) as [Page];
    const first = fixture.gets;
    for (let i = 0; i < 12; i++) await advance(5 * MINUTE);
    assert.ok(fixture.gets - first >= 12, `re-fetched at least every 5 minutes (${fixture.gets - first} GETs in an hour)`);
    assert.ok(fixture.gets - first <= 24, `but not much more often (${fixture.gets - first} GETs)`);
    assert.equal(fixture.posts.length, 0);
    assert.equal((await readUi(page)).phase, 'active');
    noPageErrors();
  });

  test('user input reports activity at most once per activity-throttle window', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    await advance(5 * SECOND);
    await page.keyboard.press('a');
    await settle();
    assert.deepEqual(fixture.posts, [{ header: '1', at: T0 + 5 * SECOND }]);
    for (const input of ['click', 'key', 'wheel', 'click', 'key'] as const) {
      await advance(10 * SECOND);
      if (input === 'click') await page.mouse.click(300, 300);
      if (input === 'key') await page.keyboard.press('b');
      if (input === 'wheel') await page.mouse.wheel(0, 300);
      await settle();
    }
    assert.equal(fixture.posts.length, 1, 'inputs within 60 s of the last POST send nothing');
    await advance(9 * SECOND); // 59 s after the first POST: still inside the window
    await page.mouse.click(300, 300);
    await settle();
    assert.equal(fixture.posts.length, 1);
    await advance(SECOND); // 60 s after it: a new window
    await page.mouse.click(300, 300);
    await settle();
    assert.deepEqual(fixture.posts.map((p) => p.at - T0), [5 * SECOND, 65 * SECOND]);
    const ui = await until(() => readUi(page), (u) => u.expiresAt === T0 + 65 * SECOND + 10 * MINUTE, 'the SDK to take the extended end');
    assert.equal(ui.toast, null);
    noPageErrors();
  });

  test('clock offset: with the server 2 hours ahead of the browser, notices still appear at the right moment', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR, skew: 2 * HOUR })) as [Page];
    let ui = await readUi(page);
    assert.equal(ui.offset, 2 * HOUR, 'offset = server clock - browser clock');
    await advanceTo(5 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).toast, null);
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 5 min notice');
    assert.equal(ui.toast, 'Your session ends in 5 minutes.');
    await advanceTo(9 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).dialog, null);
    await advance(3 * SECOND);
    ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.equal(ui.dialog?.countdown, '0:59');
    noPageErrors();
  });

  test('two tabs: "Stay signed in" in one closes the dialog in the other (BroadcastChannel)', async () => {
    const [one, two] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR }, 2)) as [Page, Page];
    await advanceTo(9 * MINUTE + SECOND);
    await until(() => readUi(one), (u) => u.dialog !== null, 'the dialog in tab one');
    await until(() => readUi(two), (u) => u.dialog !== null, 'the dialog in tab two');
    const gets = fixture.gets;
    await one.locator('portcullis-session-timer [part~=stay]').click();
    await until(() => readUi(one), (u) => u.dialog === null, 'the dialog in tab one to close');
    const ui = await until(() => readUi(two), (u) => u.dialog === null, 'the dialog in tab two to close');
    assert.equal(fixture.posts.length, 1, 'only tab one POSTed');
    assert.equal(fixture.gets, gets, 'tab two learnt it from the channel, not from a request');
    assert.equal(ui.expiresAt, fixture.expiresAt);
    assert.equal(ui.events.filter((e) => e.type === 'extended').length, 1);
    noPageErrors();
  });

  test('two tabs: a logout seen in one tab navigates the other to logout-url too', async () => {
    const [one, two] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR }, 2)) as [Page, Page];
    fixture.loggedOut = true; // e.g. signed out from another app
    const gets = fixture.gets;
    // Only tab one looks (it becomes visible); tab two has no timer due and fetches nothing.
    await one.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    const target = `${base}/logout?next=${encodeURIComponent(`${base}/login`)}`;
    await one.waitForURL(target);
    await two.waitForURL(target);
    assert.equal(fixture.gets, gets + 1, 'one status request, from tab one');
    noPageErrors();
  });

  test('two tabs: "Sign in again" in one tab (the session ends) sends the other to logout-url too', async () => {
    const [one, two] = (await open({ idle: 8 * HOUR, absolute: 7 * HOUR }, 2)) as [Page, Page];
    await advanceTo(7 * HOUR - 30 * SECOND);
    await until(() => readUi(one), (u) => u.dialog?.button === 'Sign in again', 'the dialog in tab one');
    await until(() => readUi(two), (u) => u.dialog?.button === 'Sign in again', 'the dialog in tab two');
    const gets = fixture.gets;
    await one.locator('portcullis-session-timer [part~=stay]').click();
    const target = `${base}/logout?next=${encodeURIComponent(`${base}/login`)}`;
    await one.waitForURL(target);
    await two.waitForURL(target);
    assert.equal(fixture.gets, gets, 'tab two followed the channel message, not a status it fetched');
    noPageErrors();
  });

  test('after a big time jump (sleep), becoming visible shows the right state at once, and a jump past the end logs out', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    // The clock jumps without firing any timer, as when a laptop wakes and the tab is shown again.
    fixture.serverNow = T0 + 9 * MINUTE + 30 * SECOND;
    await browser!.context.clock.setSystemTime(T0 + 9 * MINUTE + 30 * SECOND);
    await settle();
    assert.equal((await readUi(page)).dialog, null, 'no timer ran');
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    let ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog right after becoming visible');
    assert.equal(ui.dialog?.countdown, '0:30');

    fixture.serverNow = T0 + 25 * MINUTE;
    await browser!.context.clock.setSystemTime(T0 + 25 * MINUTE);
    await settle();
    ui = await readUi(page);
    assert.ok(ui.dialog, 'still the old state: no timer ran');
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.waitForURL(`${base}/logout?next=${encodeURIComponent(`${base}/login`)}`);
    noPageErrors();
  });

  test('network errors: the last known times are kept, retries back off, and nothing throws', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    fixture.failStatus = true;
    const gets = fixture.gets;
    await advanceTo(9 * MINUTE + SECOND);
    const ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog from the last known times');
    assert.equal(ui.dialog?.countdown, '0:59');
    assert.ok(fixture.gets > gets, 'it tried to confirm');
    const before = fixture.gets;
    for (let i = 0; i < 30; i++) await advance(SECOND);
    const tries = fixture.gets - before;
    assert.ok(tries >= 2 && tries <= 6, `backing off: ${tries} GETs in 30 s of 1 s ticks`);
    assert.equal((await readUi(page)).dialog?.countdown, '0:29');
    await advance(30 * SECOND);
    await page.waitForURL(`${base}/logout?next=${encodeURIComponent(`${base}/login`)}`);
    noPageErrors();
  });

  test('translation and scaled offsets: text-* attributes, lang for durations, notice-offsets and final-countdown', async () => {
    const attrs = ATTRS(
      'lang="de" notice-offsets="20m, 2m" final-countdown="30s" text-notice="Ihre Sitzung endet in {time}." ' +
        'text-final-title="Ihre Sitzung läuft ab" text-final="Abmeldung in {time}." text-stay="Angemeldet bleiben" text-dismiss="Schließen"',
    );
    const [page] = (await open({ idle: 30 * MINUTE, absolute: 7 * HOUR, attrs })) as [Page];
    await advanceTo(10 * MINUTE - 2 * SECOND);
    assert.equal((await readUi(page)).toast, null);
    await advance(3 * SECOND);
    let ui = await until(() => readUi(page), (u) => u.toast !== null, 'the 20 min notice');
    assert.equal(ui.toast, 'Ihre Sitzung endet in 20 Minuten.');
    assert.equal(await page.locator('portcullis-session-timer [part~=dismiss]').textContent(), 'Schließen');
    await advanceTo(28 * MINUTE + SECOND);
    ui = await until(() => readUi(page), (u) => u.toast !== null && u.toast.includes('2 Minuten'), 'the 2 min notice');
    assert.equal(ui.toast, 'Ihre Sitzung endet in 2 Minuten.');
    await advanceTo(29 * MINUTE + 29 * SECOND);
    assert.equal((await readUi(page)).dialog, null, 'final-countdown="30s": not yet at 31 s');
    await advance(2 * SECOND);
    ui = await until(() => readUi(page), (u) => u.dialog !== null, 'the final dialog');
    assert.deepEqual([ui.dialog?.title, ui.dialog?.text, ui.dialog?.button], ['Ihre Sitzung läuft ab', 'Abmeldung in 29 Sekunden.', 'Angemeldet bleiben']);
    noPageErrors();
  });

  test('importing the module twice is safe: one element definition, still working', async () => {
    const [page] = (await open({ idle: 10 * MINUTE, absolute: 7 * HOUR })) as [Page];
    const same = await page.evaluate(async () => {
      const first = customElements.get('portcullis-session-timer');
      const url: string = '/session.js?again=1'; // a second module instance, as a double import by two bundles would be
      const again = (await import(url)) as { startSessionTimer: unknown };
      return typeof again.startSessionTimer === 'function' && customElements.get('portcullis-session-timer') === first;
    });
    assert.equal(same, true);
    await advanceTo(5 * MINUTE + SECOND);
    await until(() => readUi(page), (u) => u.toast === 'Your session ends in 5 minutes.', 'the notice');
    noPageErrors();
  });
});
