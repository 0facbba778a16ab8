// Brute-force protection per (account, IP) through the real app: exact under concurrency on every backend, no enumeration, and every way a block ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf, location, REDIRECT_URI, pkcePair, startLogin } from '../helpers/oidc-flow.js';
import { browserFrom, csrfFrom, FakeClock, Inbox, queued, seedUser, tokenOf } from '../helpers/account-browser.js';
import { appBackends, cliFor, countHashing, loginClient, masked, randomIpv4, repeat, uniqueEmail, type HashCounter } from '../helpers/protection.js';
import { MESSAGES } from '../../src/http/password-login.js';
import { unblockIdentifier } from '../../src/admin/protection.js';
import { addClient } from '../../src/admin/clients.js';
import type { SecurityEvent } from '../../src/events/event-codes.js';
import { generateTotpSecret, totpCode } from '../../src/authn/totp.js';

// Not a real-world password, so a breached-password check can never refuse it.
const PASSWORD = 'portcullis test passphrase 7f3a';
const WRONG = 'not the password 0';
const THRESHOLD = 10;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const BLOCK_SECONDS = String((30 * DAY) / 1000);

/** Security events about one identifier, oldest first. */
async function eventsFor(app: TestApp, identifier: string, code?: SecurityEvent['code']): Promise<SecurityEvent[]> {
  const all = await app.store.events.list({ limit: 10_000 });
  return all.filter((e) => e.identifier === identifier && (code === undefined || e.code === code)).reverse();
}

function assertBlockedPage(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 429, `${what}: ${response.statusCode} ${response.body.slice(0, 200)}`);
  assert.ok(response.body.includes(MESSAGES.blocked), `${what}: the page says what happened and to check email`);
}

function assertSignedIn(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 303, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.equal(location(response), '/account');
}

/** Ten guesses from one peer, each naming another address in X-Forwarded-For: all count against the peer, none against the victim. */
async function assertXffCannotDodgeOrFrame(app: TestApp): Promise<void> {
  const email = uniqueEmail('xff');
  await seedUser(app, email, PASSWORD);
  const attackerIp = randomIpv4();
  const victimIp = randomIpv4();
  const attacker = await loginClient(app, attackerIp).prepare();
  for (let i = 0; i < THRESHOLD; i++) {
    const spoofed = i % 2 === 0 ? victimIp : `203.0.113.${100 + i}`;
    assert.equal((await attacker.login(email, `${WRONG}${i}`, { 'x-forwarded-for': spoofed })).statusCode, 401);
  }
  assertBlockedPage(await attacker.login(email, PASSWORD, { 'x-forwarded-for': '192.0.2.200' }), 'a fresh spoofed header does not dodge the block');
  assert.equal((await app.store.attempts.get(email, attackerIp))?.count, THRESHOLD, 'every guess counted against the real peer');
  assert.equal(await app.store.attempts.get(email, victimIp), null, 'nothing counted against the named victim');
  assertSignedIn(await loginClient(app, victimIp).login(email, PASSWORD), 'the victim IP was not framed');
}

