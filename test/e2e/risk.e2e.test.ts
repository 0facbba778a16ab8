// End to end over HTTP (Fastify inject, the real app on every backend): risk assessment of password logins.
// Client IPs come through the trusted loopback proxy as X-Forwarded-For; locations come from the bundled GeoLite2 data;
// time is an injected clock (nothing sleeps, except waiting for the IP-list poll timer, bounded to a few seconds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';
import { appBackends, type AppBackend } from '../helpers/protection.js';
import { FakeClock, deliveredTo, queued } from '../helpers/account-browser.js';
import { Browser, exchangeCode, followUntilExternal, formAction, hiddenCsrf, location, pkcePair, REDIRECT_URI, startLogin } from '../helpers/oidc-flow.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { headerOf, plainTextOf } from '../helpers/mail-text.js';
import { SoftAuthenticator } from '../passkeys/soft-authenticator.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { addClient } from '../../src/admin/clients.js';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../src/account/passkeys.js';
import { relyingParty } from '../../src/authn/webauthn.js';
import { totpCode, generateTotpSecret } from '../../src/authn/totp.js';
import { formatUtc } from '../../src/domain/format-time.js';
import type { Role, User } from '../../src/domain/types.js';
import type { EventCode, SecurityEvent } from '../../src/events/event-codes.js';
import { MESSAGES } from '../../src/http/password-login.js';
import { DEVICE_COOKIE } from '../../src/http/device-cookie.js';
import { SESSION_COOKIE } from '../../src/http/auth-session.js';
import { openGeoLocator, type GeoLocator } from '../../src/protection/geo/geo-locator.js';
import { distanceKm } from '../../src/protection/geo/distance.js';
import { importIpList, removeIpListEntry } from '../../src/protection/ip-lists/ip-list-admin.js';
import { ipKey } from '../../src/protection/ip/ip-key.js';
import { normaliseEmail } from '../../src/store/sql/sql-users.js';
import type { Finding, RiskCondition, RiskRule } from '../../src/protection/risk/risk-types.js';

// Not a real-world password, so the breached-password check never refuses it.
const PASSWORD = 'risk e2e passphrase 7f3a9c';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IP = {
  london: '51.140.0.1',
  sydney: '203.2.218.214',
  bristol: '31.94.0.1',
  melbourne: '1.120.0.1',
  bracknell: '81.2.69.142',
  lan: '10.0.0.5',
  loopback: '127.0.0.1',
} as const;
const LONDON = 'London, United Kingdom';
const SYDNEY = 'Sydney, Australia';
const PRIVATE_NETWORK = 'Local or private network';
const MIN = 60_000;
const ORIGIN = 'http://localhost:3000';
const CLIENT_ID = 'risk-e2e-app';
const ALL_CONDITIONS: RiskCondition[] = ['new_device', 'impossible_travel', 'untrusted_ip', 'new_country'];

interface RiskDetails {
  action: string;
  matched: string[];
  findings: Finding[];
  location: string;
  device: { browser: string | null; os: string | null };
  reasons: string[];
}

/** One browser: its own cookie jar and user agent, and a client IP sent as X-Forwarded-For through the trusted loopback proxy. */
class Client {
  readonly browser: Browser;
  private readonly headers: Record<string, string>;

  constructor(app: TestApp, ip: string, userAgent: string = CHROME_MAC) {
    this.headers = { host: 'localhost:3000', 'user-agent': userAgent, 'x-forwarded-for': ip };
    this.browser = new Browser(app.server, { headers: this.headers });
  }

  /** The same browser (same cookies), now on another network. */
  moveTo(ip: string): this {
    this.headers['x-forwarded-for'] = ip;
    return this;
  }

  get deviceCookie(): string | undefined {
    return this.browser.jar.get(DEVICE_COOKIE);
  }

  get hasSession(): boolean {
    return this.browser.jar.get(SESSION_COOKIE) !== undefined;
  }

  /** Forgets this browser's session cookie (as after signing out); the device cookie stays. */
  dropSession(): this {
    this.browser.jar.delete(SESSION_COOKIE);
    return this;
  }

  async csrf(url = '/login'): Promise<string> {
    const page = await this.browser.get(url);
    assert.equal(page.statusCode, 200, `GET ${url}: ${page.statusCode} ${page.body.slice(0, 300)}`);
    return hiddenCsrf(page.body);
  }

  /** Email and password at /login (the account page's sign-in). */
  async password(email: string, password: string = PASSWORD): Promise<LightMyRequestResponse> {
    const csrf = await this.csrf('/login');
    return this.browser.postForm('/login', { csrf, email, password });
  }

