// End to end over HTTP (Fastify inject, the real app on every backend): enforced session limits. Idle and absolute
// expiry of the Portcullis session, the /session/status contract and its CORS, refresh tokens and SSO bound to the
// session, back-channel logout to a real app on loopback, organization limits, and /session/ended.
// Our limits follow the injected clock (moved forward, never slept); oidc-provider's own token expiry uses the wall clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';
import { appBackends, randomIpv4, type BackendApp } from '../helpers/protection.js';
import { FakeClock, browserFrom, csrfFrom, signIn } from '../helpers/account-browser.js';
import {
  authorizeUrl,
  authorizeWithLogin,
  Browser,
  exchangeCode,
  followUntilExternal,
  hiddenCsrf,
  location,
  pkcePair,
  REDIRECT_URI,
  tokenRequest,
} from '../helpers/oidc-flow.js';
import { addClient } from '../../src/admin/clients.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { setOrgSessionLimits } from '../../src/admin/org-session-limits.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import type { Session, User } from '../../src/domain/types.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const IDLE = 10 * M;
const ABSOLUTE = H;
const PASSWORD = 'correct horse battery staple 42';
const APP_ORIGIN = new URL(REDIRECT_URI).origin; // https://app.example.com, the seeded client's origin
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const SESSION_COOKIE = 'portcullis_session';

const sec = (ms: number): number => Math.floor(ms / 1000);
/** Status end times round up, so the SDK's zero never comes before the server's end. */
const endSec = (ms: number): number => Math.ceil(ms / 1000);

type Status = Record<string, unknown>;