for (const backend of appBackends()) {
  describe(`brute force on ${backend.name}`, () => {
    test('the threshold is exact under concurrency', async () => {
      // Threat: an attacker firing guesses in parallel so that more than the threshold get checked before the count catches up.
      const { app, track, dispose } = await backend.create();
      try {
        const email = uniqueEmail('race');
        const ip = randomIpv4();
        track(email, ip);
        await seedUser(app, email, PASSWORD);
        const hashing = countHashing(app.hasher);
        // 200 separate sign-in transactions (each its own cookies), as a botnet behind one address would open them.
        const attackers = await Promise.all(Array.from({ length: 200 }, () => loginClient(app, ip).prepare()));

        const responses = await Promise.all(attackers.map((attacker, i) => attacker.login(email, `wrong guess ${i}`)));
        const statuses = responses.map((r) => r.statusCode);
        assert.ok(hashing.verifications <= THRESHOLD, `at most ${THRESHOLD} password verifications, got ${hashing.verifications}`);
        assert.equal(hashing.verifications, THRESHOLD, 'the slots that were reserved were used');
        assert.equal(statuses.filter((s) => s === 401).length, THRESHOLD, 'exactly the threshold got an answer about the password');
        assert.equal(statuses.filter((s) => s === 429).length, 200 - THRESHOLD, 'every other attempt was refused before hashing');

        assertBlockedPage(await loginClient(app, ip).login(email, PASSWORD), 'the right password after the race');
        assert.equal(hashing.verifications, THRESHOLD, 'the blocked attempt did not hash');
        assert.equal((await app.store.attempts.get(email, ip))?.count, THRESHOLD);
        const started = await eventsFor(app, email, 'login_block_started');
        assert.equal(started.length, 1, 'the block started once');
        assert.equal(started[0]?.details.count, THRESHOLD);
        assert.equal(started[0]?.details.threshold, THRESHOLD);
        assert.equal((await queued(app, email, 'account_blocked')).length, 1, 'one block email, however many requests raced');
      } finally {
        await dispose();
      }
    });
  });
}