  /** A JSON call as web/passkeys.ts makes it: the token in the header and in the body. */
  json(url: string, csrf: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
    return this.browser.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      payload: JSON.stringify({ ...body, csrf }),
    });
  }

  /** "Continue with passkey" / "Use your passkey": options, the authenticator's assertion, verify. Returns the verify response. */
  async passkey(authenticator: SoftAuthenticator, csrf: string, urls = { options: '/login/passkey/options', verify: '/login/passkey/verify' }): Promise<LightMyRequestResponse> {
    const answer = await this.json(urls.options, csrf, { mode: 'modal' });
    assert.equal(answer.statusCode, 200, `passkey options: ${answer.body.slice(0, 300)}`);
    const json = JSON.parse(answer.body) as Record<string, unknown>;
    const options = (json.options ?? json) as Parameters<SoftAuthenticator['authenticate']>[0];
    return this.json(urls.verify, csrf, { response: JSON.parse(JSON.stringify(authenticator.authenticate(options, ORIGIN))) });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Expected values computed from the same bundled location data the app uses.

let geoOpening: Promise<GeoLocator> | null = null;
const geo = (): Promise<GeoLocator> => (geoOpening ??= openGeoLocator());
after(async () => {
  (await geoOpening)?.close();
});

/** The impossible-travel evidence for two city-level places (each with the default 50 km accuracy radius). */
async function travelEvidence(fromIp: string, toIp: string, fromLabel: string, toLabel: string, elapsedMin: number): Promise<Record<string, unknown>> {
  const locator = await geo();
  const a = locator.locate(fromIp);
  const b = locator.locate(toIp);
  assert.ok(a?.latitude != null && a.longitude != null && b?.latitude != null && b.longitude != null, `the bundled data locates ${fromIp} and ${toIp}`);
  const distance = distanceKm({ latitude: a.latitude, longitude: a.longitude }, { latitude: b.latitude, longitude: b.longitude });
  return {
    reason: 'too_fast',
    from: fromLabel,
    to: toLabel,
    distance_km: Math.round(distance),
    allowance_km: 100,
    elapsed_min: elapsedMin,
    speed_kmh: Math.round((distance - 100) / (elapsedMin / 60)),
    max_speed_kmh: 1000,
  };
}

const km = (n: unknown): string => `${Number(n).toLocaleString('en-US')} km`;

// ---------------------------------------------------------------------------------------------------------------
// Reading what the app recorded.

async function eventsOf(app: TestApp, userId: string, code?: EventCode): Promise<SecurityEvent[]> {
  return app.store.events.list({ userId, limit: 1000, ...(code ? { code } : {}) });
}

async function riskEventsOf(app: TestApp, userId: string): Promise<SecurityEvent[]> {
  return (await eventsOf(app, userId)).filter((e) => e.code.startsWith('risk_'));
}

function detailsOf(event: SecurityEvent | undefined): RiskDetails {
  assert.ok(event, 'the event exists');
  return event.details as unknown as RiskDetails;
}

function findingOf(details: RiskDetails, code: RiskCondition): Finding {
  const found = details.findings.find((f) => f.code === code);
  assert.ok(found, `a ${code} finding in ${JSON.stringify(details.findings)}`);
  return found;
}

const sessionsOf = async (app: TestApp, userId: string): Promise<number> => (await app.store.sessions.listActiveForUser(userId)).length;

/** Delivers the whole outbox (to SMTP or the dev mailbox). */
async function drainOutbox(app: TestApp): Promise<void> {
  for (let i = 0; i < 20 && (await app.mailWorker.runOnce()) > 0; i++);
}

interface Mail {
  to: string[];
  subject: string;
  text: string;
}

function smtpMails(smtp: TestSmtpServer, to: string): Mail[] {
  return smtp.received.filter((m) => m.to.includes(to)).map((m) => ({ to: m.to, subject: headerOf(m.raw, 'subject'), text: plainTextOf(m.raw) }));
}

const isAdminAlert = (m: Mail): boolean => /Suspicious login attempt/.test(m.subject);

function assertSignedIn(response: LightMyRequestResponse, client: Client, to = '/account'): void {
  assert.equal(response.statusCode, 303, `expected a completed sign-in, got ${response.statusCode}: ${response.body.slice(0, 400)}`);
  assert.equal(location(response), to);
  assert.ok(client.hasSession, 'the browser holds a session cookie');
}

function assertRiskBlocked(response: LightMyRequestResponse, client: Client): void {
  assert.equal(response.statusCode, 403, `expected the risk block, got ${response.statusCode}: ${response.body.slice(0, 400)}`);
  assert.ok(response.body.includes(MESSAGES.riskBlocked), `the page says why:\n${response.body.slice(0, 2000)}`);
  assert.equal(
    MESSAGES.riskBlocked,
    'This login attempt was blocked because it looked unusual. If this was you, try again from a device you have used before or contact your admin.',
  );
  assert.ok(!client.hasSession, 'no session cookie after a blocked attempt');
}

/** Polls (real time, bounded) until `attempt` returns a value: the IP-list reload runs on the app's own timer. */
async function eventually<T>(what: string, attempt: () => Promise<T | null>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== null) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One app per configuration, on one backend.

interface Harness {
  app: TestApp;
  clock: FakeClock;
  /** A verified user with the test password (optionally in an organization). */
  user(tag: string, options?: { orgName?: string; role?: Role }): Promise<User>;
  client(ip: string, userAgent?: string): Client;
  dispose(): Promise<void>;
}

async function harness(backend: AppBackend, overrides: Record<string, unknown> = {}): Promise<Harness> {
  const clock = new FakeClock(Date.now());
  const created = await backend.create({ trustProxy: 'loopback', ...overrides }, { clock });
  const { app } = created;
  created.track(...Object.values(IP), ...Object.values(IP).map(ipKey));
  return {
    app,
    clock,
    async user(tag, options = {}) {
      const email = `${tag}-${randomBytes(5).toString('hex')}@example.test`;
      created.track(email, normaliseEmail(email));
      const user = await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: PASSWORD, emailVerified: true, ...options });
      created.track(user.id);
      return user;
    },
    client: (ip, userAgent) => new Client(app, ip, userAgent),
    dispose: () => created.dispose(),
  };
}

/** Registers a passkey for `user` through the passkey use-cases (what the account page does), on a software authenticator. */
async function registerPasskey(app: TestApp, user: User): Promise<SoftAuthenticator> {
  const deps = { store: app.store, clock: app.clock, mailer: app.mailer, publicUrl: app.config.publicUrl };
  const rp = relyingParty(app.config.publicUrl, app.config.productName);
  const key = `risk-e2e-registration-${user.id}`;
  const authenticator = new SoftAuthenticator({ backupEligible: true, backedUp: true });
  const options = await beginPasskeyRegistration(deps, user, rp, key);
  const result = await finishPasskeyRegistration(deps, user, rp, key, JSON.parse(JSON.stringify(authenticator.register(options, rp.origin))), { ip: null, userAgent: null });
  assert.ok(result.ok, JSON.stringify(result));
  return authenticator;
}

/** The 6-digit code of the newest login_code mail for `email` (dev mailbox), and that mail. */
async function latestLoginCode(app: TestApp, email: string): Promise<{ code: string; subject: string; text: string; count: number }> {
  const mails = (await deliveredTo(app, email)).filter((m) => /sign-in code/.test(m.subject));
  const newest = mails.sort((a, b) => b.receivedAt - a.receivedAt)[0];
  assert.ok(newest, `a login_code mail for ${email}`);
  const code = /sign-in code: (\d{6})$/.exec(newest.subject)?.[1];
  assert.ok(code, `a 6-digit code in the subject "${newest.subject}"`);
  return { code, subject: newest.subject, text: newest.text, count: mails.length };
}

