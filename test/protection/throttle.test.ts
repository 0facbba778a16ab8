// Suspicious-IP throttling through the real app: a token bucket of failed logins per IP across all accounts, its alerts, operator control, and sign-up limits on the same mechanism.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserFrom, csrfFrom, FakeClock, Inbox, queued, seedUser } from '../helpers/account-browser.js';
import { cliFor, countHashing, loginClient, randomIpv4, repeat, uniqueEmail, type HashCounter } from '../helpers/protection.js';
import { location } from '../helpers/oidc-flow.js';
import { MESSAGES } from '../../src/http/password-login.js';
import { listThrottled, releaseIp } from '../../src/admin/protection.js';
import { createOrg, createUser } from '../../src/admin/users.js';

// Not a real-world password, so a breached-password check can never refuse it.
const PASSWORD = 'portcullis test passphrase 7f3a';
const CAPACITY = 5;
const REFILL_MS = 864_000;
const HOUR = 3_600_000;
const OPS = 'ops@example.test';
const POLICY = { capacity: CAPACITY, refillMs: REFILL_MS };

function assertThrottled(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 429, `${what}: ${response.statusCode} ${response.body.slice(0, 200)}`);
  assert.ok(response.body.includes(MESSAGES.throttled), `${what}: the page says the network is throttled`);
}

function assertSignedIn(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 303, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.equal(location(response), '/account');
}

