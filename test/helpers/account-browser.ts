// Helpers for the hosted account pages through Fastify inject: a fake clock, form CSRF, /login, and reading sent mail.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.js';
import { Browser, hiddenCsrf, relative } from './oidc-flow.js';
import { createUser } from '../../src/admin/users.js';
import type { User } from '../../src/domain/types.js';
import type { DevMailItem, OutboxMessage } from '../../src/store/store.js';

/** A clock the test moves by hand, for expiry tests. */
export class FakeClock {
  constructor(private current: number = Date.now()) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A browser with its own client IP (inject's remoteAddress) and user agent. */
export function browserFrom(app: TestApp, options: { ip?: string; userAgent?: string } = {}): Browser {
  const headers: Record<string, string> = { host: 'localhost:3000' };
  if (options.userAgent) headers['user-agent'] = options.userAgent;
  return new Browser(app.server, { headers, ...(options.ip ? { remoteAddress: options.ip } : {}) });
}

/** GETs a page that must render a form and returns that form's CSRF token. */
export async function csrfFrom(browser: Browser, url: string): Promise<string> {
  const page = await browser.get(url);
  assert.equal(page.statusCode, 200, `GET ${url}: ${page.statusCode} ${page.body.slice(0, 300)}`);
  return hiddenCsrf(page.body);
}

/** Signs in through /login (the account page's own sign-in) and returns the POST response. */
export async function loginAt(browser: Browser, email: string, password: string, next?: string): Promise<LightMyRequestResponse> {
  const url = next === undefined ? '/login' : `/login?next=${encodeURIComponent(next)}`;
  const csrf = await csrfFrom(browser, url);
  return browser.postForm(url, { csrf, email, password });
}

/** Signs in and asserts it worked: the browser then holds a live session cookie. */
export async function signIn(browser: Browser, email: string, password: string): Promise<void> {
  const response = await loginAt(browser, email, password);
  assert.equal(response.statusCode, 303, `login: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.ok(browser.jar.get('portcullis_session'), 'login sets the session cookie');
}

/** Posts one of the account page's forms with a fresh token from /account. */
export async function postAccountForm(browser: Browser, url: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const csrf = await csrfFrom(browser, '/account');
  return browser.postForm(url, { csrf, ...fields });
}

export async function seedUser(app: TestApp, email: string, password: string, options: { emailVerified?: boolean } = {}): Promise<User> {
  return createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password, emailVerified: options.emailVerified ?? true });
}

/** Delivers the outbox to the dev mailbox and returns every item sent to `to`, newest first. */
export async function deliveredTo(app: TestApp, to: string): Promise<DevMailItem[]> {
  await app.mailWorker.runOnce();
  return (await app.store.devMailbox.list(1000)).filter((m) => m.to === to);
}

/** Outbox entries (queued or sent) for one recipient and template. */
export async function queued(app: TestApp, to: string, template: string): Promise<OutboxMessage[]> {
  return (await app.store.outbox.list({ limit: 1000 })).filter((m) => m.to === to && m.template === template);
}

/** The first absolute link on our public origin under `pathPrefix` in a mail body, as an inject path. */
export function linkIn(text: string, pathPrefix: string): string {
  const escaped = pathPrefix.replace(/[/.]/g, '\\$&');
  const match = new RegExp(`http://localhost:3000(${escaped}/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)`).exec(text);
  assert.ok(match?.[1], `no ${pathPrefix} link in mail:\n${text}`);
  return relative(match[1]);
}

/** Reads the dev mailbox like a person would: each call returns only mail not seen before (the mailbox order ties on equal times). */
export class Inbox {
  private readonly seen = new Set<string>();
  constructor(private readonly app: TestApp) {}

  /** Delivers the outbox and returns the new mail for `to`. */
  async newMail(to: string): Promise<DevMailItem[]> {
    const fresh = (await deliveredTo(this.app, to)).filter((m) => !this.seen.has(m.id));
    for (const m of fresh) this.seen.add(m.id);
    return fresh;
  }

  /** The link under `pathPrefix` in the single new mail that carries one. */
  async newLink(to: string, pathPrefix: string): Promise<string> {
    const withLink = (await this.newMail(to)).filter((m) => m.text.includes(`http://localhost:3000${pathPrefix}/`));
    assert.equal(withLink.length, 1, `expected one new mail with a ${pathPrefix} link for ${to}, got ${withLink.length}`);
    return linkIn(withLink[0]!.text, pathPrefix);
  }
}

/** The token part of a link path (`/password/reset/<id>.<secret>`). */
export function tokenOf(path: string): { token: string; id: string; secret: string } {
  const token = path.slice(path.lastIndexOf('/') + 1);
  const [id, secret] = token.split('.');
  assert.ok(id && secret, `not an id.secret token: ${token}`);
  return { token, id, secret };
}