const otherCode = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  assert.ok(payload, 'a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const rules = (...list: RiskRule[]): RiskRule[] => list;

for (const backend of appBackends()) {
  describe(`risk assessment of password logins, end to end (${backend.name})`, () => {
    // -------------------------------------------------------------------------------------------------------------
    describe('default policy: impossible travel, admin alerts through SMTP, no lockout, passkeys, private addresses', () => {
      let smtp: TestSmtpServer;
      let h: Harness;

      before(async () => {
        smtp = await startSmtpServer();
        h = await harness(backend, { smtpUrl: `smtp://127.0.0.1:${smtp.port}?ignoreTLS=true` });
      });
      after(async () => {
        await h?.dispose();
        await smtp?.close();
      });

      test('London, then Sydney 10 minutes later in the same browser: the second login is refused with 403 and recorded as risk_blocked', async () => {
        const { app, clock } = h;
        const user = await h.user('travel');
        const browser = h.client(IP.london);

        assertSignedIn(await browser.password(user.email), browser);
        const device = browser.deviceCookie;
        assert.ok(device, 'the first login issues the device cookie');
        assert.equal(await sessionsOf(app, user.id), 1);

        clock.advance(10 * MIN);
        browser.dropSession().moveTo(IP.sydney);
        const attemptAt = clock.now();
        const refused = await browser.password(user.email);
        assertRiskBlocked(refused, browser);
        assert.equal(browser.deviceCookie, device, 'the same browser: the device cookie did not change');

        const [blocked, ...moreBlocked] = await eventsOf(app, user.id, 'risk_blocked');
        assert.equal(moreBlocked.length, 0);
        assert.ok(blocked);
        assert.equal(blocked.at, attemptAt);
        assert.equal(blocked.outcome, 'failure');
        assert.equal(blocked.ip, IP.sydney);
        assert.equal(blocked.identifier, user.email);
        assert.equal(blocked.userAgent, CHROME_MAC);
        assert.equal(blocked.reason, 'impossible_travel → block,new_country → log');

        const details = detailsOf(blocked);
        assert.equal(details.action, 'block');
        assert.deepEqual(details.matched, ['impossible_travel → block', 'new_country → log']);
        assert.equal(details.location, SYDNEY);
        assert.deepEqual(details.device, { browser: 'Chrome', os: 'Mac OS' });
        assert.deepEqual(details.findings.map((f) => f.code).sort(), [...ALL_CONDITIONS].sort(), 'every assessor reports, fired or not');

        const expectedTravel = await travelEvidence(IP.london, IP.sydney, LONDON, SYDNEY, 10);
        assert.deepEqual(findingOf(details, 'impossible_travel'), { code: 'impossible_travel', fired: true, confidence: 'high', evidence: expectedTravel });
        const distance = Number(expectedTravel.distance_km);
        assert.ok(distance > 16_900 && distance < 17_100, `London to Sydney is about 17,000 km, not ${distance}`);
        assert.deepEqual(findingOf(details, 'new_device'), {
          code: 'new_device',
          fired: false,
          confidence: 'low',
          evidence: { browser: 'Chrome', os: 'Mac OS', known_devices: 1, reason: 'known_device' },
        });
        assert.deepEqual(findingOf(details, 'untrusted_ip'), { code: 'untrusted_ip', fired: false, confidence: 'low', evidence: { reason: 'not_listed' } });
        assert.deepEqual(findingOf(details, 'new_country'), {
          code: 'new_country',
          fired: true,
          confidence: 'medium',
          evidence: { reason: 'first_time', country: 'AU', known: ['GB'] },
        });
        assert.deepEqual(details.reasons, [
          `Impossible travel: ${LONDON} → ${SYDNEY}, ${km(expectedTravel.distance_km)} in 10 min`,
          'New country: Australia (earlier sign-ins from United Kingdom)',
        ]);

        // No session, no login_success, and the attempt is not remembered as a login (no history, no device update).
        assert.equal(await sessionsOf(app, user.id), 1, 'only the London session exists');
        assert.equal((await eventsOf(app, user.id, 'login_success')).length, 1);
        const last = await app.store.loginHistory.last(user.id);
        assert.equal(last?.ip, IP.london, 'the blocked attempt is not the last successful login');
        const [known] = await app.store.devices.listForUser(user.id, 0);
        assert.equal(known?.lastIp, IP.london);
      });

      test('admins of the user\'s organization (and nobody else) get one alert per (user, IP) per hour, through real SMTP', async () => {
        const { app, clock } = h;
        const org = `risk-org-${randomBytes(4).toString('hex')}`;
        await createOrg({ store: app.store, hasher: app.hasher, clock: app.clock }, org);
        const admin1 = await h.user('admin-one', { orgName: org, role: 'admin' });
        const admin2 = await h.user('admin-two', { orgName: org, role: 'admin' });
        const member = await h.user('member', { orgName: org, role: 'member' });
        const user = await h.user('alerted', { orgName: org, role: 'member' });
        const alertsTo = (to: string) => smtpMails(smtp, to).filter(isAdminAlert);

        const browser = h.client(IP.london);
        assertSignedIn(await browser.password(user.email), browser);
        await drainOutbox(app);
        assert.deepEqual([alertsTo(admin1.email).length, alertsTo(admin2.email).length], [0, 0], 'an allowed login alerts nobody');

        clock.advance(10 * MIN);
        browser.dropSession().moveTo(IP.sydney);
        assertRiskBlocked(await browser.password(user.email), browser);
        const firstAlertAt = clock.now();
        await drainOutbox(app);

        const travel = await travelEvidence(IP.london, IP.sydney, LONDON, SYDNEY, 10);
        for (const admin of [admin1, admin2]) {
          const mails = alertsTo(admin.email);
          assert.equal(mails.length, 1, `one alert for ${admin.email}`);
          const [mail] = mails;
          assert.ok(mail);
          assert.deepEqual(mail.to, [admin.email], 'each admin gets their own message');
          assert.match(mail.subject, new RegExp(`^Portcullis: Suspicious login attempt blocked for ${user.email.replace(/[.]/g, '\\.')}$`));
          assert.ok(mail.text.includes(user.email), 'names the user');
          assert.ok(mail.text.includes(`from the IP address ${IP.sydney} (${SYDNEY})`), `IP and location in:\n${mail.text}`);
          assert.ok(mail.text.includes('using Chrome on Mac OS'), `the browser and OS in:\n${mail.text}`);
          assert.ok(mail.text.includes(`At ${formatUtc(firstAlertAt)} `), `the time in:\n${mail.text}`);
          assert.ok(mail.text.includes(`• Impossible travel: ${LONDON} → ${SYDNEY}, ${km(travel.distance_km)} in 10 min`), `the reason in:\n${mail.text}`);
          assert.ok(mail.text.includes(`${user.email} is not locked out`), 'says the user is not locked out');
        }
        assert.deepEqual(smtpMails(smtp, member.email), [], 'a member who is not an admin gets nothing');
        assert.deepEqual(smtpMails(smtp, user.email).filter(isAdminAlert), [], 'the user does not get the admin alert');

        // Same IP within the hour: blocked again, but no second alert.
        clock.advance(5 * MIN);
        assertRiskBlocked(await browser.password(user.email), browser);
        await drainOutbox(app);
        assert.deepEqual([alertsTo(admin1.email).length, alertsTo(admin2.email).length], [1, 1], 'no new alert for the same (user, IP) within the hour');
        assert.equal((await eventsOf(app, user.id, 'risk_blocked')).length, 2, 'but the attempt is still recorded');

        // Another IP (Melbourne) within the hour: alerts again.
        browser.moveTo(IP.melbourne);
        assertRiskBlocked(await browser.password(user.email), browser);
        await drainOutbox(app);
        for (const admin of [admin1, admin2]) {
          const mails = alertsTo(admin.email);
          assert.equal(mails.length, 2, `a second alert for another IP to ${admin.email}`);
          assert.ok(mails[1]?.text.includes(`from the IP address ${IP.melbourne} (Melbourne, Australia)`), mails[1]?.text);
        }

        // 61 minutes after the first alert, the same Sydney IP alerts again.
        clock.advance(firstAlertAt + 61 * MIN - clock.now());
        browser.moveTo(IP.sydney);
        assertRiskBlocked(await browser.password(user.email), browser);
        await drainOutbox(app);
        for (const admin of [admin1, admin2]) {
          const mails = alertsTo(admin.email);
          assert.equal(mails.length, 3, `the same IP alerts again after the hour (${admin.email})`);
          assert.ok(mails[2]?.text.includes(`from the IP address ${IP.sydney} (${SYDNEY})`), mails[2]?.text);
          assert.ok(mails[2]?.text.includes(`At ${formatUtc(firstAlertAt + 61 * MIN)} `), mails[2]?.text);
        }
        assert.deepEqual(smtpMails(smtp, member.email), []);
      });

      test('the user is not locked out: the next legitimate login succeeds, and risk blocks never count as brute force', async () => {
        const { app, clock } = h;
        const user = await h.user('not-locked');
        const identifier = normaliseEmail(user.email);
        const home = h.client(IP.london);
        assertSignedIn(await home.password(user.email), home);

        clock.advance(10 * MIN);
        const away = h.client(IP.sydney);
        assertRiskBlocked(await away.password(user.email), away);
        assert.equal(await app.store.attempts.get(identifier, ipKey(IP.sydney)), null, 'the correct password cleared the slot the attempt reserved');

        // Judged afresh: London again is the same place as the last successful login.
        home.dropSession();
        assertSignedIn(await home.password(user.email), home);

        // 20 risky attempts in a row (twice the brute-force threshold): each one is the risk block, never the brute-force block.
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await away.password(user.email)).statusCode);
        assert.deepEqual(statuses, Array<number>(20).fill(403));
        assert.equal(await app.store.attempts.get(identifier, ipKey(IP.sydney)), null);
        assert.equal(await app.store.attempts.get(identifier, ipKey(IP.london)), null);
        assert.equal((await eventsOf(app, user.id, 'risk_blocked')).length, 21);
        for (const code of ['login_blocked', 'login_block_started', 'ip_throttled', 'login_failed_password'] as const) {
          assert.equal((await eventsOf(app, user.id, code)).length, 0, `no ${code} event`);
        }
        assert.equal((await away.password(user.email)).statusCode, 403, 'still the risk block, not 429');

        home.dropSession();
        assertSignedIn(await home.password(user.email), home);
      });

      test('a passkey login is not assessed: from Sydney 10 minutes after a London password login it succeeds, with no risk event', async () => {
        const { app, clock } = h;
        const user = await h.user('passkey-user');
        const authenticator = await registerPasskey(app, user);
        const home = h.client(IP.london);
        assertSignedIn(await home.password(user.email), home);

        clock.advance(10 * MIN);
        // Control: from this browser, place and moment, a password login is blocked.
        const away = h.client(IP.sydney);
        assertRiskBlocked(await away.password(user.email), away);
        const riskBefore = await riskEventsOf(app, user.id);

        const verified = await away.passkey(authenticator, await away.csrf('/login'));
        assert.equal(verified.statusCode, 200, verified.body);
        assert.deepEqual(JSON.parse(verified.body), { redirect: '/account' });
        assert.ok(away.hasSession, 'signed in with the passkey');
        assert.equal((await away.browser.get('/account')).statusCode, 200);

        const riskAfter = await riskEventsOf(app, user.id);
        assert.deepEqual(riskAfter.map((e) => e.id), riskBefore.map((e) => e.id), 'no risk_* event for the passkey login');
        assert.equal((await eventsOf(app, user.id, 'login_passkey_success')).length, 1);
        // Not assessed, but remembered: the next assessment starts from Sydney.
        const last = await app.store.loginHistory.last(user.id);
        assert.deepEqual([last?.ip, last?.label, last?.countryCode, last?.at], [IP.sydney, SYDNEY, 'AU', clock.now()]);
      });

      test('private and loopback addresses: "Local or private network", and neither new country nor impossible travel fires', async () => {
        const { app, clock } = h;
        const user = await h.user('private');
        const home = h.client(IP.london);
        assertSignedIn(await home.password(user.email), home);

        for (const ip of [IP.lan, IP.loopback]) {
          clock.advance(MIN);
          const before = (await eventsOf(app, user.id, 'risk_logged')).length;
          const lan = h.client(ip, FIREFOX_WINDOWS);
          assertSignedIn(await lan.password(user.email), lan);
          const logged = await eventsOf(app, user.id, 'risk_logged');
          assert.equal(logged.length, before + 1, 'the new device is logged');
          const details = detailsOf(logged[0]);
          assert.equal(logged[0]?.ip, ip);
          assert.equal(details.location, PRIVATE_NETWORK);
          assert.deepEqual(details.matched, ['new_device → log'], `only the new device matched from ${ip}`);
          assert.deepEqual(findingOf(details, 'impossible_travel'), { code: 'impossible_travel', fired: false, confidence: 'low', evidence: { reason: 'no_location' } });
          assert.deepEqual(findingOf(details, 'new_country'), { code: 'new_country', fired: false, confidence: 'low', evidence: { reason: 'no_location' } });
          const last = await app.store.loginHistory.last(user.id);
          assert.deepEqual([last?.ip, last?.label, last?.countryCode, last?.latitude], [ip, PRIVATE_NETWORK, null, null]);
        }
        assert.equal((await eventsOf(app, user.id, 'risk_blocked')).length, 0);
        assert.equal((await eventsOf(app, user.id, 'risk_mfa')).length, 0);
        await drainOutbox(app);
        const notice = smtpMails(smtp, user.email).find((m) => m.subject === 'New sign-in to your Portcullis account' && m.text.includes(IP.lan));
        assert.ok(notice?.text.includes(`from the IP address ${IP.lan} (${PRIVATE_NETWORK})`), `the new-device email names the private network:\n${notice?.text}`);
      });
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('policy action "log": [{ when: [new_device], action: log }]', () => {
      let h: Harness;
      before(async () => {
        h = await harness(backend, { risk: { rules: rules({ when: ['new_device'], action: 'log' }) } });
      });
      after(async () => {
        await h?.dispose();
      });

      test('a second device signs in, risk_logged is written, and the user gets new_sign_in (but not for the very first login)', async () => {
        const { app, clock } = h;
        const user = await h.user('log');
        const first = h.client(IP.london);
        assertSignedIn(await first.password(user.email), first);
        assert.equal((await queued(app, user.email, 'new_sign_in')).length, 0, 'the very first login sends no new-device email');
        assert.equal((await eventsOf(app, user.id, 'risk_logged')).length, 0, 'no remembered device yet: no baseline, nothing to log');

        clock.advance(5 * MIN);
        const second = h.client(IP.london, FIREFOX_WINDOWS);
        assertSignedIn(await second.password(user.email), second);
        const logged = await eventsOf(app, user.id, 'risk_logged');
        assert.equal(logged.length, 1);
        const event = logged[0];
        assert.equal(event?.outcome, 'info');
        assert.equal(event?.reason, 'new_device → log');
        assert.equal(event?.ip, IP.london);
        const details = detailsOf(event);
        assert.equal(details.action, 'log');
        assert.deepEqual(details.matched, ['new_device → log']);
        assert.equal(details.location, LONDON);
        assert.deepEqual(details.device, { browser: 'Firefox', os: 'Windows' });
        assert.deepEqual(findingOf(details, 'new_device'), {
          code: 'new_device',
          fired: true,
          confidence: 'medium',
          evidence: { browser: 'Firefox', os: 'Windows', known_devices: 1, reason: 'no_cookie' },
        });
        assert.equal(await sessionsOf(app, user.id), 2);

        assert.equal((await queued(app, user.email, 'new_sign_in')).length, 1, 'the second device triggers the new-device email');
        const [mail] = (await deliveredTo(app, user.email)).filter((m) => m.subject === 'New sign-in to your Portcullis account');
        assert.ok(mail);
        assert.ok(mail.text.includes(`on ${formatUtc(clock.now())} from a device we have not seen before: Firefox on Windows, from the IP address ${IP.london} (${LONDON})`), mail.text);

        // The first browser again: known, so allowed without any risk event and without an email.
        clock.advance(MIN);
        first.dropSession();
        assertSignedIn(await first.password(user.email), first);
        assert.equal((await eventsOf(app, user.id, 'risk_logged')).length, 1);
        assert.equal((await queued(app, user.email, 'new_sign_in')).length, 1);
      });

      test('a device cookie issued to another account counts as unknown ("unknown_cookie"), not as this user\'s device', async () => {
        const { app, clock } = h;
        const user = await h.user('cookie-owner');
        const other = await h.user('cookie-borrower');
        const shared = h.client(IP.london);
        assertSignedIn(await shared.password(user.email), shared);
        const home = h.client(IP.london, FIREFOX_WINDOWS);
        assertSignedIn(await home.password(other.email), home);

        clock.advance(MIN);
        shared.dropSession();
        assertSignedIn(await shared.password(other.email), shared);
        const details = detailsOf((await eventsOf(app, other.id, 'risk_logged'))[0]);
        assert.deepEqual(findingOf(details, 'new_device').evidence, { browser: 'Chrome', os: 'Mac OS', known_devices: 1, reason: 'unknown_cookie' });
      });
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('policy action "block": [{ when: [new_device], action: block }]', () => {
      let h: Harness;
      before(async () => {
        h = await harness(backend, { risk: { rules: rules({ when: ['new_device'], action: 'block' }) } });
      });
      after(async () => {
        await h?.dispose();
      });

      test('a second device is refused with 403; the known device still signs in', async () => {
        const { app, clock } = h;
        const user = await h.user('block');
        const known = h.client(IP.london);
        // The very first sign-in has no baseline, so even this rule lets it through.
        assertSignedIn(await known.password(user.email), known);
        assert.equal((await eventsOf(app, user.id, 'risk_blocked')).length, 0);

        clock.advance(MIN);
        const other = h.client(IP.london, FIREFOX_WINDOWS);
        assertRiskBlocked(await other.password(user.email), other);
        const blocks = await eventsOf(app, user.id, 'risk_blocked');
        assert.equal(blocks.length, 1);
        assert.equal(blocks[0]?.reason, 'new_device → block');
        const details = detailsOf(blocks[0]);
        assert.equal(details.action, 'block');
        assert.deepEqual(details.matched, ['new_device → block']);
        assert.deepEqual(findingOf(details, 'new_device'), {
          code: 'new_device',
          fired: true,
          confidence: 'medium',
          evidence: { browser: 'Firefox', os: 'Windows', known_devices: 1, reason: 'no_cookie' },
        });
        assert.equal(await sessionsOf(app, user.id), 1, 'only the known device\'s session');
        assert.equal((await app.store.devices.listForUser(user.id, 0)).length, 1, 'the refused browser is not remembered');

        // The refused browser tries again: it now carries a device cookie, but one this user never signed in with.
        clock.advance(MIN);
        assertRiskBlocked(await other.password(user.email), other);
        assert.equal(findingOf(detailsOf((await eventsOf(app, user.id, 'risk_blocked'))[0]), 'new_device').evidence.reason, 'unknown_cookie');

        clock.advance(MIN);
        known.dropSession();
        assertSignedIn(await known.password(user.email), known);
        assert.equal((await eventsOf(app, user.id, 'risk_blocked')).length, 2);
      });
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('policy action "require_mfa": [{ when: [new_device], action: require_mfa }]', () => {
      let h: Harness;
      before(async () => {
        h = await harness(backend, { risk: { rules: rules({ when: ['new_device'], action: 'require_mfa' }) } });
        await addClient(h.app.store, h.app.clock, { clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], public: true, firstParty: true });
      });
      after(async () => {
        await h?.dispose();
      });

      /** A first sign-in from a home browser (no baseline yet, so no step-up), which makes the next browser a new device. */
      async function signInAtHome(user: User): Promise<void> {
        const home = h.client(IP.london);
        assertSignedIn(await home.password(user.email), home);
        assert.equal((await eventsOf(h.app, user.id, 'risk_mfa')).length, 0, 'the first sign-in is not stepped up');
        h.clock.advance(MIN);
      }

      /** Password at /login from a fresh browser: the step-up page, with no session yet. */
      async function passwordThenStepUp(user: User, ip: string = IP.london): Promise<{ client: Client; page: LightMyRequestResponse }> {
        const client = h.client(ip, FIREFOX_WINDOWS);
        const posted = await client.password(user.email);
        assert.equal(posted.statusCode, 303, posted.body.slice(0, 300));
        assert.equal(location(posted), '/login', 'the second step, not /account');
        assert.ok(!client.hasSession, 'no session after the password alone');
        const page = await client.browser.get('/login');
        assert.equal(page.statusCode, 200);
        return { client, page };
      }

      test('without TOTP or passkeys: an emailed code (stored only as a hash); a wrong code is refused; the right one completes with amr pwd+otp', async () => {
        const { app } = h;
        const user = await h.user('emailcode');
        await signInAtHome(user);
        const client = h.client(IP.london, FIREFOX_WINDOWS);
        const { verifier, challenge } = pkcePair();
        const started = await startLogin(client.browser, {
          client_id: CLIENT_ID,
          response_type: 'code',
          scope: 'openid email',
          redirect_uri: REDIRECT_URI,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 'risk-state',
        });
        const posted = await client.browser.postForm(started.action, { csrf: started.csrf, email: user.email, password: PASSWORD });
        assert.equal(posted.statusCode, 303, posted.body.slice(0, 300));
        assert.equal(location(posted), `/interaction/${started.uid}`);
        const page = await client.browser.get(location(posted));
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<h1>Confirm it is you<\/h1>/);
        assert.ok(page.body.includes(`Code from the email we sent to ${user.email[0]}•••@example.test`), 'the masked address');
        assert.doesNotMatch(page.body, /Use your passkey/, 'no passkey to offer');
        assert.ok(!client.hasSession);
        assert.equal(await sessionsOf(app, user.id), 1, 'only the home session: none before the second factor');

        const [riskMfa, ...moreMfa] = await eventsOf(app, user.id, 'risk_mfa');
        assert.equal(moreMfa.length, 0);
        assert.equal(riskMfa?.clientId, CLIENT_ID);
        assert.deepEqual(detailsOf(riskMfa).matched, ['new_device → require_mfa']);
        assert.equal(detailsOf(riskMfa).action, 'require_mfa');
        const sent = await eventsOf(app, user.id, 'step_up_email_sent');
        assert.equal(sent.length, 1);
        assert.deepEqual([sent[0]?.reason, sent[0]?.ip], ['risk_require_mfa', IP.london]);

        const mail = await latestLoginCode(app, user.email);
        assert.equal(mail.count, 1);
        assert.match(mail.code, /^\d{6}$/);
        assert.ok(mail.text.includes(`\n${mail.code}\n`), 'the code on a line of its own');
        assert.ok(mail.text.includes(`from ${IP.london} (${LONDON})`), mail.text);

        // Only a keyed hash of the code is in the stored login flow.
        const flow = await app.store.oidc.find('LoginFlow', started.uid, app.clock.now());
        assert.ok(flow, 'the flow row');
        const payload = flow.payload as { state?: string; stepUp?: boolean; emailCode?: { hash?: string; sends?: number } };
        assert.deepEqual([payload.state, payload.stepUp, payload.emailCode?.sends], ['second_factor', true, 1]);
        assert.match(String(payload.emailCode?.hash), /^[A-Za-z0-9_-]{43}$/, 'an HMAC-SHA256, base64url');
        assert.ok(!JSON.stringify(flow.payload).includes(mail.code), 'the code itself is not stored in the flow');
        assert.ok(!JSON.stringify(await eventsOf(app, user.id)).includes(mail.code), 'nor in any event');

        const mfaUrl = formAction(page.body);
        assert.equal(mfaUrl, `/interaction/${started.uid}/mfa`);
        const csrf = hiddenCsrf(page.body);
        const wrong = await client.browser.postForm(mfaUrl, { csrf, code: otherCode(mail.code) });
        assert.equal(wrong.statusCode, 401);
        assert.ok(wrong.body.includes('That code is not valid or has expired.'), wrong.body.slice(0, 1500));
        assert.ok(!client.hasSession);
        assert.equal(await sessionsOf(app, user.id), 1);
        assert.equal((await eventsOf(app, user.id, 'mfa_challenge_failed'))[0]?.reason, 'email_code_wrong');

        const right = await client.browser.postForm(mfaUrl, { csrf, code: mail.code });
        assert.equal(right.statusCode, 303, right.body.slice(0, 500));
        let final = await followUntilExternal(client.browser, right);
        if (final.statusCode === 200 && final.body.includes('/confirm')) {
          final = await followUntilExternal(client.browser, await client.browser.postForm(formAction(final.body), { csrf: hiddenCsrf(final.body) }));
        }
        const redirect = new URL(location(final));
        assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
        const code = redirect.searchParams.get('code');
        assert.ok(code, redirect.href);
        const tokens = await exchangeCode(app.server, { code, verifier, clientId: CLIENT_ID });
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        const claims = decodeJwtPayload(String(tokens.body.id_token));
        assert.equal(claims.sub, user.id);
        const amr = (claims.amr as string[] | undefined) ?? [];
        assert.ok(amr.includes('pwd') && amr.includes('otp'), `amr: ${JSON.stringify(amr)}`);
        assert.ok(amr.includes('mfa'), `two factors: ${JSON.stringify(amr)}`);
        assert.equal(await sessionsOf(app, user.id), 2);
        assert.equal((await eventsOf(app, user.id, 'mfa_challenge_passed'))[0]?.reason, 'email_code');
        assert.equal((await app.store.devices.listForUser(user.id, 0)).length, 2, 'the stepped-up browser is remembered now');
      });

      test('an expired code (11 minutes later) is refused', async () => {
        const { app, clock } = h;
        const user = await h.user('expired');
        await signInAtHome(user);
        const { client, page } = await passwordThenStepUp(user);
        assert.match(page.body, /<h1>Confirm it is you<\/h1>/);
        const { code } = await latestLoginCode(app, user.email);

        clock.advance(11 * MIN);
        const late = await client.browser.postForm(formAction(page.body), { csrf: hiddenCsrf(page.body), code });
        assert.ok([400, 401].includes(late.statusCode), `refused, got ${late.statusCode}: ${late.body.slice(0, 300)}`);
        assert.ok(!client.hasSession);
        assert.equal(await sessionsOf(app, user.id), 1, 'only the home session');
        assert.equal((await eventsOf(app, user.id, 'mfa_challenge_failed'))[0]?.reason, 'email_code_expired');
        assert.equal((await eventsOf(app, user.id, 'mfa_challenge_passed')).length, 0);
      });

      test('the code works for as long as the email says it is valid', async () => {
        const { app, clock } = h;
        const user = await h.user('validity');
        await signInAtHome(user);
        const { client, page } = await passwordThenStepUp(user);
        const { code, text } = await latestLoginCode(app, user.email);
        const minutes = Number(/The code is valid for (\d+) minutes/.exec(text)?.[1]);
        assert.ok(minutes > 1, `the email states how long the code is valid:\n${text}`);

        clock.advance((minutes - 1) * MIN);
        const answer = await client.browser.postForm(formAction(page.body), { csrf: hiddenCsrf(page.body), code });
        assert.equal(answer.statusCode, 303, `a code entered ${minutes - 1} min after an email saying "valid for ${minutes} minutes": ${answer.statusCode} ${answer.body.slice(0, 600)}`);
        assert.equal(location(answer), '/account');
        assert.ok(client.hasSession);
      });

      test('"Send a new code" is refused with 429 within 30 s and works after; the new code replaces the old one', async () => {
        const { app, clock } = h;
        const user = await h.user('resend');
        await signInAtHome(user);
        const { client, page } = await passwordThenStepUp(user);
        const first = await latestLoginCode(app, user.email);
        const action = formAction(page.body);
        const csrf = hiddenCsrf(page.body);
        assert.ok(page.body.includes('name="resend" value="1"'), 'the page has the resend form');

        clock.advance(10_000);
        const tooSoon = await client.browser.postForm(action, { csrf, resend: '1' });
        assert.equal(tooSoon.statusCode, 429);
        assert.ok(tooSoon.body.includes('A code was sent moments ago'), tooSoon.body.slice(0, 1500));
        assert.equal((await eventsOf(app, user.id, 'step_up_email_sent')).length, 1);
        assert.equal((await latestLoginCode(app, user.email)).count, 1, 'no second mail');

        clock.advance(21_000);
        const resent = await client.browser.postForm(action, { csrf, resend: '1' });
        assert.equal(resent.statusCode, 200, resent.body.slice(0, 500));
        assert.match(resent.body, /<h1>Confirm it is you<\/h1>/);
        assert.equal((await eventsOf(app, user.id, 'step_up_email_sent')).length, 2);
        const second = await latestLoginCode(app, user.email);
        assert.equal(second.count, 2);

        if (second.code !== first.code) {
          const old = await client.browser.postForm(action, { csrf, code: first.code });
          assert.equal(old.statusCode, 401, 'the replaced code no longer works');
        }
        const done = await client.browser.postForm(action, { csrf, code: second.code });
        assertSignedIn(done, client);
      });

      test('with TOTP enrolled: the usual authenticator-app step, no emailed code, and a valid TOTP completes', async () => {
        const { app, clock } = h;
        const user = await h.user('totp');
        await signInAtHome(user);
        const secret = generateTotpSecret();
        await app.store.mfa.enableTotp(user.id, secret, clock.now());

        const { client, page } = await passwordThenStepUp(user);
        assert.match(page.body, /<h1>Two-step verification<\/h1>/);
        assert.doesNotMatch(page.body, /Confirm it is you|email we sent/);
        assert.equal((await eventsOf(app, user.id, 'risk_mfa')).length, 1);
        assert.equal((await eventsOf(app, user.id, 'step_up_email_sent')).length, 0, 'no code emailed');
        assert.equal((await queued(app, user.email, 'login_code')).length, 0);

        const done = await client.browser.postForm(formAction(page.body), { csrf: hiddenCsrf(page.body), code: totpCode({ secret, now: clock.now() }) });
        assertSignedIn(done, client);
        assert.equal((await eventsOf(app, user.id, 'mfa_challenge_passed')).length, 1);
      });

      test('with a passkey and no TOTP: "Use your passkey" completes the step-up; another user\'s passkey is refused with 401', async () => {
        const { app } = h;
        const user = await h.user('stepup-passkey');
        const own = await registerPasskey(app, user);
        const stranger = await h.user('stranger');
        const foreign = await registerPasskey(app, stranger);
        await signInAtHome(user);

        const { client, page } = await passwordThenStepUp(user);
        assert.match(page.body, /<h1>Confirm it is you<\/h1>/);
        assert.match(page.body, /<button type="button" id="continue-with-passkey" hidden>Use your passkey<\/button>/);
        const urls = {
          options: /data-options-url="([^"]+)"/.exec(page.body)?.[1] ?? '',
          verify: /data-verify-url="([^"]+)"/.exec(page.body)?.[1] ?? '',
        };
        assert.deepEqual(urls, { options: '/login/passkey/options', verify: '/login/passkey/verify' });
        const csrf = hiddenCsrf(page.body);

        const refused = await client.passkey(foreign, csrf, urls);
        assert.equal(refused.statusCode, 401, refused.body);
        assert.equal((JSON.parse(refused.body) as { error?: string }).error, 'passkey_failed');
        assert.ok(!client.hasSession);
        assert.deepEqual([await sessionsOf(app, user.id), await sessionsOf(app, stranger.id)], [1, 0], 'nobody new is signed in');

        const accepted = await client.passkey(own, csrf, urls);
        assert.equal(accepted.statusCode, 200, accepted.body);
        assert.deepEqual(JSON.parse(accepted.body), { redirect: '/account' });
        assert.ok(client.hasSession);
        assert.equal(await sessionsOf(app, user.id), 2);
        assert.equal(await sessionsOf(app, stranger.id), 0);
        // One sign-in, counted once: the passkey was its second factor, not a login of its own.
        const codes = (await eventsOf(app, user.id)).map((e) => e.code);
        assert.equal(codes.filter((c) => c === 'login_passkey_success').length, 0, `events: ${codes.join(', ')}`);
        assert.equal(codes.filter((c) => c === 'login_success').length, 2, 'the home sign-in and this one');
        const passed = await eventsOf(app, user.id, 'mfa_challenge_passed');
        assert.deepEqual(passed.map((e) => e.reason), ['passkey']);
        assert.deepEqual((await eventsOf(app, user.id, 'login_success'))[0]?.details.amr, ['pwd', 'hwk', 'user', 'mfa'], 'the newest success names both factors');
      });

      test('a step-up refused because the passkey is someone else\'s is not recorded as that person\'s successful passkey login', async () => {
        const { app } = h;
        const user = await h.user('stepup-victim');
        await registerPasskey(app, user);
        const stranger = await h.user('stepup-stranger');
        const foreign = await registerPasskey(app, stranger);
        await signInAtHome(user);
        const { client, page } = await passwordThenStepUp(user);

        const refused = await client.passkey(foreign, hiddenCsrf(page.body));
        assert.equal(refused.statusCode, 401, refused.body);
        const strangerEvents = (await eventsOf(app, stranger.id)).map((e) => e.code);
        assert.ok(!strangerEvents.includes('login_passkey_success'), `the stranger did not sign in, yet their events are: ${strangerEvents.join(', ')}`);
      });
    });

    // -------------------------------------------------------------------------------------------------------------
    describe('IP lists reload without a restart', () => {
      let h: Harness;
      let dir: string;
      let listFile: string;
      before(async () => {
        dir = mkdtempSync(join(tmpdir(), 'pc-risk-lists-'));
        listFile = join(dir, 'tor-exits.txt');
        writeFileSync(listFile, '# Tor exit nodes (test)\n192.0.2.0/24\n');
        h = await harness(backend, { ipLists: { files: [{ name: 'tor-exits', path: listFile }], pollInterval: 25 } });
      });
      after(async () => {
        await h?.dispose();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      /** Polls with new browsers from `ip` until one is refused by risk (the list reload happened). */
      async function untilNewDeviceBlocked(user: User, ip: string): Promise<LightMyRequestResponse> {
        return eventually(`a new device from ${ip} to be blocked`, async () => {
          const client = h.client(ip);
          const answer = await client.password(user.email);
          if (answer.statusCode === 403) return answer;
          assert.equal(answer.statusCode, 303, `allowed until the reload: ${answer.body.slice(0, 300)}`);
          return null;
        });
      }

      test('a list file: appending an address\'s /24 blocks a new device from it, and a known device from it has to step up', async () => {
        const { app } = h;
        const user = await h.user('listfile');
        const known = h.client(IP.bracknell);
        assertSignedIn(await known.password(user.email), known);
        const fresh = h.client(IP.bracknell, FIREFOX_WINDOWS);
        assertSignedIn(await fresh.password(user.email), fresh);
        assert.equal(findingOf(detailsOf((await eventsOf(app, user.id, 'risk_logged'))[0]), 'untrusted_ip').fired, false);

        appendFileSync(listFile, '81.2.69.0/24\n');
        const refused = await untilNewDeviceBlocked(user, IP.bracknell);
        assert.ok(refused.body.includes(MESSAGES.riskBlocked));
        const details = detailsOf((await eventsOf(app, user.id, 'risk_blocked'))[0]);
        assert.deepEqual(details.matched, ['new_device+untrusted_ip → block', 'untrusted_ip → require_mfa', 'new_device → log']);
        assert.deepEqual(findingOf(details, 'untrusted_ip'), {
          code: 'untrusted_ip',
          fired: true,
          confidence: 'high',
          evidence: { reason: 'listed', list: 'tor-exits', cidr: '81.2.69.0/24' },
        });

        // The browser that signed in from there before is known: the untrusted IP alone asks for a second factor.
        known.dropSession();
        const stepUp = await known.password(user.email);
        assert.equal(stepUp.statusCode, 303);
        assert.equal(location(stepUp), '/login');
        assert.ok(!known.hasSession);
        assert.deepEqual(detailsOf((await eventsOf(app, user.id, 'risk_mfa'))[0]).matched, ['untrusted_ip → require_mfa']);
      });

      test('an imported list (what `portcullis iplist import` stores): blocks once imported, and stops once the entry is removed', async () => {
        const { app, clock } = h;
        const user = await h.user('liststore');
        const known = h.client(IP.bristol);
        assertSignedIn(await known.password(user.email), known);
        const fresh = h.client(IP.bristol, FIREFOX_WINDOWS);
        assertSignedIn(await fresh.password(user.email), fresh);

        const imported = await importIpList(app.store.ipLists, 'abuse', '# reported ranges\n31.94.0.0/24\n', { replace: false, now: clock.now() });
        assert.equal(imported.added, 1);
        await untilNewDeviceBlocked(user, IP.bristol);
        const details = detailsOf((await eventsOf(app, user.id, 'risk_blocked'))[0]);
        assert.deepEqual(findingOf(details, 'untrusted_ip').evidence, { reason: 'listed', list: 'abuse', cidr: '31.94.0.0/24' });
        assert.equal(details.action, 'block');

        await removeIpListEntry(app.store.ipLists, 'abuse', '31.94.0.0/24', clock.now());
        await eventually('a new device from Bristol to be allowed again', async () => {
          const client = h.client(IP.bristol);
          const answer = await client.password(user.email);
          if (answer.statusCode === 303) return answer;
          assert.equal(answer.statusCode, 403);
          return null;
        });
      });
    });
  });
}
