// The Portcullis example app: a small web app that signs its users in through Portcullis with openid-client and embeds
// the session SDK. Run it next to Portcullis with `npm run demo-app` (see README.md in this folder).
//
// It is deliberately self-contained (nothing imported from Portcullis' own source): it is what one of your apps would do.
import { createPublicKey, randomBytes, timingSafeEqual, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import * as oidc from 'openid-client';

export const EXAMPLE_CLIENT_ID = 'portcullis-example-app';
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// Cookie names are specific to this app: browsers do not separate cookies by port, so on localhost this app and
// Portcullis (localhost:3000) see each other's cookies. Names that could collide would overwrite each other.
const SESSION_COOKIE = 'example_app_session';
const LOGIN_COOKIE = 'example_app_login';

const LOGIN_TTL_MS = 10 * 60_000;
const LOGOUT_STATE_TTL_MS = 10 * 60_000;
const TOMBSTONE_TTL_MS = 60 * 60_000;
const FALLBACK_SESSION_MS = 24 * 60 * 60_000;
const CLOCK_SKEW_S = 60;
const LOGOUT_TOKEN_MAX_AGE_S = 5 * 60;
const JWKS_REFETCH_MIN_MS = 10_000;

export interface DemoAppOptions {
  /** Port to listen on (default 4000). */
  port?: number;
  /** Address to bind (default `localhost`: the loopback addresses only). */
  host?: string;
  /** Where Portcullis runs (default http://localhost:3000); the OIDC issuer is `<portcullisUrl>/oidc`. */
  portcullisUrl?: string;
  /** This app's external URL (default http://localhost:<port>); must match the client's registered redirect URIs. */
  appUrl?: string;
  clientId?: string;
  /** Where one-line event messages go (default console.log). */
  log?: (line: string) => void;
}

export interface DemoApp {
  url: string;
  server: FastifyInstance;
  /** How many signed-in sessions the app holds (for tests). */
  activeSessions(): number;
  close(): Promise<void>;
}

/** A signed-in browser of this app. */
interface AppSession {
  csrf: string;
  sub: string;
  /** The Portcullis session id for this app (`sid`): back-channel logout tokens name it. */
  sid: string | null;
  email: string | null;
  amr: string[];
  /** Epoch seconds: when the Portcullis session behind this sign-in ends at the latest (the ID token's session_expires_at). */
  portcullisSessionEndsAt: number | null;
  claims: Record<string, unknown>;
  idToken: string;
  signedInAt: number;
  /** The app session ends with the Portcullis session at the latest. */
  expiresAt: number;
}

/** A sign-in in progress: what the callback must check. */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

class InvalidLogoutToken extends Error {}

// ---------------------------------------------------------------------------------------------------------------------
// HTML: a tiny escaping template tag. Every interpolated value is escaped unless it is already Html.

class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}
type Part = Html | string | number | null | undefined | false | Part[];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function renderPart(part: Part): string {
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(renderPart).join('');
  if (part === null || part === undefined || part === false) return '';
  return escapeHtml(String(part));
}

function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += renderPart(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const AMR_MEANING: Record<string, string> = {
  pwd: 'password',
  otp: 'one-time code',
  hwk: 'passkey or security key',
  swk: 'software key',
  user: 'user verification (PIN or biometric)',
  mfa: 'multi-factor',
  mca: 'multiple channels',
};

const CLAIM_MEANING: Record<string, string> = {
  iss: 'issuer: the Portcullis that signed the token',
  sub: 'subject: the user’s stable id',
  aud: 'audience: this app’s client id',
  exp: 'the ID token expires (never after the Portcullis session)',
  iat: 'issued at',
  auth_time: 'when the user authenticated',
  nonce: 'binds the token to this app’s sign-in request',
  sid: 'the Portcullis session, named again by back-channel logout',
  amr: 'how the user signed in',
  session_expires_at: 'the Portcullis session ends at the latest',
  at_hash: 'hash of the access token',
  azp: 'authorized party',
};

const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'session_expires_at']);

