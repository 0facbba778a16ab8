// Drives the OIDC authorization-code flow through Fastify inject: a tiny cookie jar, PKCE, login and token helpers.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.js';
import { createUser } from '../../src/admin/users.js';
import { addClient } from '../../src/admin/clients.js';
import type { User } from '../../src/domain/types.js';

export const PUBLIC_URL = 'http://localhost:3000';
export const REDIRECT_URI = 'https://app.example.com/callback';

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/** Keeps cookies by (name, path) and sends the ones whose path prefixes the request path, like a browser. */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  store(response: LightMyRequestResponse): void {
    for (const c of response.cookies as Array<{ name: string; value: string; path?: string; maxAge?: number; expires?: Date }>) {
      const path = c.path ?? '/';
      const key = `${c.name}|${path}`;
      const expired = c.maxAge !== undefined ? c.maxAge <= 0 : c.expires !== undefined && c.expires.getTime() <= Date.now();
      if (expired || c.value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name: c.name, value: c.value, path });
    }
  }

  header(url: string): string | undefined {
    const path = new URL(url, PUBLIC_URL).pathname;
    const matching = [...this.cookies.values()]
      .filter((c) => c.path === '/' || path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  get(name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.name === name)?.value;
  }

  delete(name: string): void {
    for (const [key, c] of this.cookies) if (c.name === name) this.cookies.delete(key);
  }
}

/** A browser-like client: carries cookies between inject calls. */
export class Browser {
  readonly jar = new CookieJar();
  /** Same-origin requests carry the public host, as a browser on http://localhost:3000 would. */
  constructor(
    readonly server: FastifyInstance,
    readonly defaults: Partial<InjectOptions> = { headers: { host: 'localhost:3000' } },
    readonly origin: string = PUBLIC_URL,
  ) {}

  async request(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const cookie = this.jar.header(options.url);
    const headers = { ...(this.defaults.headers ?? {}), ...(options.headers ?? {}), ...(cookie ? { cookie } : {}) };
    const response = await this.server.inject({ ...this.defaults, ...options, headers } as InjectOptions);
    this.jar.store(response);
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url: relative(url), headers });
  }

  postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({
      method: 'POST',
      url: relative(url),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(fields).toString(),
    });
  }
}

/** Turns an absolute URL on the public origin into a path inject understands. */
export function relative(url: string): string {
  if (url.startsWith('/')) return url;
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export function location(response: LightMyRequestResponse): string {
  const value = response.headers.location;
  if (typeof value !== 'string') throw new Error(`expected a Location header, got status ${response.statusCode}: ${response.body.slice(0, 300)}`);
  return value;
}

export function hiddenCsrf(body: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error(`no csrf field in page: ${body.slice(0, 300)}`);
  return match[1];
}

export function formAction(body: string): string {
  const match = /<form method="post" action="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error(`no form in page: ${body.slice(0, 300)}`);
  return match[1];
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
  return `/oidc/auth?${query.toString()}`;
}

export interface Fixture {
  user: User;
  email: string;
  password: string;
  clientId: string;
}

/** A user plus a first-party public client redirecting to REDIRECT_URI. */
export async function seedPublicClient(app: TestApp, options: { clientId?: string; firstParty?: boolean; email?: string; password?: string } = {}): Promise<Fixture> {
  const email = options.email ?? 'alice@example.com';
  const password = options.password ?? 'correct horse battery staple';
  const clientId = options.clientId ?? 'spa-app';
  const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password });
  await addClient(app.store, app.clock, { clientId, redirectUris: [REDIRECT_URI], public: true, firstParty: options.firstParty ?? true });
  return { user, email, password, clientId };
}

export interface StartedLogin {
  uid: string;
  loginPage: LightMyRequestResponse;
  csrf: string;
  action: string;
}

/** GET /oidc/auth then the interaction page: returns the rendered login form and its CSRF token. */
export async function startLogin(browser: Browser, params: Record<string, string | undefined>): Promise<StartedLogin> {
  const auth = await browser.get(authorizeUrl(params));
  if (auth.statusCode !== 303) throw new Error(`authorize answered ${auth.statusCode}: ${auth.body.slice(0, 300)}`);
  const interactionUrl = location(auth);
  const uid = /\/interaction\/([^/?]+)/.exec(interactionUrl)?.[1];
  if (!uid) throw new Error(`unexpected interaction URL ${interactionUrl}`);
  const loginPage = await browser.get(interactionUrl);
  if (loginPage.statusCode !== 200) throw new Error(`login page answered ${loginPage.statusCode}: ${loginPage.body.slice(0, 300)}`);
  return { uid, loginPage, csrf: hiddenCsrf(loginPage.body), action: formAction(loginPage.body) };
}

/** Follows 3xx redirects on our own origin until one leaves it (returned) or a page is rendered. */
export async function followUntilExternal(browser: Browser, response: LightMyRequestResponse, maxHops = 6): Promise<LightMyRequestResponse> {
  let current = response;
  for (let hop = 0; hop < maxHops; hop++) {
    if (current.statusCode < 300 || current.statusCode >= 400) return current;
    const to = location(current);
    if (!to.startsWith('/') && !to.startsWith(`${browser.origin}/`)) return current;
    current = await browser.get(to);
  }
  throw new Error('too many redirects');
}

export interface CodeResult {
  code: string;
  state: string | null;
  redirect: URL;
  browser: Browser;
  verifier: string;
}

/** Runs authorize -> login -> (consent) -> redirect with a code for a public client using PKCE. */
export async function authorizeWithLogin(
  app: TestApp,
  fixture: { clientId: string; email: string; password: string },
  options: { browser?: Browser; scope?: string; redirectUri?: string; extra?: Record<string, string> } = {},
): Promise<CodeResult> {
  const browser = options.browser ?? new Browser(app.server);
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const started = await startLogin(browser, {
    client_id: fixture.clientId,
    response_type: 'code',
    scope: options.scope ?? 'openid email',
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...options.extra,
  });
  const login = await browser.postForm(started.action, { csrf: started.csrf, email: fixture.email, password: fixture.password });
  if (login.statusCode !== 303) throw new Error(`login answered ${login.statusCode}: ${login.body.slice(0, 300)}`);
  let final = await followUntilExternal(browser, login);
  if (final.statusCode === 200 && final.body.includes('/confirm')) {
    const confirm = await browser.postForm(formAction(final.body), { csrf: hiddenCsrf(final.body) });
    final = await followUntilExternal(browser, confirm);
  }
  const redirect = new URL(location(final));
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code in redirect ${redirect.href}`);
  return { code, state: redirect.searchParams.get('state'), redirect, browser, verifier };
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POST /oidc/token with form fields; returns the status and parsed JSON. */
export async function tokenRequest(server: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await server.inject({
    method: 'POST',
    url: '/oidc/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, string>, response };
}

export async function exchangeCode(server: FastifyInstance, input: { code: string; verifier: string; clientId: string; redirectUri?: string }) {
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    code: input.code,
    code_verifier: input.verifier,
    client_id: input.clientId,
    redirect_uri: input.redirectUri ?? REDIRECT_URI,
  });
}

export async function userinfo(server: FastifyInstance, accessToken: string) {
  const response = await server.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.statusCode, body: response.body, response };
}