describe('brute-force protection (SQLite, fake clock)', () => {
  let app: TestApp;
  let hashing: HashCounter;
  let inbox: Inbox;
  const clock = new FakeClock();

  before(async () => {
    app = await createTestApp({}, { clock });
    hashing = countHashing(app.hasher);
    inbox = new Inbox(app);
  });
  after(async () => {
    await app.dispose();
  });

  /** A user blocked from `ip` by THRESHOLD wrong passwords. */
  async function blockedUser(tag: string, ip = randomIpv4()) {
    const email = uniqueEmail(tag);
    const user = await seedUser(app, email, PASSWORD);
    const attacker = loginClient(app, ip);
    assert.deepEqual(await attacker.fail(email, THRESHOLD), repeat(401, THRESHOLD));
    assertBlockedPage(await attacker.login(email, PASSWORD), 'right password once blocked');
    return { email, user, ip, attacker };
  }

  test('the blocked path does no password hashing', async () => {
    // Threat: a blocked attacker still costing an argon2 run (CPU exhaustion) or probing passwords on every refused guess.
    const { email, ip, attacker } = await blockedUser('nohash');
    const ghost = uniqueEmail('nohsh');
    await loginClient(app, ip).fail(ghost, THRESHOLD);
    await addClient(app.store, app.clock, { clientId: 'bf-spa', redirectUris: [REDIRECT_URI], public: true, firstParty: true });

    hashing.reset();
    for (let i = 0; i < 5; i++) {
      const wrong = await attacker.login(email, `${WRONG}${i}`);
      assertBlockedPage(wrong, 'a wrong guess while blocked');
      assert.equal(wrong.headers['retry-after'], BLOCK_SECONDS, 'Retry-After says when the block ends');
      assertBlockedPage(await attacker.login(email, PASSWORD), 'the right password while blocked');
      assertBlockedPage(await attacker.login(ghost, PASSWORD), 'an unknown identifier while blocked');
    }
    // The OIDC login endpoint runs the same pipeline.
    const oidcBrowser = browserFrom(app, { ip });
    const started = await startLogin(oidcBrowser, { client_id: 'bf-spa', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's' });
    const viaOidc = await oidcBrowser.postForm(started.action, { csrf: started.csrf, email, password: PASSWORD });
    assertBlockedPage(viaOidc, 'POST /interaction/:uid/login');

    assert.deepEqual({ verify: hashing.verify, dummyVerify: hashing.dummyVerify, hash: hashing.hash }, { verify: 0, dummyVerify: 0, hash: 0 }, 'no argon2 work at all on the blocked path');
    assert.equal((await app.store.attempts.get(email, ip))?.count, THRESHOLD, 'refused attempts do not add to the count');
    const refused = await eventsFor(app, email, 'login_blocked');
    // The first refusal is decided by the stores and logged; the next ones, within 2 s, are answered from memory.
    assert.equal(refused.length, 1, 'one event for the refusal the stores decided');
    assert.deepEqual(
      { reason: refused[0]?.reason, count: refused[0]?.details.count, threshold: refused[0]?.details.threshold, until: refused[0]?.details.until },
      { reason: 'account_ip_blocked', count: THRESHOLD, threshold: THRESHOLD, until: (await app.store.attempts.get(email, ip))!.lastAt + 30 * DAY },
      'each refusal is logged with the numbers behind it',
    );
    // Once memory's 2 s are over the stores decide again, and the event counts what memory refused meanwhile.
    clock.advance(2_000);
    assertBlockedPage(await attacker.login(email, PASSWORD), 'after the refusal memory expired');
    const logged = await eventsFor(app, email, 'login_blocked');
    assert.equal(logged.length, 2);
    assert.equal(logged[1]?.details.refused_from_memory, 11, 'the 10 form attempts and the OIDC one answered from memory are counted');
    assert.deepEqual({ verify: hashing.verify, dummyVerify: hashing.dummyVerify }, { verify: 0, dummyVerify: 0 });
  });

  test('CSRF is checked before a remembered refusal is answered', async () => {
    // Threat: the refusal memory answering before the CSRF check, so a cross-site or token-less POST gets a
    // different answer (and skips the check that every form has).
    const { email, attacker } = await blockedUser('csrfmem');
    assertBlockedPage(await attacker.login(email, PASSWORD), 'the pair is refused from memory');
    const withoutToken = await attacker.browser.postForm('/login', { email, password: PASSWORD });
    assert.equal(withoutToken.statusCode, 403, 'a POST without the token is refused as a CSRF failure, not as a block');
    const wrongToken = await attacker.browser.postForm('/login', { csrf: 'x'.repeat(43), email, password: PASSWORD });
    assert.equal(wrongToken.statusCode, 403);
  });

  test('an unknown identifier behaves like a known one', async () => {
    // Threat: account enumeration through the lockout: different answers, timings or emails for addresses that exist.
    const known = uniqueEmail('known');
    const ghost = uniqueEmail('ghost');
    assert.equal(known.length, ghost.length);
    await seedUser(app, known, PASSWORD);
    const ip = randomIpv4();
    const client = loginClient(app, ip);

    async function run(email: string, n: number) {
      const before = hashing.verifications;
      const seen = [];
      for (let i = 0; i < n; i++) {
        const r = await client.login(email, `${WRONG}${i}`);
        seen.push({ status: r.statusCode, retryAfter: r.headers['retry-after'] ?? null, body: masked(r.body, email) });
      }
      return { seen, verifications: hashing.verifications - before };
    }

    const forKnown = await run(known, THRESHOLD + 3);
    const forGhost = await run(ghost, THRESHOLD + 3);
    assert.deepEqual(forKnown.seen.map((s) => s.status), [...repeat(401, THRESHOLD), 429, 429, 429]);
    assert.deepEqual(forGhost.seen, forKnown.seen, 'the same statuses, headers and pages, in the same order');
    assert.equal(forGhost.verifications, forKnown.verifications, 'the same argon2 work (a dummy verify for the unknown one)');
    assert.equal((await app.store.attempts.get(ghost, ip))?.count, THRESHOLD, 'the unknown identifier is counted and blocked too');

    assert.deepEqual(await inbox.newMail(ghost), [], 'no email for an unknown identifier');
    assert.deepEqual(await queued(app, ghost, 'account_blocked'), []);
    const mail = await inbox.newMail(known);
    assert.equal(mail.length, 1, 'the owner is told once');
    assert.match(mail[0]!.subject, /was blocked/);
    assert.ok(mail[0]!.text.includes(ip), 'the email names the IP');
    assert.ok(mail[0]!.text.includes('http://localhost:3000/unblock/'), 'and carries an Unblock link');

    await run(known, 5);
    assert.deepEqual(await inbox.newMail(known), [], 'more refused attempts send nothing more');

    // A second block from the same IP within the hour (after an admin unblock) sends no second email...
    await unblockIdentifier(app.store, app.clock, known, ip, 'test');
    clock.advance(59 * MINUTE);
    assert.deepEqual((await run(known, THRESHOLD + 1)).seen.map((s) => s.status), [...repeat(401, THRESHOLD), 429]);
    assert.equal((await eventsFor(app, known, 'login_block_started')).length, 2, 'the block did start again');
    assert.deepEqual(await inbox.newMail(known), [], 'at most one email per hour per (account, IP)');
    // ...but another IP is another (account, IP) pair, and after the hour the same IP may be reported again.
    assert.deepEqual(await loginClient(app, randomIpv4()).fail(known, THRESHOLD), repeat(401, THRESHOLD));
    assert.equal((await inbox.newMail(known)).length, 1, 'a block from another IP is its own email');
    await unblockIdentifier(app.store, app.clock, known, ip, 'test');
    clock.advance(HOUR);
    await run(known, THRESHOLD);
    assert.equal((await inbox.newMail(known)).length, 1, 'an hour later the same IP is reported again');
  });

  test('a different IP was never blocked', async () => {
    // Threat: an attacker locking the real user out of their account everywhere by guessing from one address.
    const { email, ip, attacker } = await blockedUser('other');
    const elsewhere = randomIpv4();
    assert.equal(await app.store.attempts.get(email, elsewhere), null, 'nothing was counted for the other IP');
    assertSignedIn(await loginClient(app, elsewhere).login(email, PASSWORD), 'the right password from another IP');
    assertBlockedPage(await attacker.login(email, PASSWORD), 'a success elsewhere does not unblock the attacker IP');
    assert.equal((await app.store.attempts.get(email, ip))?.count, THRESHOLD);
  });

  test('IPv6 addresses in the same /64 share a count; a different /64 does not', async () => {
    // Threat: an attacker with a /64 (one home connection) rotating addresses to get a fresh count per guess.
    const email = uniqueEmail('ipv6');
    await seedUser(app, email, PASSWORD);
    const addresses = ['2001:db8:aa:1::1', '2001:db8:aa:1::2', '2001:db8:aa:1:ffff:ffff:ffff:ffff', '2001:0db8:00aa:0001::9', '2001:DB8:AA:1:1234::5'];
    for (let i = 0; i < THRESHOLD; i++) {
      const r = await loginClient(app, addresses[i % addresses.length]).login(email, `${WRONG}${i}`);
      assert.equal(r.statusCode, 401, `guess ${i + 1}`);
    }
    assert.equal((await app.store.attempts.get(email, '2001:db8:aa:1::/64'))?.count, THRESHOLD, 'one count for the whole /64');
    assertBlockedPage(await loginClient(app, '2001:db8:aa:1:abcd::77').login(email, PASSWORD), 'a fresh address in the same /64');
    assertSignedIn(await loginClient(app, '2001:db8:aa:2::1').login(email, PASSWORD), 'the neighbouring /64');
  });

  test('the Unblock link restores login from that IP: GET changes nothing, POST unblocks and sends a one-time login link', async () => {
    // Threat: a legitimate user locked out by someone else's guesses; and a mail scanner "clicking" the link on the user's behalf.
    const { email, ip, attacker } = await blockedUser('unblock');
    const link = await inbox.newLink(email, '/unblock');

    const scanner = new Browser(app.server);
    for (let i = 0; i < 2; i++) {
      const page = await scanner.get(link);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<button type="submit">Unblock<\/button>/);
      assert.ok(page.body.includes(ip), 'the page names the blocked address');
    }
    assert.equal((await app.store.links.findById(tokenOf(link).id))?.usedAt, null, 'GET does not use the link');
    assert.equal((await app.store.attempts.get(email, ip))?.count, THRESHOLD, 'GET does not unblock');
    assertBlockedPage(await attacker.login(email, PASSWORD), 'still blocked after two GETs');

    // The owner clicks on their phone, from another network: the link unblocks the IP it was issued for.
    const phone = browserFrom(app, { ip: randomIpv4() });
    const csrf = await csrfFrom(phone, link);
    const done = await phone.postForm(link, { csrf });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assert.match(done.body, /Sign-in unblocked/);
    assert.equal(await app.store.attempts.get(email, ip), null);
    assert.ok((await inbox.newLink(email, '/login-link')).startsWith('/login-link/'), 'a one-time login link is emailed');
    const unblocked = await eventsFor(app, email, 'login_unblocked');
    assert.equal(unblocked.at(-1)?.reason, 'unblock_link');

    assertSignedIn(await attacker.login(email, PASSWORD), 'login from the unblocked IP');
    assert.equal((await phone.postForm(link, { csrf })).statusCode, 410, 'the link works once');
  });

  test('an admin unblock (use-case and `portcullis user unblock`) restores login from that IP', async () => {
    // Threat: a user locked out with no way back except waiting 30 days.
    const first = await blockedUser('admin');
    assert.equal(await unblockIdentifier(app.store, app.clock, first.email, first.ip, 'test-admin'), 1);
    assertSignedIn(await first.attacker.login(first.email, PASSWORD), 'after the admin use-case');
    const logged = (await eventsFor(app, first.email.toLowerCase(), 'login_unblocked')).at(-1);
    assert.deepEqual({ reason: logged?.reason, actor: logged?.details.actor, cleared: logged?.details.cleared }, { reason: 'admin', actor: 'test-admin', cleared: 1 });

    const second = await blockedUser('admcli');
    const listed = await cliFor(app, ['blocks', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const blocks = JSON.parse(listed.stdout) as { identifier: string; ipKey: string; failures: number }[];
    assert.ok(blocks.some((b) => b.identifier === second.email && b.ipKey === second.ip && b.failures === THRESHOLD), 'blocks list shows the pair');
    const unblock = await cliFor(app, ['user', 'unblock', second.email, '--ip', second.ip]);
    assert.equal(unblock.code, 0, unblock.stderr);
    assert.match(unblock.stdout, /Unblocked/);
    // The CLI is another process: a running node sees its unblock once the node's 2 s refusal memory has lapsed.
    clock.advance(2_000);
    assertSignedIn(await second.attacker.login(second.email, PASSWORD), 'after `portcullis user unblock`');
    assert.match((await cliFor(app, ['user', 'unblock', second.email])).stdout, /nothing to do/, 'a second unblock finds nothing');
  });

  test('completing a password reset restores login from the blocked IP', async () => {
    // Threat: a user who proved control of their mailbox staying locked out.
    const { email, attacker } = await blockedUser('reset');
    const phone = browserFrom(app, { ip: randomIpv4() });
    const requested = await phone.postForm('/password/forgot', { csrf: await csrfFrom(phone, '/password/forgot'), email });
    assert.equal(requested.statusCode, 200);
    const link = await inbox.newLink(email, '/password/reset');
    const form = await phone.get(link);
    const done = await phone.postForm(link, { csrf: hiddenCsrf(form.body), password: 'a brand new passphrase' });
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assertSignedIn(await attacker.login(email, 'a brand new passphrase'), 'the new password from the formerly blocked IP');
  });

  test('a block ends 30 days after the last failure, not a second earlier', async () => {
    // Threat: a block that never ends (a permanent lockout) or ends early (more guesses for the attacker).
    const { email, attacker } = await blockedUser('expiry');
    clock.advance(30 * DAY - 1000);
    const almost = await attacker.login(email, PASSWORD);
    assertBlockedPage(almost, 'one second before the end');
    assert.equal(almost.headers['retry-after'], '1');
    clock.advance(1000);
    assertSignedIn(await attacker.login(email, PASSWORD), 'once 30 days have passed');
  });

  test('the one-time login link works once and expires', async () => {
    // Threat: a leaked or replayed login link giving lasting access to the account.
    const { email, user } = await blockedUser('onetime');
    const unblock = await inbox.newLink(email, '/unblock');
    const owner = browserFrom(app, { ip: randomIpv4() });
    await owner.postForm(unblock, { csrf: await csrfFrom(owner, unblock) });
    const loginLink = await inbox.newLink(email, '/login-link');

    const device = new Browser(app.server);
    const page = await device.get(loginLink);
    assert.equal(page.statusCode, 200);
    assert.equal((await device.get(loginLink)).statusCode, 200, 'GET does not use the link');
    const used = await device.postForm(loginLink, { csrf: hiddenCsrf(page.body) });
    assert.equal(used.statusCode, 303, used.body.slice(0, 300));
    assert.equal(location(used), '/account');
    const account = await device.get('/account');
    assert.equal(account.statusCode, 200, 'the link made a normal session');
    assert.ok(account.body.includes(email), 'for the user the link was issued to');
    assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 1);
    assert.equal((await app.store.events.list({ userId: user.id, limit: 200 })).filter((e) => e.code === 'login_link_used').length, 1, 'the sign-in is recorded');

    const replay = new Browser(app.server);
    assert.equal((await replay.get(loginLink)).statusCode, 410, 'a used link shows the problem page');
    assert.equal((await device.postForm(loginLink, { csrf: hiddenCsrf(page.body) })).statusCode, 410, 'and cannot be used again');

    // A second link (a block from another IP) is valid for 15 minutes.
    const otherIp = randomIpv4();
    assert.deepEqual(await loginClient(app, otherIp).fail(email, THRESHOLD), repeat(401, THRESHOLD));
    const unblock2 = await inbox.newLink(email, '/unblock');
    await owner.postForm(unblock2, { csrf: await csrfFrom(owner, unblock2) });
    const loginLink2 = await inbox.newLink(email, '/login-link');
    const late = new Browser(app.server);
    clock.advance(15 * MINUTE - 1000);
    const stillValid = await late.get(loginLink2);
    assert.equal(stillValid.statusCode, 200, 'valid just before 15 minutes');
    clock.advance(1000);
    const expired = await late.get(loginLink2);
    assert.equal(expired.statusCode, 410);
    assert.match(expired.body, /expired/);
    assert.equal((await late.postForm(loginLink2, { csrf: hiddenCsrf(stillValid.body) })).statusCode, 410, 'an expired link does not sign in');
    assert.equal(late.jar.get('portcullis_session'), undefined);
  });

  test('the one-time login link still requires 2FA when enrolled', async () => {
    // Threat: someone who reads the user's mailbox, but has no access to their authenticator, signing in through the emailed link.
    const { email, user } = await blockedUser('twofa');
    const secret = generateTotpSecret();
    await app.store.mfa.enableTotp(user.id, secret, clock.now());
    const unblock = await inbox.newLink(email, '/unblock');
    const owner = browserFrom(app, { ip: randomIpv4() });
    await owner.postForm(unblock, { csrf: await csrfFrom(owner, unblock) });
    const loginLink = await inbox.newLink(email, '/login-link');

    const device = new Browser(app.server);
    const used = await device.postForm(loginLink, { csrf: hiddenCsrf((await device.get(loginLink)).body) });
    assert.equal(used.statusCode, 303, used.body.slice(0, 300));
    assert.notEqual(location(used), '/account', 'the link alone does not reach the account');
    assert.equal(device.jar.get('portcullis_session'), undefined, 'no session before the second factor');
    assert.deepEqual(await app.store.sessions.listActiveForUser(user.id), []);
    assert.equal((await device.get('/account')).statusCode, 303, 'the account page still asks to sign in');

    const step = await device.get(location(used));
    assert.equal(step.statusCode, 200);
    assert.match(step.body, /Two-step verification/);
    const code = totpCode({ secret, now: clock.now() });
    const wrong = await device.postForm('/login/mfa', { csrf: hiddenCsrf(step.body), code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 401, 'a wrong code is refused');
    assert.equal(device.jar.get('portcullis_session'), undefined);
    // Threat: the audit log and login metrics count the link as a sign-in that the second factor then stopped.
    const codesOf = async (code: string) => (await app.store.events.list({ userId: user.id, limit: 200 })).filter((e) => e.code === code);
    assert.equal((await codesOf('login_link_used')).length, 0, 'no sign-in recorded while the second factor is pending');
    assert.deepEqual((await codesOf('mfa_required')).map((e) => e.reason), ['login_link']);
    assertSignedIn(await device.postForm('/login/mfa', { csrf: hiddenCsrf(wrong.body), code }), 'after the second factor');
    assert.equal((await device.get('/account')).statusCode, 200);
    assert.equal((await device.get(loginLink)).statusCode, 410, 'the link stays used');
    const signedIn = await codesOf('login_link_used');
    assert.equal(signedIn.length, 1, 'recorded once, when the session started');
    assert.deepEqual(signedIn[0]?.details.amr, ['email', 'otp', 'mfa']);
    assert.equal((await codesOf('login_success')).length, 0, 'not a password sign-in');
  });

  test('a successful login clears the count for that IP', async () => {
    // Threat: a legitimate user who mistypes now and then being blocked by failures spread over months.
    const email = uniqueEmail('clear');
    await seedUser(app, email, PASSWORD);
    const ip = randomIpv4();
    const user = loginClient(app, ip);
    assert.deepEqual(await user.fail(email, THRESHOLD - 1), repeat(401, THRESHOLD - 1));
    assertSignedIn(await user.login(email, PASSWORD), 'success after 9 failures');
    assert.equal(await app.store.attempts.get(email, ip), null, 'the count is gone');
    assert.deepEqual(await user.fail(email, THRESHOLD - 1), repeat(401, THRESHOLD - 1));
    assert.equal((await app.store.attempts.get(email, ip))?.count, THRESHOLD - 1, 'counting starts again from zero');
    assertSignedIn(await user.login(email, PASSWORD), 'not blocked');
  });
  test('X-Forwarded-For from an untrusted peer cannot dodge or frame an IP', async () => {
    // Threat: an attacker rotating a spoofed X-Forwarded-For to get fresh counts, or naming a victim's IP to get it blocked.
    assert.equal(app.config.trustProxy, 'false');
    await assertXffCannotDodgeOrFrame(app);
  });
});

describe('brute-force protection: allowlist and a trusted proxy', () => {
  let app: TestApp;
  before(async () => {
    app = await createTestApp({ ipAllowlist: '192.0.2.0/24, 2001:db8:a11::/48', throttle: { failedLoginsPerDay: 15 }, trustProxy: '10.9.0.0/16' });
  });
  after(async () => {
    await app.dispose();
  });

  test('an allowlisted IP is never blocked or throttled', async () => {
    // Threat: the operator's own office or VPN being locked out (the allowlist is the operator's explicit choice).
    const email = uniqueEmail('allow');
    await seedUser(app, email, PASSWORD);
    for (const ip of ['192.0.2.10', '2001:db8:a11:5::1']) {
      const office = loginClient(app, ip);
      assert.deepEqual(await office.fail(email, 30), repeat(401, 30), `30 failures from ${ip} are all just wrong passwords`);
      assertSignedIn(await office.login(email, PASSWORD), `allowlisted ${ip}`);
    }
    assert.equal((await app.store.attempts.listAtLeast(1, 0, 100)).length, 0, 'nothing was counted');
    assert.deepEqual(await app.store.buckets.list('login-fail:', 100), [], 'no throttle bucket was spent');
    // Control: the same app does protect an address outside the allowlist.
    assert.deepEqual(await loginClient(app, '198.51.100.10').fail(email, THRESHOLD + 1), [...repeat(401, THRESHOLD), 429]);
  });

  test('with a trusted proxy configured, X-Forwarded-For from any other peer still cannot dodge or frame an IP', async () => {
    // Threat: a client connecting directly (bypassing the proxy) and spoofing the header the proxy would set.
    await assertXffCannotDodgeOrFrame(app);
    // The trusted proxy's header is honoured: the client behind it is counted, not the proxy.
    const email = uniqueEmail('proxd');
    await seedUser(app, email, PASSWORD);
    const proxied = await loginClient(app, '10.9.0.1').login(email, WRONG, { 'x-forwarded-for': '198.51.100.55' });
    assert.equal(proxied.statusCode, 401);
    assert.equal((await app.store.attempts.get(email, '198.51.100.55'))?.count, 1);
    assert.equal(await app.store.attempts.get(email, '10.9.0.1'), null);
  });
});