function utc(epochSeconds: number): Html {
  const date = new Date(epochSeconds * 1000);
  return html`<time datetime="${date.toISOString()}">${date.toUTCString().replace('GMT', 'UTC')}</time>`;
}

/** "in 6 days 23 hours", "in 4 minutes": rough, for reading. */
function fromNow(epochSeconds: number, now: number): string {
  let seconds = Math.round(epochSeconds - now / 1000);
  if (seconds <= 0) return 'already passed';
  const units: Array<[string, number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ];
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(seconds / size);
    if (n > 0 && parts.length < 2) {
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
      seconds -= n * size;
    } else if (parts.length > 0) break;
  }
  return `in ${parts.join(' ')}`;
}

// ---------------------------------------------------------------------------------------------------------------------

function isDirectRun(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const randomId = (bytes = 32): string => randomBytes(bytes).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function decodeJsonPart(part: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new InvalidLogoutToken('not base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidLogoutToken('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidLogoutToken('not a JSON object');
  return value as Record<string, unknown>;
}

export async function startDemoApp(options: DemoAppOptions = {}): Promise<DemoApp> {
  const port = options.port ?? 4000;
  const portcullisUrl = (options.portcullisUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  const appUrl = (options.appUrl ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const clientId = options.clientId ?? EXAMPLE_CLIENT_ID;
  const log = options.log ?? ((line: string) => console.log(line));
  const issuer = `${portcullisUrl}/oidc`;
  const portcullisOrigin = new URL(portcullisUrl).origin;
  const secureCookies = appUrl.startsWith('https:');
  const css = readFileSync(new URL('./demo.css', import.meta.url), 'utf8');

  // ----- In-memory state. It's a demo: everything is lost on restart, and one process only. A real app keeps its
  // sessions in a store shared by its instances (a database, Redis) and expires them there.
  const sessions = new Map<string, AppSession>();
  const pendingLogins = new Map<string, PendingLogin>();
  /** `state` of our RP-initiated logouts in flight: Portcullis sends it back to post_logout_redirect_uri. */
  const pendingLogouts = new Map<string, number>();
  /** Session ids ended by back-channel logout, so the next page view can say why the user is signed out. */
  const tombstones = new Map<string, number>();
  /** jti of the logout tokens already accepted (a replay is refused). */
  const seenLogoutTokens = new Map<string, number>();

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id);
    for (const [id, p] of pendingLogins) if (p.expiresAt <= now) pendingLogins.delete(id);
    for (const map of [pendingLogouts, tombstones, seenLogoutTokens]) for (const [key, until] of map) if (until <= now) map.delete(key);
  }, 60_000);
  sweep.unref();

  // ----- OpenID Connect client: discovered lazily (Portcullis may start after this app), retried after a failure.
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      .discovery(new URL(issuer), clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };

  // ----- The issuer's signing keys, for back-channel logout tokens. Re-fetched when a token names an unknown key (key
  // rotation), at most every 10 s so that forged kids cannot make us hammer Portcullis.
  let jwks: { keys: Map<string, KeyObject>; anonymous: KeyObject[]; fetchedAt: number } | null = null;
  async function loadJwks(): Promise<NonNullable<typeof jwks>> {
    const { jwks_uri } = (await configuration()).serverMetadata();
    if (!jwks_uri) throw new Error('the issuer publishes no jwks_uri');
    const response = await fetch(jwks_uri, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    const keys = new Map<string, KeyObject>();
    const anonymous: KeyObject[] = [];
    for (const jwk of Array.isArray(body.keys) ? (body.keys as Array<JsonWebKey & { kid?: string; use?: string; alg?: string }>) : []) {
      if (jwk.kty !== 'RSA' || (jwk.use && jwk.use !== 'sig') || (jwk.alg && jwk.alg !== 'RS256')) continue;
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      if (typeof jwk.kid === 'string') keys.set(jwk.kid, key);
      else anonymous.push(key);
    }
    jwks = { keys, anonymous, fetchedAt: Date.now() };
    return jwks;
  }
  async function signingKey(kid: unknown): Promise<KeyObject> {
    const pick = (set: NonNullable<typeof jwks>): KeyObject | undefined => {
      if (typeof kid === 'string') return set.keys.get(kid);
      const all = [...set.keys.values(), ...set.anonymous];
      return all.length === 1 ? all[0] : undefined;
    };
    let set = jwks ?? (await loadJwks());
    let key = pick(set);
    if (!key && Date.now() - set.fetchedAt >= JWKS_REFETCH_MIN_MS) {
      set = await loadJwks();
      key = pick(set);
    }
    if (!key) throw new InvalidLogoutToken('signed with an unknown key');
    return key;
  }

  /** OpenID Connect Back-Channel Logout 1.0, section 2.6: validates a logout token and returns its claims. */
  async function verifyLogoutToken(token: string): Promise<{ sub: string | null; sid: string | null }> {
    const parts = token.split('.');
    if (parts.length !== 3) throw new InvalidLogoutToken('not a signed JWT');
    const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
    const header = decodeJsonPart(encodedHeader);
    // The algorithm is ours to choose, never the token's: only RS256, so neither "none" nor an HMAC with the public key.
    if (header.alg !== 'RS256') throw new InvalidLogoutToken('alg must be RS256');
    if (header.typ !== undefined && header.typ !== 'logout+jwt') throw new InvalidLogoutToken('typ must be logout+jwt');
    if (header.crit !== undefined) throw new InvalidLogoutToken('unsupported crit header');
    if (!/^[A-Za-z0-9_-]+$/.test(encodedSignature)) throw new InvalidLogoutToken('signature is not base64url');
    const key = await signingKey(header.kid);
    const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
    if (!verifySignature('sha256', signed, key, Buffer.from(encodedSignature, 'base64url'))) throw new InvalidLogoutToken('bad signature');

    const claims = decodeJsonPart(encodedPayload);
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== (await configuration()).serverMetadata().issuer) throw new InvalidLogoutToken('wrong iss');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(clientId)) throw new InvalidLogoutToken('wrong aud');
    if (typeof claims.iat !== 'number' || claims.iat > now + CLOCK_SKEW_S || claims.iat < now - LOGOUT_TOKEN_MAX_AGE_S) throw new InvalidLogoutToken('iat is not recent');
    if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp < now - CLOCK_SKEW_S)) throw new InvalidLogoutToken('expired');
    const events = claims.events;
    if (typeof events !== 'object' || events === null || typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== 'object') {
      throw new InvalidLogoutToken('no back-channel logout event');
    }
    // A nonce would make it an ID token: the spec forbids it so that neither can pass for the other.
    if ('nonce' in claims) throw new InvalidLogoutToken('a logout token has no nonce');
    const sub = typeof claims.sub === 'string' && claims.sub ? claims.sub : null;
    const sid = typeof claims.sid === 'string' && claims.sid ? claims.sid : null;
    if (!sub && !sid) throw new InvalidLogoutToken('neither sub nor sid');
    if (typeof claims.jti !== 'string' || !claims.jti) throw new InvalidLogoutToken('no jti');
    if (seenLogoutTokens.has(claims.jti)) throw new InvalidLogoutToken('replayed');
    seenLogoutTokens.set(claims.jti, Date.now() + 2 * (LOGOUT_TOKEN_MAX_AGE_S + CLOCK_SKEW_S) * 1000);
    return { sub, sid };
  }

  // ----- Sessions

  function currentSession(request: FastifyRequest): { id: string; session: AppSession } | null {
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return null;
    const session = sessions.get(id);
    if (!session) return null;
    if (session.expiresAt <= Date.now()) {
      sessions.delete(id);
      return null;
    }
    return { id, session };
  }

  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies };

  function endLocalSession(request: FastifyRequest, reply: FastifyReply): void {
    const id = request.cookies[SESSION_COOKIE];
    if (id) {
      sessions.delete(id);
      tombstones.delete(id);
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
  }

  // ----- Pages

  function page(reply: FastifyReply, status: number, title: string, body: Html, options: { timer?: boolean } = {}): FastifyReply {
    // The session SDK goes on signed-in pages only: on a signed-out page its status says "not signed in" and it would
    // navigate to logout-url at once.
    const sdk = options.timer ? html`<script type="module" src="${portcullisUrl}/sdk/session.js"></script>` : '';
    const timer = options.timer ? html`<portcullis-session-timer issuer="${portcullisUrl}" logout-url="/logout" login-url="/login"></portcullis-session-timer>` : '';
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Portcullis example app</title>
<link rel="stylesheet" href="/demo.css">
${sdk}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a href="/" class="brand">Example app</a><span class="tag">signs in with Portcullis at <a href="${portcullisUrl}">${new URL(portcullisUrl).host}</a></span></header>
<main id="main">
${body}
</main>
<footer class="foot">A demo of Portcullis: sessions live in this process’s memory and end when it stops.</footer>
${timer}
</body>
</html>`.value,
      );
  }

  function notice(kind: 'info' | 'success' | 'error', text: Part): Html {
    // role=status is announced politely; an error interrupts (role=alert).
    return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
  }

  const NOTICES: Record<string, () => Html> = {
    ended: () =>
      notice(
        'info',
        html`<strong>Your session ended.</strong> Your Portcullis session is over (a time limit was reached or you signed out elsewhere), so this app signed you out too. Sign in again to continue.`,
      ),
    backchannel: () =>
      notice(
        'info',
        html`<strong>Your session ended.</strong> Portcullis told this app, server to server, that your Portcullis session ended (back-channel logout), so you are signed out here too.`,
      ),
    'signed-out': () => notice('success', html`<strong>You are signed out</strong> of this app and of Portcullis.`),
  };

  function signedOutHome(reply: FastifyReply, banner: Html | null): FastifyReply {
    return page(
      reply,
      200,
      'Welcome',
      html`<h1>Portcullis example app</h1>
${banner}
<p class="lead">A small web app that signs its users in through Portcullis, the way one of your applications would.</p>
<h2>What this demo shows</h2>
<ul class="features">
<li><strong>Sign-in with OpenID Connect.</strong> The authorization-code flow with PKCE, state and nonce, using <code>openid-client</code>. This app is a public client (<code>${clientId}</code>): it holds no secret.</li>
<li><strong>Session warnings.</strong> Once you are signed in, the page embeds the Portcullis session SDK, which warns you before your Portcullis session ends and signs you out of this app when it does.</li>
<li><strong>Back-channel logout.</strong> When your Portcullis session ends, Portcullis tells this app server to server, and the app ends its own session.</li>
<li><strong>Sign-out.</strong> The app’s Sign out button ends both this app’s session and your Portcullis session.</li>
</ul>
<p><a class="button" href="/login">Sign in with Portcullis</a></p>
<p class="hint">No account yet? Open the setup link that <code>npm start</code> printed to create the first one.</p>`,
    );
  }

  function signedInHome(reply: FastifyReply, session: AppSession, banner: Html | null): FastifyReply {
    const now = Date.now();
    const ends = session.portcullisSessionEndsAt;
    const claimRows = Object.entries(session.claims).map(
      ([name, value]) =>
        html`<tr><th scope="row"><code>${name}</code></th><td><code>${JSON.stringify(value)}</code>${
          TIME_CLAIMS.has(name) && typeof value === 'number' ? html`<br><span class="muted">${utc(value)}</span>` : ''
        }</td><td>${CLAIM_MEANING[name] ?? ''}</td></tr>`,
    );
    return page(
      reply,
      200,
      'Signed in',
      html`<h1>You are signed in</h1>
${banner}
<dl class="summary">
<dt>Email</dt><dd id="user-email">${session.email ?? 'not shared'}</dd>
<dt>User id (<code>sub</code>)</dt><dd><code id="user-sub">${session.sub}</code></dd>
<dt>Signed in with (<code>amr</code>)</dt><dd>${session.amr.length ? session.amr.map((m) => `${m} (${AMR_MEANING[m] ?? 'other'})`).join(', ') : 'not stated'}</dd>
<dt>Your Portcullis session ends</dt><dd id="session-ends">${
        ends ? html`at the latest ${utc(ends)}, ${fromNow(ends, now)} <span class="muted">(<code>session_expires_at</code> in the ID token)</span>` : 'not stated in the ID token'
      }</dd>
</dl>
<form method="post" action="/logout" class="inline">
<input type="hidden" name="csrf" value="${session.csrf}">
<button type="submit">Sign out</button>
</form>

<h2>Session warnings come from the SDK</h2>
<p>The notices at the bottom of the page and the countdown dialog are not written by this app. They come from the Portcullis session SDK: the page loads <code>${portcullisUrl}/sdk/session.js</code> and adds one element, <code>&lt;portcullis-session-timer&gt;</code>, which reads your live session status from Portcullis.</p>
<ul>
<li>Portcullis ends a session after <strong>24 hours without activity</strong> or <strong>7 days after sign-in</strong>, whichever comes first (the defaults; an operator or an organization can set shorter limits). Using this page counts as activity.</li>
<li>The SDK shows a notice <strong>4 hours</strong> and <strong>5 minutes</strong> before the end, then in the <strong>last minute</strong> a dialog with a countdown: <em>Stay signed in</em> when the idle limit is near, <em>Sign in again</em> when the 7-day limit is.</li>
<li>At zero it sends the browser to this app’s <code>/logout</code>, which ends the app’s session and brings you back here.</li>
</ul>
<p class="hint">The time above is the latest end, fixed when you signed in. The idle end moves with your activity (in any app), which is why the SDK asks Portcullis instead of trusting this page.</p>

<h2>ID token claims</h2>
<p>What this app received and validated (signature, issuer, audience, expiry, nonce). The email comes from the userinfo endpoint.</p>
<div class="table-wrap">
<table id="id-token-claims">
<thead><tr><th scope="col">Claim</th><th scope="col">Value</th><th scope="col">Meaning</th></tr></thead>
<tbody>${claimRows}</tbody>
</table>
</div>`,
      { timer: true },
    );
  }

  function errorPage(reply: FastifyReply, status: number, title: string, message: Part, action: Html = html`<p><a class="button" href="/">Back to the start</a></p>`): FastifyReply {
    return page(reply, status, title, html`<h1>${title}</h1>${notice('error', message)}${action}`);
  }

  async function configurationOrPage(reply: FastifyReply): Promise<oidc.Configuration | null> {
    try {
      return await configuration();
    } catch (error) {
      log(`example app: discovery of ${issuer} failed: ${error instanceof Error ? error.message : String(error)}`);
      errorPage(
        reply,
        502,
        'Portcullis is not reachable',
        html`This app could not read <code>${issuer}/.well-known/openid-configuration</code>. Is Portcullis running (<code>npm start</code>)?`,
        html`<p><a class="button" href="/login">Try again</a></p>`,
      );
      return null;
    }
  }

  // ----- Server

  const server = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  await server.register(cookie);
  await server.register(formbody);

  const csp = [
    "default-src 'none'",
    // The session SDK is a module script served by Portcullis; this app has no script of its own.
    `script-src 'self' ${portcullisOrigin}`,
    // The SDK reads and reports the session status at Portcullis.
    `connect-src ${portcullisOrigin}`,
    "style-src 'self'",
    "img-src 'self'",
    // The Sign out form redirects to Portcullis' end-session endpoint; browsers check form-action on that redirect too.
    `form-action 'self' ${portcullisOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  server.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', csp);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });

  server.setNotFoundHandler((_request, reply) => errorPage(reply, 404, 'Page not found', 'There is nothing at this address.'));
  server.setErrorHandler((error, _request, reply) => {
    const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
    if (status >= 500) log(`example app: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return errorPage(reply, status, status >= 500 ? 'Something went wrong' : 'Bad request', status >= 500 ? 'The example app hit an error; see its terminal.' : 'The request could not be read.');
  });

  server.get('/demo.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(css));
  server.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  server.get('/', async (request: FastifyRequest<{ Querystring: { notice?: string; state?: string } }>, reply) => {
    const current = currentSession(request);
    if (current) return signedInHome(reply, current.session, null);
    let banner: Html | null = NOTICES[String(request.query.notice ?? '')]?.() ?? null;
    // Back from RP-initiated logout: Portcullis appends the state we sent.
    const state = request.query.state;
    if (typeof state === 'string' && pendingLogouts.delete(state)) banner = NOTICES['signed-out']!();
    const cookieId = request.cookies[SESSION_COOKIE];
    if (cookieId) {
      if (tombstones.delete(cookieId)) banner ??= NOTICES.backchannel!();
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
    }
    return signedOutHome(reply, banner);
  });

  server.get('/login', async (_request, reply) => {
    const config = await configurationOrPage(reply);
    if (!config) return reply;
    const login: PendingLogin = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      expiresAt: Date.now() + LOGIN_TTL_MS,
    };
    const loginId = randomId();
    pendingLogins.set(loginId, login);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${appUrl}/callback`,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    // Lax: the cookie comes back on Portcullis' top-level redirect to /callback.
    reply.setCookie(LOGIN_COOKIE, loginId, { ...cookieOptions, path: '/callback', maxAge: LOGIN_TTL_MS / 1000 });
    return reply.redirect(url.href, 303);
  });

  server.get('/callback', async (request, reply) => {
    const loginId = request.cookies[LOGIN_COOKIE];
    const login = loginId ? pendingLogins.get(loginId) : undefined;
    reply.clearCookie(LOGIN_COOKIE, { ...cookieOptions, path: '/callback' });
    if (loginId) pendingLogins.delete(loginId); // single use, whatever happens next
    if (!login || login.expiresAt <= Date.now()) {
      return errorPage(reply, 400, 'Sign-in not started here', 'This sign-in was not started from this browser, or it took longer than 10 minutes.', html`<p><a class="button" href="/login">Sign in again</a></p>`);
    }
    const config = await configurationOrPage(reply);
    if (!config) return reply;
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(request.url, appUrl), {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      const message =
        error instanceof oidc.AuthorizationResponseError
          ? `Portcullis answered ${error.error}${error.error_description ? `: ${error.error_description}` : ''}.`
          : error instanceof Error
            ? error.message
            : 'unknown error';
      return errorPage(reply, 400, 'Sign-in did not complete', message, html`<p><a class="button" href="/login">Try again</a></p>`);
    }
    const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
    const sub = String(claims.sub);
    // Portcullis keeps scope claims such as email out of the ID token when it issues an access token: ask userinfo.
    let email: string | null = typeof claims.email === 'string' ? claims.email : null;
    try {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
      if (typeof info.email === 'string') email = info.email;
    } catch (error) {
      log(`example app: userinfo failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const endsAt = typeof claims.session_expires_at === 'number' ? claims.session_expires_at : null;
    const now = Date.now();
    const session: AppSession = {
      csrf: randomId(),
      sub,
      sid: typeof claims.sid === 'string' ? claims.sid : null,
      email,
      amr: Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [],
      portcullisSessionEndsAt: endsAt,
      claims,
      idToken: tokens.id_token!,
      signedInAt: now,
      expiresAt: endsAt ? endsAt * 1000 : now + FALLBACK_SESSION_MS,
    };
    // A new session id at every sign-in (no session fixation); the previous one, if any, ends.
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) sessions.delete(previous);
    const id = randomId();
    sessions.set(id, session);
    reply.setCookie(SESSION_COOKIE, id, cookieOptions);
    log(`example app: signed in ${email ?? sub} (sid ${session.sid ?? 'none'})`);
    return reply.redirect('/', 303);
  });

  // The session SDK's logout-url: it navigates here (a GET) when the Portcullis session has ended, at zero or when the
  // status says the session is no longer active. A GET carries no CSRF token and anyone can link to it, so it does the
  // one thing that is harmless if a third party triggers it: it ends this app's own local session. It never touches
  // the Portcullis session (only the CSRF-checked POST below does), and it ignores the SDK's ?next= so that it cannot
  // be used as an open redirect. At worst another site signs someone out of this demo, which is acceptable here; a real
  // app could show a page with a button instead, as Portcullis' own /session/ended does.
  server.get('/logout', async (request, reply) => {
    endLocalSession(request, reply);
    return reply.redirect('/?notice=ended', 303);
  });

  // The Sign out button: ends the app session, then RP-initiated logout ends the Portcullis session too.
  server.post('/logout', async (request: FastifyRequest<{ Body: { csrf?: unknown } | undefined }>, reply) => {
    const current = currentSession(request);
    if (!current) return reply.redirect('/', 303);
    const submitted = request.body?.csrf;
    if (typeof submitted !== 'string' || !sameSecret(submitted, current.session.csrf)) {
      return errorPage(reply, 403, 'Sign-out not confirmed', 'The form was not sent from this app’s page (missing or wrong CSRF token). Use the Sign out button on the home page.');
    }
    const config = await configurationOrPage(reply);
    if (!config) return reply;
    endLocalSession(request, reply);
    const state = randomId(16);
    pendingLogouts.set(state, Date.now() + LOGOUT_STATE_TTL_MS);
    const url = oidc.buildEndSessionUrl(config, {
      id_token_hint: current.session.idToken,
      post_logout_redirect_uri: `${appUrl}/`,
      state,
    });
    log(`example app: signing out ${current.session.email ?? current.session.sub} (RP-initiated logout)`);
    return reply.redirect(url.href, 303);
  });

  // Back-channel logout: Portcullis POSTs a signed logout token here, server to server, when a Portcullis session ends.
  // No cookie and no CSRF token: the token's signature is the authentication.
  server.post('/backchannel-logout', async (request: FastifyRequest<{ Body: Record<string, unknown> | undefined }>, reply) => {
    reply.header('cache-control', 'no-store');
    const token = request.body?.logout_token;
    if (typeof token !== 'string' || !token) return reply.code(400).send({ error: 'invalid_request', error_description: 'logout_token is required' });
    let who: { sub: string | null; sid: string | null };
    try {
      who = await verifyLogoutToken(token);
    } catch (error) {
      // Invalid, or not checkable right now (Portcullis' keys unreachable): either way it cannot be validated (400).
      log(`example app: refused a back-channel logout token (${error instanceof Error ? error.message : String(error)})`);
      return reply.code(400).send({ error: 'invalid_request', error_description: 'the logout token could not be validated' });
    }
    let ended = 0;
    for (const [id, s] of sessions) {
      // With a sid, that Portcullis session only; with only a sub, every session of that user.
      const match = who.sid ? s.sid === who.sid && (!who.sub || s.sub === who.sub) : s.sub === who.sub;
      if (!match) continue;
      sessions.delete(id);
      tombstones.set(id, Date.now() + TOMBSTONE_TTL_MS);
      ended += 1;
    }
    log(`example app: back-channel logout for ${who.sid ? `sid ${who.sid}` : `sub ${who.sub}`} ended ${ended} session(s)`);
    return reply.code(200).send();
  });

  server.addHook('onClose', async () => clearInterval(sweep));
  await server.listen({ port, host: options.host ?? 'localhost' });
  return {
    url: appUrl,
    server,
    activeSessions: () => sessions.size,
    close: () => server.close(),
  };
}

if (isDirectRun()) {
  const port = Number(process.env.PORT ?? 4000);
  const portcullisUrl = process.env.PORTCULLIS_URL ?? 'http://localhost:3000';
  const app = await startDemoApp({ port, portcullisUrl });
  console.log(`Portcullis example app on ${app.url}, signing in through ${portcullisUrl}/oidc as ${EXAMPLE_CLIENT_ID}`);
  if (port !== 4000) {
    console.log(`Note: Portcullis registers ${EXAMPLE_CLIENT_ID} for http://localhost:4000; on port ${port} the redirect URI will not match.`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.close().then(() => process.exit(0));
    });
  }
}