function json(response: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

function decodeJwt(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: string; signature: Buffer } {
  const [h, p, s] = jwt.split('.');
  assert.ok(h && p && s, `a compact JWS: ${jwt.slice(0, 40)}…`);
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** A registered app's back-channel logout endpoint on loopback: records every POST. */
interface LogoutReceiver {
  uri: string;
  received: { path: string; contentType: string; body: string }[];
  close(): Promise<void>;
}

async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const received: LogoutReceiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') received.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.method === 'POST' ? 200 : 405, { 'cache-control': 'no-store' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/backchannel-logout`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

for (const backend of appBackends()) {
  describe(`enforced session limits, end to end (${backend.name})`, () => {
    let created: BackendApp;
    let app: TestApp;
    const clock = new FakeClock(Date.now());
    const CLIENT_ID = 'spa-app';
    let userCount = 0;

    /** A verified user with the test password, optionally in an organization. */
    async function newUser(tag: string, orgName?: string): Promise<User> {
      userCount += 1;
      const email = `${tag}-${userCount}@example.test`;
      created.track(email);
      const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: PASSWORD, emailVerified: true, ...(orgName ? { orgName, role: 'member' as const } : {}) });
      created.track(user.id);
      return user;
    }

    /** A browser with its own client IP (so runs sharing a Redis never share counters). */
    function newBrowser(): Browser {
      const ip = randomIpv4();
      created.track(ip);
      return browserFrom(app, { ip });
    }

    /** Signs in at /login and returns the browser and the new session (created at the current clock). */
    async function signedIn(user: User): Promise<{ browser: Browser; session: Session }> {
      const browser = newBrowser();
      await signIn(browser, user.email, PASSWORD);
      const sessions = await app.store.sessions.listActiveForUser(user.id);
      assert.equal(sessions.length, 1, 'one open session');
      assert.equal(sessions[0]!.createdAt, clock.now());
      return { browser, session: sessions[0]! };
    }

    async function status(browser: Browser, headers: Record<string, string> = {}): Promise<Status> {
      const response = await browser.get('/session/status', headers);
      assert.equal(response.statusCode, 200, response.body);
      return json(response);
    }

    function postActivity(browser: Browser, headers: Record<string, string> = { 'x-portcullis-activity': '1' }): Promise<LightMyRequestResponse> {
      return browser.request({ method: 'POST', url: '/session/status', headers });
    }

    async function activity(browser: Browser): Promise<Status> {
      const response = await postActivity(browser);
      assert.equal(response.statusCode, 200, response.body);
      return json(response);
    }

    async function eventCount(userId: string, code: 'session_expired_idle' | 'session_expired_absolute' | 'logout'): Promise<number> {
      return (await app.store.events.list({ userId, code, limit: 100 })).length;
    }

    async function refresh(refreshToken: string, clientId = CLIENT_ID) {
      return tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    }

    /** Full OIDC login in a fresh browser; returns the browser, the tokens and the Portcullis session behind them. */
    async function oidcLogin(user: User, clientId = CLIENT_ID, options: { offline?: boolean } = {}) {
      const browser = newBrowser();
      const result = await authorizeWithLogin(
        app,
        { clientId, email: user.email, password: PASSWORD },
        { browser, ...(options.offline ? { scope: 'openid email offline_access', extra: { prompt: 'consent' } } : {}) },
      );
      const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.ok(tokens.body.refresh_token, `a refresh token: ${JSON.stringify(tokens.body)}`);
      assert.ok(tokens.body.id_token);
      const sessions = await app.store.sessions.listActiveForUser(user.id);
      assert.equal(sessions.length, 1, 'one Portcullis session');
      return { browser, tokens: tokens.body, session: sessions[0]! };
    }

    before(async () => {
      created = await backend.create({ sessionIdleTimeout: '10m', sessionAbsoluteTimeout: '1h', tokens: { accessTokenTtl: '1h' } }, { clock });
      app = created.app;
      // The registered app whose origin (https://app.example.com) the status endpoint allows over CORS.
      await addClient(app.store, app.clock, { clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], public: true, firstParty: true });
    });
    after(async () => {
      await created?.dispose();
    });

    // -----------------------------------------------------------------------------------------------------------
    test('1. idle expiry: active at 9 min, ended at 10 min, one session_expired_idle event however many sweeps', async () => {
      const user = await newUser('idle');
      const { browser, session } = await signedIn(user);
      const t0 = session.createdAt;

      clock.advance(9 * M);
      const before9 = await status(browser);
      assert.equal(before9.active, true, JSON.stringify(before9));
      assert.equal(before9.idle_expires_at, endSec(t0 + IDLE));
      assert.equal(before9.absolute_expires_at, endSec(t0 + ABSOLUTE));
      assert.equal(before9.ends_by, 'idle');
      // Polling the status is no activity.
      assert.equal((await app.store.sessions.findById(session.id))!.lastSeenAt, t0);

      clock.advance(1 * M);
      const expired = await status(browser);
      assert.deepEqual(expired, { active: false, server_time: sec(t0 + IDLE), reason: 'expired_idle' });
      const account = await browser.get('/account');
      assert.equal(account.statusCode, 303);
      assert.equal(location(account), '/login?next=/account');

      assert.equal(await eventCount(user.id, 'session_expired_idle'), 0, 'nothing is recorded before a sweep');
      await Promise.all([app.runSessionSweep(), app.runSessionSweep()]);
      await app.runSessionSweep();
      assert.equal(await eventCount(user.id, 'session_expired_idle'), 1);
      assert.equal(await eventCount(user.id, 'session_expired_absolute'), 0);
      const [event] = await app.store.events.list({ userId: user.id, code: 'session_expired_idle', limit: 10 });
      assert.equal(event!.reason, 'idle_limit');
      assert.equal((event!.details as Record<string, unknown>).ended_at, t0 + IDLE);
      const stored = await app.store.sessions.findById(session.id);
      assert.ok(stored?.revokedAt !== null, 'the sweep ended the session');
      assert.equal(stored!.endReason, 'idle');

      clock.advance(1 * M);
      assert.deepEqual(await status(browser), { active: false, server_time: sec(clock.now()), reason: 'expired_idle' });
    });

    // -----------------------------------------------------------------------------------------------------------
    test('2. absolute expiry despite activity every 2 minutes; idle_expires_at never passes absolute_expires_at', async () => {
      const user = await newUser('absolute');
      const { browser, session } = await signedIn(user);
      const t0 = session.createdAt;

      for (let elapsed = 2 * M; elapsed < ABSOLUTE; elapsed += 2 * M) {
        clock.advance(2 * M);
        const body = await activity(browser);
        assert.equal(body.active, true, `at ${elapsed / M} min: ${JSON.stringify(body)}`);
        const idle = body.idle_expires_at as number;
        const absolute = body.absolute_expires_at as number;
        assert.equal(absolute, endSec(t0 + ABSOLUTE));
        assert.ok(idle <= absolute, `at ${elapsed / M} min idle ${idle} > absolute ${absolute}`);
        assert.equal(idle, endSec(Math.min(t0 + elapsed + IDLE, t0 + ABSOLUTE)), `at ${elapsed / M} min`);
        assert.equal(body.expires_at, Math.min(idle, absolute));
        assert.equal(body.ends_by, t0 + elapsed + IDLE >= t0 + ABSOLUTE ? 'absolute' : 'idle', `at ${elapsed / M} min`);
      }
      assert.equal(clock.now(), t0 + ABSOLUTE - 2 * M);
      assert.equal((await browser.get('/account')).statusCode, 200, 'still signed in 58 minutes in, well past the idle limit');

      clock.advance(2 * M);
      assert.deepEqual(await activity(browser), { active: false, server_time: sec(t0 + ABSOLUTE), reason: 'expired_absolute' });
      assert.equal((await browser.get('/account')).statusCode, 303);

      await app.runSessionSweep();
      await app.runSessionSweep();
      assert.equal(await eventCount(user.id, 'session_expired_absolute'), 1);
      assert.equal(await eventCount(user.id, 'session_expired_idle'), 0);
      assert.equal((await app.store.sessions.findById(session.id))!.endReason, 'absolute');
      assert.equal((await status(browser)).reason, 'expired_absolute');
    });

    // -----------------------------------------------------------------------------------------------------------
    test('3. POST activity extends the idle limit at most once a minute; GET polling never does', async () => {
      const user = await newUser('extend');
      const { browser, session } = await signedIn(user);
      const t0 = session.createdAt;
      assert.equal((await status(browser)).idle_expires_at, endSec(t0 + IDLE));

      clock.advance(3 * M);
      assert.equal((await activity(browser)).idle_expires_at, endSec(t0 + 3 * M + IDLE), 'moved forward by the 3 minutes elapsed');
      assert.equal((await app.store.sessions.findById(session.id))!.lastSeenAt, t0 + 3 * M);

      clock.advance(20 * S);
      const throttled = await activity(browser);
      assert.equal(throttled.idle_expires_at, endSec(t0 + 3 * M + IDLE), '20 s after the last write: nothing changes');
      assert.equal((await app.store.sessions.findById(session.id))!.lastSeenAt, t0 + 3 * M);

      clock.advance(40 * S);
      assert.equal((await activity(browser)).idle_expires_at, endSec(t0 + 4 * M + IDLE), 'a minute after the last write it moves again');

      // A second session that only polls with GET, every minute for 15 minutes.
      const poller = await signedIn(await newUser('poll'));
      const t1 = poller.session.createdAt;
      for (let minute = 1; minute <= 15; minute++) {
        clock.advance(M);
        const body = await status(poller.browser);
        if (minute < 10) {
          assert.equal(body.active, true, `minute ${minute}`);
          assert.equal(body.idle_expires_at, endSec(t1 + IDLE), `minute ${minute}: GET does not extend`);
        } else {
          assert.equal(body.active, false, `minute ${minute}: ${JSON.stringify(body)}`);
          assert.equal(body.reason, 'expired_idle');
        }
      }
      assert.equal((await app.store.sessions.findById(poller.session.id))!.lastSeenAt, t1);
    });

    // -----------------------------------------------------------------------------------------------------------
    test('4. status contract: header required on POST, CORS for registered origins only, integer fields, the SDK', async () => {
      const user = await newUser('contract');
      const { browser, session } = await signedIn(user);
      const t0 = session.createdAt;
      clock.advance(2 * M);

      // POST without the header: a clear 400, as JSON for APIs and as a page for browsers, and no activity recorded.
      const bare = await postActivity(browser, {});
      assert.equal(bare.statusCode, 400);
      assert.match(String(bare.headers['content-type']), /application\/json/);
      assert.equal(json(bare).error, 'invalid_input');
      assert.match(String(json(bare).message), /X-Portcullis-Activity: 1/);
      const wrongValue = await postActivity(browser, { 'x-portcullis-activity': 'yes' });
      assert.equal(wrongValue.statusCode, 400);
      const html = await postActivity(browser, { accept: 'text/html' });
      assert.equal(html.statusCode, 400);
      assert.match(String(html.headers['content-type']), /text\/html/);
      assert.match(html.body, /X-Portcullis-Activity: 1/);
      assert.equal((await app.store.sessions.findById(session.id))!.lastSeenAt, t0, 'refused POSTs record no activity');
      assert.equal((await status(browser)).idle_expires_at, endSec(t0 + IDLE));

      // Preflight from the registered app's origin.
      const preflight = await browser.request({
        method: 'OPTIONS',
        url: '/session/status',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-portcullis-activity' },
      });
      assert.ok(preflight.statusCode === 204 || preflight.statusCode === 200, `preflight: ${preflight.statusCode}`);
      assert.equal(preflight.headers['access-control-allow-origin'], APP_ORIGIN);
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      const allowHeaders = String(preflight.headers['access-control-allow-headers'] ?? '').toLowerCase().split(/\s*,\s*/);
      assert.ok(allowHeaders.includes('x-portcullis-activity'), `allow-headers: ${allowHeaders.join(', ')}`);
      assert.match(String(preflight.headers['access-control-allow-methods']), /\bPOST\b/);

      // An unregistered origin gets no CORS grant, on the preflight and on GET.
      for (const method of ['OPTIONS', 'GET'] as const) {
        const foreign = await browser.request({ method, url: '/session/status', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
        assert.equal(foreign.headers['access-control-allow-origin'], undefined, `${method} from an unregistered origin`);
        assert.equal(foreign.headers['access-control-allow-credentials'], undefined, `${method} from an unregistered origin`);
      }

      // GET and POST from the registered origin carry the CORS grant (with credentials).
      const cross = await browser.get('/session/status', { origin: APP_ORIGIN });
      assert.equal(cross.statusCode, 200);
      assert.equal(cross.headers['access-control-allow-origin'], APP_ORIGIN);
      assert.equal(cross.headers['access-control-allow-credentials'], 'true');
      assert.match(String(cross.headers.vary), /origin/i);
      assert.match(String(cross.headers['cache-control']), /no-store/);
      const crossPost = await postActivity(browser, { origin: APP_ORIGIN, 'x-portcullis-activity': '1' });
      assert.equal(crossPost.statusCode, 200);
      assert.equal(crossPost.headers['access-control-allow-origin'], APP_ORIGIN);

      // The body: epoch seconds, all integers; expires_at is the earlier of the two limits.
      const now = clock.now();
      const body = json(crossPost);
      for (const field of ['server_time', 'idle_expires_at', 'absolute_expires_at', 'expires_at']) {
        assert.ok(Number.isInteger(body[field]), `${field} is an integer: ${String(body[field])}`);
      }
      assert.equal(body.active, true);
      assert.equal(body.server_time, sec(now));
      assert.equal(body.idle_expires_at, endSec(now + IDLE), 'the POST recorded activity');
      assert.equal(body.absolute_expires_at, endSec(t0 + ABSOLUTE));
      assert.equal(body.expires_at, Math.min(body.idle_expires_at as number, body.absolute_expires_at as number));
      assert.equal(body.ends_by, 'idle');

      // Without a session cookie, or with a forged one.
      const anonymous = newBrowser();
      assert.deepEqual(await status(anonymous), { active: false, server_time: sec(now), reason: 'none' });
      const forged = await anonymous.get('/session/status', { cookie: `${SESSION_COOKIE}=${session.id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` });
      assert.deepEqual(json(forged), { active: false, server_time: sec(now), reason: 'none' });

      // The SDK: JavaScript anyone may load.
      const sdk = await anonymous.get('/sdk/session.js');
      assert.equal(sdk.statusCode, 200);
      assert.match(String(sdk.headers['content-type']), /^text\/javascript/);
      assert.equal(sdk.headers['access-control-allow-origin'], '*');
      assert.match(sdk.body, /portcullis-session-timer/);
    });

    // -----------------------------------------------------------------------------------------------------------
    test('5. refresh tokens and token lifetimes are bound to the session: refused after the idle or the absolute limit', async () => {
      // (a) Idle limit.
      const idleUser = await newUser('refresh-idle');
      const first = await oidcLogin(idleUser, CLIENT_ID, { offline: true });
      const t0 = first.session.createdAt;
      assert.match(first.tokens.scope ?? '', /\boffline_access\b/, `scope: ${first.tokens.scope}`);
      const accessTtl = Number(first.tokens.expires_in);
      assert.ok(accessTtl <= sec(IDLE) && accessTtl > sec(IDLE) - 5, `expires_in ${accessTtl} is capped at the 600 s left (accessTokenTtl is 1h)`);
      const idClaims = decodeJwt(first.tokens.id_token!).payload;
      assert.equal(idClaims.sub, idleUser.id);
      assert.equal(idClaims.session_expires_at, sec(t0 + ABSOLUTE));
      assert.ok((idClaims.exp as number) - (idClaims.iat as number) <= sec(IDLE), `ID token lifetime ${(idClaims.exp as number) - (idClaims.iat as number)} capped too`);

      clock.advance(5 * M);
      const refreshed = await refresh(first.tokens.refresh_token!);
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      const refreshedTtl = Number(refreshed.body.expires_in);
      assert.ok(refreshedTtl <= sec(5 * M) && refreshedTtl > sec(5 * M) - 5, `after 5 idle minutes expires_in ${refreshedTtl} ≤ 300`);
      if (refreshed.body.id_token) assert.equal(decodeJwt(refreshed.body.id_token).payload.session_expires_at, sec(t0 + ABSOLUTE));

      // 11 minutes without activity: the session is over (no sweep yet), and so is the refresh token issued 6 minutes ago.
      clock.advance(6 * M);
      const afterIdle = await refresh(refreshed.body.refresh_token!);
      assert.equal(afterIdle.status, 400, JSON.stringify(afterIdle.body));
      assert.equal(afterIdle.body.error, 'invalid_grant');

      // (b) Absolute limit, with activity reported every 2 minutes and a refresh every 8.
      const busyUser = await newUser('refresh-absolute');
      const second = await oidcLogin(busyUser, CLIENT_ID, { offline: true });
      const t1 = second.session.createdAt;
      let refreshToken = second.tokens.refresh_token!;
      for (let elapsed = 2 * M; elapsed < ABSOLUTE; elapsed += 2 * M) {
        clock.advance(2 * M);
        assert.equal((await activity(second.browser)).active, true, `at ${elapsed / M} min`);
        if (elapsed % (8 * M) === 0 || elapsed === ABSOLUTE - 2 * M) {
          const next = await refresh(refreshToken);
          assert.equal(next.status, 200, `refresh at ${elapsed / M} min: ${JSON.stringify(next.body)}`);
          refreshToken = next.body.refresh_token!;
          const left = sec(Math.min(t1 + elapsed + IDLE, t1 + ABSOLUTE) - clock.now());
          assert.ok(Number(next.body.expires_in) <= left, `at ${elapsed / M} min expires_in ${next.body.expires_in} ≤ ${left}`);
        }
      }
      clock.advance(2 * M);
      assert.equal((await activity(second.browser)).reason, 'expired_absolute');
      const afterAbsolute = await refresh(refreshToken);
      assert.equal(afterAbsolute.status, 400, JSON.stringify(afterAbsolute.body));
      assert.equal(afterAbsolute.body.error, 'invalid_grant');
    });

    // -----------------------------------------------------------------------------------------------------------
    test('6. SSO needs a live Portcullis session: prompt=none gets login_required, otherwise the login page', async () => {
      const user = await newUser('sso');
      const { browser } = await oidcLogin(user);
      const authorize = (extra: Record<string, string> = {}) =>
        browser.get(
          authorizeUrl({ client_id: CLIENT_ID, response_type: 'code', scope: 'openid email', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's', ...extra }),
        );

      // While the session lives, both are silent.
      clock.advance(M);
      for (const extra of [{ prompt: 'none' }, {}] as Record<string, string>[]) {
        const silent = new URL(location(await followUntilExternal(browser, await authorize(extra))));
        assert.equal(`${silent.origin}${silent.pathname}`, REDIRECT_URI, `silent SSO ${JSON.stringify(extra)}`);
        assert.ok(silent.searchParams.get('code'), `a code while active ${JSON.stringify(extra)}: ${silent.href}`);
      }

      clock.advance(IDLE + M);
      const none = new URL(location(await followUntilExternal(browser, await authorize({ prompt: 'none' }))));
      assert.equal(`${none.origin}${none.pathname}`, REDIRECT_URI);
      assert.equal(none.searchParams.get('error'), 'login_required', none.href);
      assert.equal(none.searchParams.get('code'), null);

      const page = await followUntilExternal(browser, await authorize());
      assert.equal(page.statusCode, 200, `expected the login page, got ${page.statusCode} ${String(page.headers.location ?? '')}`);
      assert.match(page.body, /name="password"/);
      assert.match(page.body, /name="email"/);
    });

    // -----------------------------------------------------------------------------------------------------------
    describe('7. back-channel logout to a registered app on loopback', () => {
      let receiver: LogoutReceiver;
      let jwks: JsonWebKey[];
      let clientCount = 0;

      before(async () => {
        receiver = await startLogoutReceiver();
        const response = await app.server.inject({ method: 'GET', url: '/oidc/jwks' });
        assert.equal(response.statusCode, 200);
        jwks = (json(response).keys as JsonWebKey[]) ?? [];
        assert.ok(jwks.length > 0, 'the provider publishes its keys');
      });
      after(async () => {
        await receiver?.close();
      });

      /** A first-party public client with a back-channel logout URI (and its post-logout redirect). */
      async function registerApp(): Promise<string> {
        clientCount += 1;
        const clientId = `bcl-app-${clientCount}`;
        await addClient(app.store, app.clock, { clientId, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [`${APP_ORIGIN}/logged-out`], public: true, firstParty: true });
        const record = await app.store.clients.find(clientId);
        assert.ok(record);
        await app.store.clients.upsert({
          ...record,
          metadata: { ...record.metadata, backchannel_logout_uri: `${receiver.uri}?client=${clientId}`, backchannel_logout_session_required: true },
        });
        return clientId;
      }

      /** Checks one logout token: its claims and its signature against the published JWKS. */
      function checkLogoutToken(delivery: LogoutReceiver['received'][number], expected: { clientId: string; sub: string; sid: unknown }): void {
        assert.match(delivery.contentType, /application\/x-www-form-urlencoded/);
        const token = new URLSearchParams(delivery.body).get('logout_token');
        assert.ok(token, `a logout_token: ${delivery.body.slice(0, 200)}`);
        const { header, payload, signingInput, signature } = decodeJwt(token);
        assert.equal(payload.iss, app.config.issuer);
        assert.deepEqual([payload.aud].flat(), [expected.clientId]);
        assert.equal(payload.sub, expected.sub);
        assert.equal(typeof payload.sid, 'string');
        if (expected.sid !== undefined) assert.equal(payload.sid, expected.sid, 'the sid of the ID token');
        assert.ok(payload.events && typeof payload.events === 'object' && BACKCHANNEL_EVENT in payload.events, JSON.stringify(payload.events));
        assert.equal('nonce' in payload, false, 'a logout token never carries a nonce');
        assert.ok(typeof payload.jti === 'string' && typeof payload.iat === 'number');
        assert.equal(header.alg, 'RS256');
        const jwk = jwks.find((k) => k.kid === header.kid);
        assert.ok(jwk, `a published key with kid ${String(header.kid)}`);
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        assert.equal(verify('RSA-SHA256', Buffer.from(signingInput), key, signature), true, 'signed by the provider');
        assert.equal(verify('RSA-SHA256', Buffer.from(`${signingInput}x`), key, signature), false, 'the check can fail');
      }

      const deliveriesTo = (clientId: string) => receiver.received.filter((d) => d.path.endsWith(`client=${clientId}`));

      test('(a) an idle-expired session: one logout token after the sweep, none after another, the refresh token dies', async () => {
        const clientId = await registerApp();
        const user = await newUser('bcl-idle');
        const { tokens } = await oidcLogin(user, clientId);
        const idSid = decodeJwt(tokens.id_token!).payload.sid;

        clock.advance(IDLE + M);
        assert.equal(deliveriesTo(clientId).length, 0, 'nothing before the sweep');
        // Two sweeps at once (two nodes): the session is handed to one of them.
        const results = await Promise.all([app.runSessionSweep(), app.runSessionSweep()]);
        const result = { expired: results[0].expired + results[1].expired, notified: results[0].notified + results[1].notified };
        const failures = app.logs.filter((l) => l.includes('back-channel logout delivery failed')).map((l) => /caused by: [^\\"]+/.exec(l)?.[0] ?? l.slice(0, 300));
        assert.ok(result.notified >= 1, `${JSON.stringify(result)}; delivery failures: ${failures.join(' | ')}`);
        assert.equal(deliveriesTo(clientId).length, 1);
        checkLogoutToken(deliveriesTo(clientId)[0]!, { clientId, sub: user.id, sid: idSid });
        assert.equal(await eventCount(user.id, 'session_expired_idle'), 1);

        await app.runSessionSweep();
        assert.equal(deliveriesTo(clientId).length, 1, 'a second sweep sends nothing more');

        const refused = await refresh(tokens.refresh_token!, clientId);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
      });

      test('(b) sign-out on the account page: the app is told at the next sweep', async () => {
        const clientId = await registerApp();
        const user = await newUser('bcl-account');
        const { browser, tokens } = await oidcLogin(user, clientId);
        const idSid = decodeJwt(tokens.id_token!).payload.sid;

        const csrf = await csrfFrom(browser, '/account');
        const signOut = await browser.postForm('/logout', { csrf });
        assert.equal(signOut.statusCode, 200, signOut.body.slice(0, 300));
        assert.equal(browser.jar.get(SESSION_COOKIE), undefined, 'the cookie is cleared');
        assert.equal(await eventCount(user.id, 'logout'), 1);

        await app.runSessionSweep();
        assert.equal(deliveriesTo(clientId).length, 1);
        checkLogoutToken(deliveriesTo(clientId)[0]!, { clientId, sub: user.id, sid: idSid });
        await app.runSessionSweep();
        assert.equal(deliveriesTo(clientId).length, 1);

        const refused = await refresh(tokens.refresh_token!, clientId);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
      });

      test('(b2) "Log out everywhere" on the account page: every app of every session is told at the next sweep', async () => {
        const clientId = await registerApp();
        const user = await newUser('bcl-everywhere');
        const first = await oidcLogin(user, clientId);
        // A second browser, so a second Portcullis session (oidcLogin expects the first one to be alone).
        const secondBrowser = newBrowser();
        const code = await authorizeWithLogin(app, { clientId, email: user.email, password: PASSWORD }, { browser: secondBrowser });
        const secondTokens = await exchangeCode(app.server, { code: code.code, verifier: code.verifier, clientId });
        assert.equal(secondTokens.status, 200);
        const second = { browser: secondBrowser, tokens: secondTokens.body };
        assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 2);
        const sids = [first, second].map((login) => decodeJwt(login.tokens.id_token!).payload.sid);

        const csrf = await csrfFrom(first.browser, '/account');
        const everywhere = await first.browser.postForm('/account/sessions/revoke-all', { csrf });
        assert.ok(everywhere.statusCode < 400, everywhere.body.slice(0, 300));

        await app.runSessionSweep();
        const delivered = deliveriesTo(clientId);
        assert.equal(delivered.length, 2, 'one logout token per ended session');
        const deliveredSids = delivered.map((d) => decodeJwt(new URLSearchParams(d.body).get('logout_token')!).payload.sid).sort();
        assert.deepEqual(deliveredSids, [...sids].sort());
        await app.runSessionSweep();
        assert.equal(deliveriesTo(clientId).length, 2, 'nothing more');
        for (const login of [first, second]) assert.equal((await refresh(login.tokens.refresh_token!, clientId)).body.error, 'invalid_grant');
      });

      test('(c) RP-initiated logout: oidc-provider tells the app, and the sweep sends no duplicate', async () => {
        const clientId = await registerApp();
        const user = await newUser('bcl-rp');
        const { browser, tokens, session } = await oidcLogin(user, clientId);
        const idSid = decodeJwt(tokens.id_token!).payload.sid;
        const postLogout = `${APP_ORIGIN}/logged-out`;

        const ask = await browser.get(
          `/oidc/session/end?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogout, state: 'bye' }).toString()}`,
        );
        assert.equal(ask.statusCode, 200, ask.body.slice(0, 300));
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)?.[1];
        assert.ok(xsrf, 'the logout confirmation form');
        const confirmed = await browser.postForm('/oidc/session/end/confirm', { xsrf, logout: 'yes' });
        assert.equal(confirmed.statusCode, 303, confirmed.body.slice(0, 300));
        assert.equal(location(confirmed), `${postLogout}?state=bye`);

        assert.equal(deliveriesTo(clientId).length, 1, 'oidc-provider delivered the logout token itself');
        checkLogoutToken(deliveriesTo(clientId)[0]!, { clientId, sub: user.id, sid: idSid });
        assert.notEqual((await app.store.sessions.findById(session.id))!.revokedAt, null, 'the Portcullis session ended too');

        await app.runSessionSweep();
        await app.runSessionSweep();
        assert.equal(deliveriesTo(clientId).length, 1, 'no duplicate from the sweep');

        const refused = await refresh(tokens.refresh_token!, clientId);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
      });
    });

    // -----------------------------------------------------------------------------------------------------------
    test("7d. the sweep ends the apps' grants of an ended session: offline tokens die and the Grant itself is gone", async () => {
      const user = await newUser('grant-end');
      const { browser, tokens } = await oidcLogin(user, CLIENT_ID, { offline: true });
      const stored = await app.provider.RefreshToken.find(tokens.refresh_token!);
      assert.ok(stored?.grantId, 'the refresh token is stored with its grant');
      const grantId = stored.grantId;
      assert.ok(await app.provider.Grant.find(grantId), 'the grant exists while the session lives');
      const userinfo = () => app.server.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal((await userinfo()).statusCode, 200);

      const signOut = await browser.postForm('/logout', { csrf: await csrfFrom(browser, '/account') });
      assert.equal(signOut.statusCode, 200);
      await app.runSessionSweep();

      // offline_access tokens are not bound to the provider session by oidc-provider: only the grant's end stops them.
      assert.equal((await userinfo()).statusCode, 401, 'the access token is revoked with the grant');
      const refused = await refresh(tokens.refresh_token!);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal(await app.provider.Grant.find(grantId), undefined, 'the Grant record is destroyed, as oidc-provider does on logout');
    });

    // -----------------------------------------------------------------------------------------------------------
    test('8. organization limits: a 5-minute org idle limit applies to its members only; longer limits are refused', async () => {
      const deployment = { idleMs: app.config.sessionIdleTimeout, absoluteMs: app.config.sessionAbsoluteTimeout };
      assert.deepEqual(deployment, { idleMs: IDLE, absoluteMs: ABSOLUTE });
      const orgName = 'Short Sessions Inc';
      await createOrg({ store: app.store, hasher: app.hasher, clock: app.clock }, orgName);
      const set = await setOrgSessionLimits({ store: app.store, clock: app.clock }, orgName, { idleMs: 5 * M }, deployment);
      assert.equal(set.effective.idleMs, 5 * M);

      const member = await signedIn(await newUser('org-member', orgName));
      const outsider = await signedIn(await newUser('org-outsider'));
      const t0 = clock.now();
      assert.equal((await status(member.browser)).idle_expires_at, endSec(t0 + 5 * M));
      assert.equal((await status(member.browser)).expires_at, endSec(t0 + 5 * M));
      assert.equal((await status(outsider.browser)).idle_expires_at, endSec(t0 + IDLE));

      clock.advance(5 * M);
      assert.equal((await status(member.browser)).reason, 'expired_idle');
      assert.equal((await status(outsider.browser)).active, true);
      assert.equal((await member.browser.get('/account')).statusCode, 303);
      await app.runSessionSweep();
      assert.equal(await eventCount(member.session.userId, 'session_expired_idle'), 1);
      assert.equal(await eventCount(outsider.session.userId, 'session_expired_idle'), 0);

      clock.advance(5 * M);
      assert.equal((await status(outsider.browser)).reason, 'expired_idle');

      for (const tooLong of [{ idleMs: IDLE + M }, { absoluteMs: 2 * H }]) {
        await assert.rejects(setOrgSessionLimits({ store: app.store, clock: app.clock }, orgName, tooLong, deployment), (error: unknown) => {
          assert.ok(isPortcullisError(error) && error.code === 'invalid_input', String(error));
          assert.match(error.publicMessage, /longer than the deployment maximum/);
          return true;
        });
      }
      const org = await app.store.orgs.findByName(orgName);
      assert.equal(org?.sessionIdleMs, 5 * M, 'a refused change keeps the limits');
      assert.equal(org?.sessionAbsoluteMs, null);
    });

    // -----------------------------------------------------------------------------------------------------------
    test('9. /session/ended: a sign-out form while active (GET ends nothing), the ended notice and a same-origin next after', async () => {
      const active = await signedIn(await newUser('ended-active'));
      const page = await active.browser.get('/session/ended?next=/account');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Sign out and sign in again/);
      assert.match(page.body, /<form method="post" action="\/logout">/);
      const csrf = hiddenCsrf(page.body);
      assert.doesNotMatch(page.body, /Your session has ended/);
      const stillOpen = await app.store.sessions.findById(active.session.id);
      assert.equal(stillOpen!.revokedAt, null, 'a GET ends nothing');
      assert.ok(active.browser.jar.get(SESSION_COOKIE), 'the cookie stays');
      assert.equal((await status(active.browser)).active, true);

      const signOut = await active.browser.postForm('/logout', { csrf });
      assert.equal(signOut.statusCode, 200);
      assert.match(signOut.body, /signed out/i);
      const ended = await app.store.sessions.findById(active.session.id);
      assert.notEqual(ended!.revokedAt, null);
      assert.equal(ended!.endReason, 'logout');

      const expired = await signedIn(await newUser('ended-expired'));
      const expiredCookie = expired.browser.jar.get(SESSION_COOKIE);
      assert.ok(expiredCookie);
      clock.advance(IDLE + M);
      const cases: [string, string][] = [
        ['/account?tab=sessions', '/account?tab=sessions'],
        [`${app.config.publicUrl}/account`, '/account'],
        ['https://evil.example/x', '/login?next=/account'],
        ['//evil.example/x', '/login?next=/account'],
      ];
      for (const [next, href] of cases) {
        const response = await expired.browser.request({ method: 'GET', url: `/session/ended?next=${encodeURIComponent(next)}`, headers: { cookie: `${SESSION_COOKIE}=${expiredCookie}` } });
        assert.equal(response.statusCode, 200);
        assert.match(response.body, /Your session has ended/);
        assert.doesNotMatch(response.body, /Sign out and sign in again/);
        assert.ok(response.body.includes(`href="${href}"`), `next=${next} links to ${href}: ${/<a class="button"[^>]*>/.exec(response.body)?.[0]}`);
        assert.doesNotMatch(response.body, /evil\.example/);
      }
      const stored = await app.store.sessions.findById(expired.session.id);
      assert.equal(stored!.revokedAt, null, 'the page itself ends nothing (the sweep does)');
    });
  });
}