describe('suspicious-IP throttling', () => {
  let app: TestApp;
  let hashing: HashCounter;
  const clock = new FakeClock();

  before(async () => {
    app = await createTestApp(
      {
        throttle: { failedLoginsPerDay: CAPACITY, refillEvery: '864s', alertEmail: OPS },
        ipAllowlist: '192.0.2.0/24',
        signupPerIpPerMinute: 3,
      },
      { clock },
    );
    hashing = countHashing(app.hasher);
  });
  after(async () => {
    await app.dispose();
  });

  /** One failed login for each of `n` different (unknown) accounts: spraying, never near any account's threshold. */
  async function spray(ip: string, n: number): Promise<number[]> {
    const client = loginClient(app, ip);
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await client.login(uniqueEmail('spray'), 'Password1!')).statusCode);
    return statuses;
  }

  test('throttling trips after the configured number of failures across many accounts', async () => {
    // Threat: password spraying: one address trying a common password on many accounts, staying under every per-account threshold.
    const ip = randomIpv4();
    const known = uniqueEmail('known');
    const target = uniqueEmail('target');
    await seedUser(app, known, PASSWORD);
    await seedUser(app, target, PASSWORD);
    const sprayer = loginClient(app, ip);
    const statuses = [(await sprayer.login(known, 'Password1!')).statusCode, ...(await spray(ip, CAPACITY - 1))];
    assert.deepEqual(statuses, repeat(401, CAPACITY), 'each is an ordinary failure');

    hashing.reset();
    const refused = await sprayer.login(target, PASSWORD);
    assertThrottled(refused, 'an account never tried from this IP, even with its right password');
    assert.equal(refused.headers['retry-after'], String(REFILL_MS / 1000), 'Retry-After says when the next token arrives');
    assert.equal(hashing.verifications, 0, 'a throttled attempt costs no hashing');
    assert.equal(await app.store.attempts.get(target, ip), null, 'and reserves no brute-force slot');

    const event = (await app.store.events.list({ limit: 50 })).find((e) => e.code === 'ip_throttled' && e.ip === ip);
    assert.ok(event, 'the decision is in the security log');
    assert.deepEqual(
      { reason: event.reason, capacity: event.details.capacity, tokens: event.details.tokens, until: event.details.until },
      { reason: 'ip_throttled', capacity: CAPACITY, tokens: 0, until: clock.now() + REFILL_MS },
    );
    assertSignedIn(await loginClient(app, randomIpv4()).login(target, PASSWORD), 'the same account from another IP');
  });

  test('throttling refills over time: one attempt per refill interval (injected clock, never sleeping)', async () => {
    // Threat: a throttle that never lifts (an office locked out for good) or lifts all at once (a fresh burst for the attacker).
    const ip = randomIpv4();
    assert.deepEqual(await spray(ip, CAPACITY + 1), [...repeat(401, CAPACITY), 429]);
    clock.advance(REFILL_MS - 1000);
    assert.deepEqual(await spray(ip, 1), [429], 'not a second early');
    clock.advance(1000);
    assert.deepEqual(await spray(ip, 2), [401, 429], 'exactly one more attempt after one interval');
    clock.advance(2 * REFILL_MS);
    assert.deepEqual(await spray(ip, 3), [401, 401, 429], 'two intervals give two attempts');
    clock.advance(100 * REFILL_MS);
    assert.deepEqual(await spray(ip, CAPACITY + 1), [...repeat(401, CAPACITY), 429], 'a long pause refills to capacity, no more');
  });

  test('a successful login refunds its token', async () => {
    // Threat: a busy office NAT throttled by its own users' successful sign-ins.
    const ip = randomIpv4();
    const email = uniqueEmail('refund');
    await seedUser(app, email, PASSWORD);
    assert.deepEqual(await spray(ip, CAPACITY - 1), repeat(401, CAPACITY - 1));
    for (let i = 0; i < 3; i++) assertSignedIn(await loginClient(app, ip).login(email, PASSWORD), `success ${i + 1} with one token left`);
    assert.equal((await app.store.buckets.get(`login-fail:${ip}`))?.tokens, 1, 'successes spent nothing');
    assert.deepEqual(await spray(ip, 2), [401, 429], 'the last token is still there for one failure');
  });

  test('allowlisted IPs pass', async () => {
    // Threat: the operator's own network throttled by its own traffic (the allowlist is the operator's decision).
    const ip = '192.0.2.44';
    const email = uniqueEmail('allow');
    await seedUser(app, email, PASSWORD);
    assert.deepEqual(await spray(ip, 4 * CAPACITY), repeat(401, 4 * CAPACITY));
    assertSignedIn(await loginClient(app, ip).login(email, PASSWORD), 'after many failures from the allowlist');
    assert.equal(await app.store.buckets.get(`login-fail:${ip}`), null, 'no bucket at all');
  });

  test('the operator and the targeted org admins are alerted at most once per hour per IP; users are not', async () => {
    // Threat: an attack going unnoticed, or an alert storm (one email per refused request) drowning the operator.
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    const orgName = `Org ${uniqueEmail('o')}`;
    await createOrg(deps, orgName);
    const admin = await createUser(deps, { email: uniqueEmail('admin'), password: PASSWORD, orgName, role: 'admin', emailVerified: true });
    const member = await createUser(deps, { email: uniqueEmail('member'), password: PASSWORD, orgName, role: 'member', emailVerified: true });
    const alerts = async (to: string) => (await queued(app, to, 'ip_throttled_alert')).length;
    const opsBefore = await alerts(OPS);

    const ip = randomIpv4();
    await spray(ip, CAPACITY);
    const attacker = loginClient(app, ip);
    for (let i = 0; i < 4; i++) assertThrottled(await attacker.login(member.email, `guess ${i}`), `refused attempt ${i + 1}`);
    assert.equal(await alerts(OPS), opsBefore + 1, 'one alert to the operator');
    assert.equal(await alerts(admin.email), 1, 'one alert to the admin of the targeted account’s organization');
    assert.deepEqual(await queued(app, member.email, 'ip_throttled_alert'), [], 'the targeted user is not emailed');
    assert.deepEqual((await app.store.outbox.list({ limit: 1000 })).filter((m) => m.to === member.email), [], 'nor sent anything else');

    const inbox = new Inbox(app);
    const mail = (await inbox.newMail(OPS)).filter((m) => m.text.includes(ip));
    assert.equal(mail.length, 1);
    assert.ok(mail[0]!.text.includes(`portcullis ip release ${ip}`), 'the alert says how to release the IP');

    // Another IP is another alert.
    const second = randomIpv4();
    await spray(second, CAPACITY + 1);
    assert.equal(await alerts(OPS), opsBefore + 2, 'a second IP gets its own alert');
    // Half an hour later two tokens are back (one per 864 s); once they are spent the IP is throttled again, within the hour: no alert.
    clock.advance(HOUR / 2);
    assert.deepEqual(await spray(ip, 2), [401, 401]);
    assertThrottled(await attacker.login(member.email, 'guess again'), 'throttled again within the hour');
    assert.equal(await alerts(OPS), opsBefore + 2, 'no second alert for the same IP within the hour');
    assert.equal(await alerts(admin.email), 1);
    // An hour after the first alert, the next throttling of that IP is reported again.
    clock.advance(HOUR / 2);
    assert.deepEqual(await spray(ip, 2), [401, 401]);
    assertThrottled(await attacker.login(member.email, 'and again'), 'throttled again after the hour');
    assert.equal(await alerts(OPS), opsBefore + 3);
    assert.equal(await alerts(admin.email), 2);
  });

  test('operators can list throttled IPs and release one (use-case and CLI)', async () => {
    // Threat: a legitimate address (an office behind NAT) stuck until the bucket refills, with no way for the operator to see or fix it.
    const ip = randomIpv4();
    assert.deepEqual(await spray(ip, CAPACITY + 1), [...repeat(401, CAPACITY), 429]);
    const listed = (await listThrottled(app.store, app.clock, POLICY)).find((t) => t.ipKey === ip);
    assert.ok(listed, 'the throttled IP is listed');
    assert.equal(listed.nextAllowedAt, clock.now() + REFILL_MS);
    assert.equal(await releaseIp(app.store, app.clock, ip, 'test-admin'), true);
    assert.equal((await listThrottled(app.store, app.clock, POLICY)).some((t) => t.ipKey === ip), false);
    assert.deepEqual(await spray(ip, CAPACITY + 1), [...repeat(401, CAPACITY), 429], 'a released IP has its full allowance back');
    const released = (await app.store.events.list({ limit: 50 })).find((e) => e.code === 'ip_released' && e.ip === ip);
    assert.deepEqual({ actor: released?.details.actor, released: released?.details.released }, { actor: 'test-admin', released: true });

    // The CLI, on an IPv6 client: the whole /64 is one entry.
    const v6 = '2001:db8:77:1::20';
    await spray(v6, CAPACITY + 1);
    const env = { PORTCULLIS_THROTTLE_FAILED_LOGINS: String(CAPACITY) };
    const json = await cliFor(app, ['ip', 'throttled', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as { ipKey: string; tokens: number; nextAllowedAt: number }[];
    assert.ok(rows.some((r) => r.ipKey === '2001:db8:77:1::/64' && r.tokens < 1), `listed by the CLI: ${json.stdout}`);
    const release = await cliFor(app, ['ip', 'release', '2001:db8:77:1::99'], env);
    assert.equal(release.code, 0, release.stderr);
    assert.match(release.stdout, /Released/);
    // The CLI is another process: a running node sees the release once its 2 s refusal memory has lapsed.
    clock.advance(2_000);
    assert.deepEqual(await spray('2001:db8:77:1:abcd::1', 1), [401], 'the /64 may try again');
    assert.match((await cliFor(app, ['ip', 'release', '198.51.100.250'], env)).stdout, /nothing to do/);
  });

  test('sign-ups are limited per IP by the same token-bucket mechanism', async () => {
    // Threat: mass account creation (and mail bombing through verification emails) from one address.
    const ip = randomIpv4();
    const browser = browserFrom(app, { ip });
    const signUp = async () => {
      const csrf = await csrfFrom(browser, '/signup');
      return (await browser.postForm('/signup', { csrf, email: uniqueEmail('signup'), password: PASSWORD })).statusCode;
    };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await signUp());
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const bucket = await app.store.buckets.get(`signup:${ip}`);
    assert.ok(bucket && bucket.tokens < 1, 'the limit lives in the same RateLimitStore as login throttling');
    clock.advance(20_000); // 3 per minute: one token every 20 s
    assert.deepEqual([await signUp(), await signUp()], [200, 429], 'one more sign-up per refill interval');
    const neighbour = browserFrom(app, { ip: randomIpv4() });
    const csrf = await csrfFrom(neighbour, '/signup');
    assert.equal((await neighbour.postForm('/signup', { csrf, email: uniqueEmail('signup'), password: PASSWORD })).statusCode, 200, 'another IP has its own bucket');
  });
});
