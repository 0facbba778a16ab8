// Portcullis-specific client steps shared by the benchmarks: the hosted login form, the browser proof, counters.
import { expectedProofDigest } from '../../src/protection/bot/browser-proof.js';
import { Connection, CookieJar, csrfIn, type Response } from './http.js';
import type { ServerProcess } from './server.js';

/** What a person on an ordinary desktop Chrome sends (the bot signals flag HTTP libraries and headless browsers). */
export const DESKTOP_CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export interface BenchUser {
  email: string;
  password: string;
}

/** A person's browser: its own cookie jar (CSRF and device cookies survive between logins), on some connection. */
export class Browser {
  readonly jar = new CookieJar();
  constructor(readonly headers: Record<string, string> = { 'user-agent': DESKTOP_CHROME_UA }) {}

  async send(connection: Connection, method: string, path: string, form?: Record<string, string>): Promise<Response> {
    const cookie = this.jar.header(path);
    const headers: Record<string, string> = { ...this.headers, ...(cookie ? { cookie } : {}) };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await connection.request({ method, path, headers, body: form ? new URLSearchParams(form).toString() : undefined });
    this.jar.store(res.headers);
    return res;
  }
}

/** The `proof` field web/captcha.ts computes in a real browser, from the page's data-proof-nonce and data-proof-tx. */
export function browserProofFor(body: string): string | null {
  const nonce = /data-proof-nonce="([^"]+)"/.exec(body)?.[1];
  const tx = /data-proof-tx="([^"]+)"/.exec(body)?.[1];
  return nonce && tx ? `${nonce}.${expectedProofDigest(nonce, tx)}` : null;
}

export interface LoginTiming {
  getMs: number;
  postMs: number;
  status: number;
}

/**
 * One password login through the account page's hosted form: GET /login (CSRF cookie and token, browser proof
 * challenge), optionally wait like a person filling the form, then POST /login. Success is a 303 to /account.
 * The session cookie is dropped afterwards, so the next login from this browser is a fresh one.
 */
export async function formLogin(
  browser: Browser,
  connection: Connection,
  user: BenchUser,
  options: { withProof?: boolean; thinkMs?: number } = {},
): Promise<LoginTiming> {
  const page = await browser.send(connection, 'GET', '/login');
  if (page.status !== 200) throw new Error(`GET /login answered ${page.status}`);
  const fields: Record<string, string> = { csrf: csrfIn(page.body), email: user.email, password: user.password };
  if (options.withProof) {
    const proof = browserProofFor(page.body);
    if (!proof) throw new Error('the login page carries no browser proof challenge');
    fields.proof = proof;
  }
  if (options.thinkMs) await new Promise((r) => setTimeout(r, options.thinkMs));
  const post = await browser.send(connection, 'POST', '/login', fields);
  browser.jar.delete('portcullis_session');
  return { getMs: page.ms, postMs: post.ms, status: post.status === 303 && post.headers.location === '/account' ? 303 : post.status };
}

export interface Counters {
  argon2Verifies: number;
  events: Record<string, number>;
}

export const counters = (server: ServerProcess): Promise<Counters> => server.call<Counters>('counters');

/** Event counts that grew between two snapshots, by code. */
export function eventDelta(before: Counters, after: Counters): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of Object.entries(after.events)) {
    const d = n - (before.events[code] ?? 0);
    if (d > 0) out[code] = d;
  }
  return out;
}
