// The admin console over HTTP on every backend: who may use it (operators everything, organization admins their
// organization, members nothing), every action with its CSRF token, confirmation and event (actor user:<id>), the
// settings form, the dashboard charts and the events filter with its explanations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';
import { Browser, location } from '../helpers/oidc-flow.js';
import { browserFrom, seedUser, signIn } from '../helpers/account-browser.js';
import { appBackends, loginClient, randomIpv4, uniqueEmail, type BackendApp } from '../helpers/protection.js';
import { createOrg } from '../../src/admin/users.js';
import type { Org, User } from '../../src/domain/types.js';
import type { EventCode, SecurityEvent } from '../../src/events/event-codes.js';
import type { PasskeyRecord } from '../../src/store/store.js';
import type { ConsoleFrame } from '../../src/http/views/admin-layout.js';
import { webhooksPage } from '../../src/http/views/admin-webhooks-page.js';

const PASSWORD = 'portcullis console passphrase 9c41';
const IMPOSSIBLE_TRAVEL = 'Impossible travel: London, United Kingdom → Sydney, Australia, 16,994 km in 10 min';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = (s: string): string => s.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] as string);

/** The admin-scope CSRF token: the one in a form that posts under /admin (the header's sign-out form has another). */
function adminCsrf(body: string): string {
  const match = /<form method="post" action="\/admin[^"]*"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"/.exec(body);
  assert.ok(match?.[1], `no admin form on the page: ${body.slice(0, 400)}`);
  return match[1];
}

/** What a browser would submit for the form posting to `action`: inputs, checked boxes, selected options, textareas. */
function formValues(body: string, action: string): Record<string, string> {
  const start = body.indexOf(`<form method="post" action="${action}"`);
  assert.ok(start >= 0, `no form posting to ${action}`);
  const form = body.slice(start, body.indexOf('</form>', start));
  const out: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    if (!name) continue;
    const value = unescape(/value="([^"]*)"/.exec(tag)?.[1] ?? '');
    if (/type="checkbox"/.test(tag)) {
      if (/\schecked\b/.test(tag)) out[name] = value;
    } else out[name] = value;
  }
  for (const [, name, options] of form.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected>/.exec(options ?? '') ?? /<option value="([^"]*)"/.exec(options ?? '');
    out[name as string] = unescape(selected?.[1] ?? '');
  }
  for (const [, name, text] of form.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) out[name as string] = unescape(text ?? '');
  return out;
}

function passkey(userId: string, name: string): PasskeyRecord {
  const id = Math.random().toString(36).slice(2);
  return {
    id: `pk-${id}`,
    userId,
    credentialId: `cred-${id}`,
    publicKey: 'cose-key',
    counter: 0,
    transports: ['internal'],
    backupEligible: true,
    backedUp: true,
    deviceType: 'multiDevice',
    aaguid: '00000000-0000-0000-0000-000000000000',
    name,
    createdAt: Date.now(),
    lastUsedAt: null,
  };
}

/** The user's events of `code` (newest first). */
async function eventsOf(app: TestApp, code: EventCode, userId?: string): Promise<SecurityEvent[]> {
  return (await app.store.events.query({ codes: [code], limit: 200, ...(userId ? { userId } : {}) })).events;
}

function assertStatus(response: LightMyRequestResponse, status: number, what: string): void {
  assert.equal(response.statusCode, status, `${what}: ${response.statusCode} ${response.body.slice(0, 500)}`);
}

/** data-total of one dashboard chart. */
function chartTotal(body: string, series: string, window: 'day' | 'month'): number {
  const match = new RegExp(`data-series="${series}" data-window="${window}" data-total="(\\d+)"`).exec(body);
  assert.ok(match, `chart ${series}/${window} on the dashboard`);
  return Number(match[1]);
}

interface World {
  backend: BackendApp;
  app: TestApp;
  orgA: Org;
  orgB: Org;
  operator: User;
  adminA: User;
  memberA: User;
  memberB: User;
  /** Signed-in browsers. */
  asOperator: Browser;
  asAdminA: Browser;
  asMemberA: Browser;
}

async function user(app: TestApp, tag: string, org: Org | null, role: 'admin' | 'member' = 'member'): Promise<User> {
  const created = await seedUser(app, uniqueEmail(tag), PASSWORD);
  if (org) await app.store.users.setMembership(created.id, org.id, role, app.clock.now());
  return (await app.store.users.findById(created.id)) as User;
}

async function signedIn(app: TestApp, who: User): Promise<Browser> {
  const browser = browserFrom(app, { ip: randomIpv4() });
  await signIn(browser, who.email, PASSWORD);
  return browser;
}

async function postAdmin(browser: Browser, url: string, fields: Record<string, string> = {}, csrfFrom = '/admin/users'): Promise<LightMyRequestResponse> {
  const page = await browser.get(csrfFrom);
  assertStatus(page, 200, `GET ${csrfFrom}`);
  return browser.postForm(url, { csrf: adminCsrf(page.body), ...fields });
}

for (const backend of appBackends()) {
  describe(`admin console on ${backend.name}`, () => {
    let w: World;

    before(async () => {
      const created = await backend.create();
      const app = created.app;
      const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
      const orgA = await createOrg(deps, `Acme ${Math.random().toString(36).slice(2, 8)}`);
      const orgB = await createOrg(deps, `Globex ${Math.random().toString(36).slice(2, 8)}`);
      const operator = await user(app, 'operator', null);
      await app.store.users.setOperator(operator.id, true, app.clock.now());
      const adminA = await user(app, 'admin-a', orgA, 'admin');
      const memberA = await user(app, 'member-a', orgA);
      const memberB = await user(app, 'member-b', orgB);
      created.track(operator.email, adminA.email, memberA.email, memberB.email);
      w = {
        backend: created,
        app,
        orgA,
        orgB,
        operator: (await app.store.users.findById(operator.id)) as User,
        adminA,
        memberA,
        memberB,
        asOperator: await signedIn(app, operator),
        asAdminA: await signedIn(app, adminA),
        asMemberA: await signedIn(app, memberA),
      };
    });

    after(async () => {
      await w?.backend.dispose();
    });

    test('not signed in: every console page redirects to the sign-in with the page as next', async () => {
      const anonymous = browserFrom(w.app, { ip: randomIpv4() });
      for (const url of ['/admin', '/admin/users?q=acme', `/admin/users/${w.memberA.id}`, '/admin/events', '/admin/settings']) {
        const response = await anonymous.get(url);
        assertStatus(response, 303, url);
        assert.equal(location(response), `/login?next=${encodeURIComponent(url)}`);
      }
      const post = await anonymous.postForm(`/admin/users/${w.memberA.id}/delete`, { confirm: 'yes' });
      assertStatus(post, 303, 'a POST');
      assert.equal(location(post), '/login?next=%2Fadmin');
      assert.ok(await w.app.store.users.findById(w.memberA.id), 'nothing happened');
    });

    test('a member gets a 403 page, and none of the console', async () => {
      for (const url of ['/admin', '/admin/users', `/admin/users/${w.memberA.id}`, '/admin/settings']) {
        const response = await w.asMemberA.get(url);
        assertStatus(response, 403, url);
        assert.match(response.body, /No access to the admin console/);
        assert.doesNotMatch(response.body, /aria-label="Admin console"/, 'no console nav');
      }
      const post = await w.asMemberA.postForm(`/admin/users/${w.memberB.id}/disable`, { confirm: 'yes', csrf: 'x' });
      assertStatus(post, 403, 'a member POST');
      assert.equal((await w.app.store.users.findById(w.memberB.id))?.disabled, false);
    });

    test('an organization admin sees only their organization: users, details, blocks and settings', async () => {
      const list = await w.asAdminA.get('/admin/users');
      assertStatus(list, 200, 'users');
      assert.ok(list.body.includes(w.memberA.email) && list.body.includes(w.adminA.email), 'their organization');
      assert.ok(!list.body.includes(w.memberB.email) && !list.body.includes(w.operator.email), 'nobody else');
      assert.match(list.body, new RegExp(`Organization: <strong>${w.orgA.name}</strong>`), 'the scope is shown');
      assert.doesNotMatch(list.body, /href="\/admin\/settings"/, 'no settings in the nav');
      assert.doesNotMatch(list.body, /href="\/admin\/webhooks"/, 'no webhooks in the nav');
      assertStatus(await w.asAdminA.get('/admin/webhooks'), 403, 'webhooks are for operators');

      assertStatus(await w.asAdminA.get(`/admin/users/${w.memberA.id}`), 200, 'own member');
      const other = await w.asAdminA.get(`/admin/users/${w.memberB.id}`);
      assertStatus(other, 404, "another organization's user");
      assert.ok(!other.body.includes(w.memberB.email));

      const settings = await w.asAdminA.get('/admin/settings');
      assertStatus(settings, 403, 'settings');
      assert.match(settings.body, /only operators/i);

      const disable = await postAdmin(w.asAdminA, `/admin/users/${w.memberB.id}/disable`, { confirm: 'yes' });
      assertStatus(disable, 404, "disabling another organization's user");
      assert.equal((await w.app.store.users.findById(w.memberB.id))?.disabled, false, 'nothing changed');
      const settingsPost = await postAdmin(w.asAdminA, '/admin/settings/bruteForce', { threshold: '3' });
      assertStatus(settingsPost, 403, 'settings POST');
      assert.notEqual(w.app.settings.current().bruteForce.threshold, 3);
    });

    test('an operator sees everyone and every section', async () => {
      const list = await w.asOperator.get('/admin/users');
      assertStatus(list, 200, 'users');
      for (const u of [w.operator, w.adminA, w.memberA, w.memberB]) assert.ok(list.body.includes(u.email), u.email);
      assert.match(list.body, /href="\/admin\/settings"/);
      assert.match(list.body, /href="\/admin\/webhooks"/, 'webhooks are wired in the app');
      const webhooks = await w.asOperator.get('/admin/webhooks');
      assertStatus(webhooks, 200, 'webhooks');
      assert.match(webhooks.body, /<h2 id="deliveries-h">Delivery log<\/h2>/);
      const search = await w.asOperator.get(`/admin/users?q=${encodeURIComponent(w.memberB.email)}`);
      assert.ok(search.body.includes(w.memberB.email) && !search.body.includes(w.memberA.email), 'search narrows the list');
      const detail = await w.asOperator.get(`/admin/users/${w.memberB.id}`);
      assertStatus(detail, 200, 'detail');
      assert.ok(detail.body.includes(w.orgB.name), 'the organization is named');
      assertStatus(await w.asOperator.get('/admin/settings'), 200, 'settings');
    });

    test('CSRF: a POST without the token, or with another scope’s, is refused and changes nothing', async () => {
      const target = await user(w.app, 'csrf', w.orgA);
      const missing = await w.asOperator.postForm(`/admin/users/${target.id}/delete`, { confirm: 'yes' });
      assertStatus(missing, 403, 'no token');
      const page = await w.asOperator.get('/admin/users');
      const accountScope = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
      assert.notEqual(accountScope, adminCsrf(page.body), 'the sign-out form has its own scope');
      assertStatus(await w.asOperator.postForm(`/admin/users/${target.id}/delete`, { confirm: 'yes', csrf: accountScope }), 403, 'wrong scope');
      assertStatus(await w.asOperator.postForm(`/admin/users/${target.id}/disable`, { confirm: 'yes', csrf: 'forged' }), 403, 'forged');
      const after = await w.app.store.users.findById(target.id);
      assert.ok(after && !after.disabled, 'still there and enabled');
      assert.equal((await eventsOf(w.app, 'user_deleted', target.id)).length + (await eventsOf(w.app, 'user_disabled', target.id)).length, 0);
    });

    test('destructive actions need the confirmation step: a bare POST changes nothing and leads to the confirmation page', async () => {
      const target = await user(w.app, 'confirm', w.orgA);
      for (const path of ['delete', 'disable', 'reset-2fa', 'sessions/revoke-all']) {
        const response = await postAdmin(w.asOperator, `/admin/users/${target.id}/${path}`);
        assertStatus(response, 303, `unconfirmed ${path}`);
        assert.equal(location(response), `/admin/users/${target.id}/${path}`);
        const confirmation = await w.asOperator.get(location(response));
        assertStatus(confirmation, 200, `confirmation page of ${path}`);
        assert.match(confirmation.body, /<ul class="consequences">/);
        assert.match(confirmation.body, /<button type="submit" name="confirm" value="yes"/);
      }
      const reset = await w.asOperator.get(`/admin/users/${target.id}/reset-2fa`);
      assert.match(reset.body, /passkeys are kept/i, 'the 2FA reset says passkeys stay');
      const still = await w.app.store.users.findById(target.id);
      assert.ok(still && !still.disabled, 'nothing happened');
      assert.equal((await eventsOf(w.app, 'mfa_reset', target.id)).length, 0);
    });

    test('actions work and record the actor: create, disable, enable, reset 2FA (passkeys kept), sessions, passkey, delete', async () => {
      const actor = `user:${w.operator.id}`;
      // Create.
      const email = uniqueEmail('created');
      const created = await postAdmin(w.asOperator, '/admin/users', { email, name: 'Nia Created', password: '', role: 'member', orgId: w.orgA.id });
      assertStatus(created, 303, 'create');
      const newUser = await w.app.store.users.findByEmail(email);
      assert.ok(newUser, 'created');
      assert.equal(newUser.orgId, w.orgA.id);
      assert.equal(location(created), `/admin/users/${newUser.id}?done=created`);
      assert.equal((await eventsOf(w.app, 'user_updated', newUser.id))[0]?.details.actor, actor);
      const duplicate = await postAdmin(w.asOperator, '/admin/users', { email, role: 'member' });
      assertStatus(duplicate, 409, 'duplicate email');
      assert.match(duplicate.body, /already exists/);

      // A user with two sessions, TOTP, recovery codes and two passkeys.
      const target = await user(w.app, 'target', w.orgA);
      await signedIn(w.app, target);
      await signedIn(w.app, target);
      await w.app.store.mfa.enableTotp(target.id, 'JBSWY3DPEHPK3PXP', w.app.clock.now());
      await w.app.store.mfa.replaceRecoveryCodes(target.id, ['h1', 'h2'], w.app.clock.now());
      const keep = passkey(target.id, 'Phone');
      const drop = passkey(target.id, 'Old laptop');
      await w.app.store.passkeys.add(keep, 20);
      await w.app.store.passkeys.add(drop, 20);
      const detail = await w.asOperator.get(`/admin/users/${target.id}`);
      assertStatus(detail, 200, 'detail');
      for (const text of ['Active sessions', 'Phone', 'Old laptop', 'Known devices', 'Recent events', '2 recovery codes left']) assert.ok(detail.body.includes(text), text);

      // Reset 2FA: TOTP and codes go, passkeys stay.
      const reset = await postAdmin(w.asOperator, `/admin/users/${target.id}/reset-2fa`, { confirm: 'yes' });
      assertStatus(reset, 303, 'reset 2FA');
      assert.equal(await w.app.store.mfa.getTotp(target.id), null);
      assert.equal(await w.app.store.mfa.countRecoveryCodes(target.id), 0);
      assert.equal(await w.app.store.passkeys.countForUser(target.id), 2, 'passkeys kept');
      assert.equal((await eventsOf(w.app, 'mfa_reset', target.id))[0]?.details.adminUserId, actor);

      // Remove one passkey (confirmation page first).
      const confirmRemove = await w.asOperator.get(`/admin/users/${target.id}/passkeys/remove?credential=${encodeURIComponent(drop.credentialId)}`);
      assertStatus(confirmRemove, 200, 'passkey confirmation');
      assert.ok(confirmRemove.body.includes('Old laptop'));
      const removed = await postAdmin(w.asOperator, `/admin/users/${target.id}/passkeys/remove`, { confirm: 'yes', credential: drop.credentialId });
      assertStatus(removed, 303, 'remove passkey');
      assert.deepEqual((await w.app.store.passkeys.listForUser(target.id)).map((p) => p.name), ['Phone']);
      const removedEvent = (await eventsOf(w.app, 'admin_passkey_removed', target.id))[0];
      assert.equal(removedEvent?.details.actor, actor);
      assert.equal(removedEvent?.details.credentialId, drop.credentialId);

      // End one session, then all.
      const sessions = await w.app.store.sessions.listActiveForUser(target.id);
      assert.equal(sessions.length, 2);
      const one = sessions[0]!;
      assertStatus(await w.asOperator.get(`/admin/users/${target.id}/sessions/${one.id}/revoke`), 200, 'session confirmation');
      assertStatus(await postAdmin(w.asOperator, `/admin/users/${target.id}/sessions/${one.id}/revoke`, { confirm: 'yes' }), 303, 'end one session');
      assert.deepEqual((await w.app.store.sessions.listActiveForUser(target.id)).map((s) => s.id), [sessions[1]!.id]);
      assert.equal((await eventsOf(w.app, 'admin_sessions_revoked', target.id))[0]?.details.sessionId, one.id);
      const all = await postAdmin(w.asOperator, `/admin/users/${target.id}/sessions/revoke-all`, { confirm: 'yes' });
      assertStatus(all, 303, 'end all');
      assert.equal(location(all), `/admin/users/${target.id}?done=sessions_revoked&n=1`);
      assert.equal((await w.app.store.sessions.listActiveForUser(target.id)).length, 0);
      const allEvent = (await eventsOf(w.app, 'admin_sessions_revoked', target.id))[0];
      assert.equal(allEvent?.details.actor, actor);
      assert.equal(allEvent?.details.sessionId, null);

      // Disable (their sessions end) and enable.
      await signedIn(w.app, target);
      assertStatus(await postAdmin(w.asOperator, `/admin/users/${target.id}/disable`, { confirm: 'yes' }), 303, 'disable');
      assert.equal((await w.app.store.users.findById(target.id))?.disabled, true);
      assert.equal((await w.app.store.sessions.listActiveForUser(target.id)).length, 0, 'sessions ended');
      assert.equal((await eventsOf(w.app, 'user_disabled', target.id))[0]?.details.actor, actor);
      assert.match((await w.asOperator.get(`/admin/users/${target.id}`)).body, /Enable account/);
      assertStatus(await postAdmin(w.asOperator, `/admin/users/${target.id}/enable`), 303, 'enable');
      assert.equal((await w.app.store.users.findById(target.id))?.disabled, false);
      assert.equal((await eventsOf(w.app, 'user_enabled', target.id))[0]?.details.actor, actor);

      // Delete.
      const deleted = await postAdmin(w.asOperator, `/admin/users/${target.id}/delete`, { confirm: 'yes' });
      assertStatus(deleted, 303, 'delete');
      assert.equal(location(deleted), '/admin/users?done=deleted');
      assert.equal(await w.app.store.users.findById(target.id), null);
      assert.equal((await eventsOf(w.app, 'user_deleted', target.id))[0]?.details.actor, actor);
      assertStatus(await w.asOperator.get(`/admin/users/${target.id}`), 404, 'gone');
    });

    test('the service refuses an operator deleting themself; the page says why', async () => {
      const response = await postAdmin(w.asOperator, `/admin/users/${w.operator.id}/delete`, { confirm: 'yes' });
      assertStatus(response, 400, 'self delete');
      assert.match(response.body, /You cannot delete your own account/);
      assert.ok(await w.app.store.users.findById(w.operator.id));
    });

    test('unblock: a brute-force block shows on the dashboard and the user page, and each Unblock lifts it with the actor recorded', async () => {
      const target = await user(w.app, 'blocked', w.orgA);
      const ip = randomIpv4();
      w.backend.track(target.email, ip);
      const attacker = loginClient(w.app, ip);
      const statuses = await attacker.fail(target.email, 10);
      assert.deepEqual(statuses, new Array(10).fill(401));
      assertStatus(await attacker.login(target.email, PASSWORD), 429, 'blocked');

      const dashboard = await w.asAdminA.get('/admin');
      assertStatus(dashboard, 200, 'org admin dashboard');
      assert.ok(dashboard.body.includes(target.email) && dashboard.body.includes(ip), 'the block is listed');
      const detail = await w.asOperator.get(`/admin/users/${target.id}`);
      assert.ok(detail.body.includes(ip), 'the user page names the blocked IP');

      const unblocked = await w.asAdminA.postForm('/admin/blocks/unblock', { csrf: adminCsrf(dashboard.body), identifier: target.email, ip });
      assertStatus(unblocked, 303, 'unblock');
      assert.equal(location(unblocked), '/admin?done=unblocked&n=1');
      const event = (await eventsOf(w.app, 'login_unblocked', target.id))[0];
      assert.equal(event?.details.actor, `user:${w.adminA.id}`);
      assert.equal((await loginClient(w.app, ip).login(target.email, PASSWORD)).statusCode, 303, 'the user can sign in again');

      // Blocked again; the user page's button lifts every IP.
      await loginClient(w.app, ip).fail(target.email, 10);
      assertStatus(await postAdmin(w.asOperator, `/admin/users/${target.id}/unblock`), 303, 'unblock all IPs');
      assert.equal((await eventsOf(w.app, 'login_unblocked', target.id))[0]?.details.actor, `user:${w.operator.id}`);
      assert.equal((await loginClient(w.app, ip).login(target.email, PASSWORD)).statusCode, 303);
    });

    test('settings: a saved change is shown with its revision and applies; validation errors re-render the form', async () => {
      const page = await w.asOperator.get('/admin/settings');
      assertStatus(page, 200, 'settings');
      assert.ok(page.body.includes('Failed password attempts per (account, IP) before that IP is blocked'), 'help text from OPTION_DOCS');
      assert.match(page.body, /Nothing has been changed at runtime/);
      const fields = formValues(page.body, '/admin/settings/bruteForce');
      assert.equal(fields.threshold, String(w.app.settings.current().bruteForce.threshold));
      assert.equal(fields.blockDuration, '30d');

      // Invalid: out of range, not a duration, bad JSON.
      const tooLow = await w.asOperator.postForm('/admin/settings/bruteForce', { ...fields, threshold: '0' });
      assertStatus(tooLow, 400, 'threshold 0');
      assert.match(tooLow.body, /role="alert" id="error-bruteForce">Invalid settings: bruteForce\.threshold/);
      assert.match(tooLow.body, /name="threshold" type="number"[^>]*value="0"/, 'the typed value is kept');
      const badDuration = await w.asOperator.postForm('/admin/settings/bruteForce', { ...fields, blockDuration: 'soon' });
      assertStatus(badDuration, 400, 'bad duration');
      assert.match(badDuration.body, /is not a duration/);
      const riskFields = formValues(page.body, '/admin/settings/risk');
      const badJson = await w.asOperator.postForm('/admin/settings/risk', { ...riskFields, rules: '[{"when": ' });
      assertStatus(badJson, 400, 'bad JSON');
      assert.match(badJson.body, /risk\.rules: not valid JSON/);
      assert.equal(w.app.settings.overlay(), null, 'nothing stored');

      // Valid: threshold 5 and the breach notify-admins select.
      const saved = await w.asOperator.postForm('/admin/settings/bruteForce', { ...fields, threshold: '5', blockDuration: '2h' });
      assertStatus(saved, 303, 'save');
      assert.equal(w.app.settings.current().bruteForce.threshold, 5);
      assert.equal(w.app.settings.current().bruteForce.blockDuration, 2 * 3_600_000);
      assert.deepEqual(w.app.settings.overlay()?.values, { bruteForce: { threshold: 5, blockDuration: '2h' } }, 'only the changed keys');
      const breachFields = formValues(page.body, '/admin/settings/breach');
      assertStatus(await w.asOperator.postForm('/admin/settings/breach', { ...breachFields, 'actions.notifyAdmins': 'daily' }), 303, 'breach');
      assert.equal(w.app.settings.current().breach.actions.notifyAdmins, 'daily');
      assert.equal(w.app.settings.current().breach.actions.block, true, 'the other actions stay');

      const after = await w.asOperator.get('/admin/settings?done=settings_saved');
      assert.match(after.body, /Revision <strong>2<\/strong>/);
      assert.ok(after.body.includes(w.operator.email), 'who changed it');
      assert.match(after.body, /name="threshold" type="number"[^>]*value="5"/);
      assert.match(after.body, /changed at runtime/);
      assert.match(after.body, /id="settings-history"/);
      const changed = await eventsOf(w.app, 'settings_changed');
      assert.equal(changed[0]?.details.actor, `user:${w.operator.id}`);

      // Unchanged form: nothing stored; reset: back to the deployment's value.
      assert.equal(location(await w.asOperator.postForm('/admin/settings/bruteForce', formValues(after.body, '/admin/settings/bruteForce'))), '/admin/settings?done=settings_unchanged#section-bruteForce');
      assertStatus(await w.asOperator.postForm('/admin/settings/bruteForce/reset', { csrf: fields.csrf as string }), 303, 'reset');
      assert.equal(w.app.settings.current().bruteForce.threshold, 10);
      await w.asOperator.postForm('/admin/settings/breach/reset', { csrf: fields.csrf as string });
    });

    test('dashboard: SVG charts whose totals reflect the events, confined for organization admins, with text for screen readers', async () => {
      const now = w.app.clock.now();
      const before = await w.asOperator.get('/admin');
      const scopedBefore = chartTotal((await w.asAdminA.get('/admin')).body, 'risk', 'day');
      const base = { risk: chartTotal(before.body, 'risk', 'day'), breached: chartTotal(before.body, 'breached', 'month'), logins: chartTotal(before.body, 'logins', 'day') };
      for (let i = 0; i < 2; i++) await w.app.store.events.append({ code: 'risk_blocked', outcome: 'failure', userId: w.memberA.id, identifier: w.memberA.email }, now - i * 60_000);
      await w.app.store.events.append({ code: 'risk_blocked', outcome: 'failure', userId: w.memberB.id, identifier: w.memberB.email }, now);
      for (let i = 0; i < 3; i++) await w.app.store.events.append({ code: 'pwd_leak', outcome: 'failure', userId: w.memberB.id }, now - 3 * 86_400_000);
      await w.app.store.events.append({ code: 'login_passkey_success', outcome: 'success', userId: w.memberA.id }, now);

      const page = await w.asOperator.get('/admin');
      assertStatus(page, 200, 'dashboard');
      assert.equal(chartTotal(page.body, 'risk', 'day'), base.risk + 3);
      assert.equal(chartTotal(page.body, 'breached', 'month'), base.breached + 3);
      assert.equal(chartTotal(page.body, 'breached', 'day'), 0, 'three days ago is outside the last 24 hours');
      assert.equal(chartTotal(page.body, 'logins', 'day'), base.logins + 1);
      assert.match(page.body, /<svg class="chart series-risk" viewBox="[^"]+" preserveAspectRatio="[^"]+" role="img" aria-labelledby="chart-day-risk-title chart-day-risk-desc"/);
      assert.match(page.body, /<title id="chart-day-risk-title">Risk blocks in the last 24 hours<\/title>/);
      assert.match(page.body, new RegExp(`<desc id="chart-day-risk-desc">${base.risk + 3} in the last 24 hours; the most`));
      assert.match(page.body, /<rect class="chart-bar"/);
      assert.match(page.body, /<polyline class="chart-line"/);
      assert.match(page.body, /<caption class="visually-hidden">Events per hour, in the last 24 hours<\/caption>/, 'the numbers as a table');
      assert.match(page.body, /Recent suspicious events/);
      assert.ok(page.body.includes(`href="/admin/users/${w.memberB.id}"`), 'suspicious events link to the user');

      const scoped = await w.asAdminA.get('/admin');
      assert.equal(chartTotal(scoped.body, 'risk', 'day'), scopedBefore + 2, "only organization A's users count");
      assert.ok(!scoped.body.includes(w.memberB.email), "no event of another organization's user");
    });

    test('events: filter by code, IP, user and dates; risk reasons and findings, and block signals, are explained (escaped)', async () => {
      const ip = '203.0.113.77';
      const now = w.app.clock.now();
      await w.app.store.events.append(
        {
          code: 'risk_blocked',
          outcome: 'failure',
          userId: w.memberA.id,
          identifier: w.memberA.email,
          ip,
          reason: 'risk',
          details: {
            action: 'block',
            matched: ['impossible_travel → block'],
            reasons: [IMPOSSIBLE_TRAVEL],
            findings: [
              { code: 'impossible_travel', fired: true, confidence: 'high', evidence: { from: 'London, United Kingdom', to: 'Sydney, Australia', distance_km: 16994, elapsed_min: 10 } },
              { code: 'new_device', fired: false, confidence: 'low', evidence: {} },
            ],
          },
        },
        now,
      );
      await w.app.store.events.append({ code: 'login_block_started', outcome: 'info', userId: w.memberA.id, identifier: w.memberA.email, ip, reason: 'account_ip_blocked', details: { count: 10, threshold: 10, until: now + 3_600_000, ip_key: ip } }, now);
      await w.app.store.events.append({ code: 'captcha_required', outcome: 'failure', identifier: '<script>alert(1)</script>', ip: '198.51.100.9', reason: 'headless_ua', details: { flow: 'login', reasons: ['headless_ua', '<b>x</b>'] } }, now);

      const risk = await w.asOperator.get('/admin/events?code=risk_blocked');
      assertStatus(risk, 200, 'code filter');
      assert.ok(risk.body.includes(IMPOSSIBLE_TRAVEL), 'the reason sentence');
      assert.match(risk.body, /<th scope="row">impossible_travel<\/th><td>yes<\/td><td>high<\/td>/, 'each finding: code, fired, confidence');
      assert.match(risk.body, /<th scope="row">new_device<\/th><td>no<\/td><td>low<\/td>/);
      assert.match(risk.body, /Decision: <strong>block<\/strong>/);
      assert.doesNotMatch(risk.body, /class="event-name">Brute-force threshold reached/, 'only risk_blocked rows');

      const byIp = await w.asOperator.get(`/admin/events?ip=${ip}`);
      assert.ok(byIp.body.includes(IMPOSSIBLE_TRAVEL) && byIp.body.includes('class="event-name">Brute-force threshold reached'), 'both events of that IP');
      assert.match(byIp.body, /<dt>Ip key<\/dt><dd>203\.0\.113\.77<\/dd>/, 'block signals as key/values');
      assert.doesNotMatch(byIp.body, /class="event-name">Login paused: a CAPTCHA is required/, 'not other IPs');

      const captcha = await w.asOperator.get('/admin/events?code=group%3Acaptcha');
      assert.ok(captcha.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !captcha.body.includes('<script>alert(1)'), 'escaped identifier');
      assert.ok(captcha.body.includes('headless_ua, &lt;b&gt;x&lt;/b&gt;'), 'escaped signals');

      const byEmail = await w.asOperator.get(`/admin/events?user=${encodeURIComponent(w.memberA.email)}&code=login_block_started`);
      assert.ok(byEmail.body.includes('class="event-name">Brute-force threshold reached') && byEmail.body.includes(`Events of ${w.memberA.email}`));
      const today = new Date(now).toISOString().slice(0, 10);
      const tomorrow = new Date(now + 86_400_000).toISOString().slice(0, 10);
      assert.ok((await w.asOperator.get(`/admin/events?ip=${ip}&since=${today}&until=${today}`)).body.includes(IMPOSSIBLE_TRAVEL), 'within the dates');
      assert.ok(!(await w.asOperator.get(`/admin/events?ip=${ip}&since=${tomorrow}`)).body.includes(IMPOSSIBLE_TRAVEL), 'after the dates');
      const bad = await w.asOperator.get('/admin/events?ip=not-an-ip&since=yesterday');
      assertStatus(bad, 400, 'bad filter');
      assert.match(bad.body, /is not an IP address/);

      // An organization admin does not see the anonymous CAPTCHA event, or other organizations' users.
      const scoped = await w.asAdminA.get('/admin/events?code=group%3Acaptcha');
      assert.ok(!scoped.body.includes('headless_ua'));
    });

    test('events: cursor paging through older events', async () => {
      const ip = '192.0.2.250';
      const now = w.app.clock.now();
      for (let i = 0; i < 55; i++) await w.app.store.events.append({ code: 'ip_throttled', outcome: 'failure', ip, details: { n: i } }, now - i * 1000);
      const first = await w.asOperator.get(`/admin/events?ip=${ip}`);
      assert.equal([...first.body.matchAll(/<tr id="event-/g)].length, 50);
      const next = /<a href="([^"]+)" rel="next">Older events/.exec(first.body)?.[1];
      assert.ok(next, 'a link to older events');
      const second = await w.asOperator.get(unescape(next));
      assertStatus(second, 200, 'second page');
      assert.equal([...second.body.matchAll(/<tr id="event-/g)].length, 5);
      assert.doesNotMatch(second.body, /rel="next"/);
      assert.match(second.body, /Newest events/);
    });
  });
}

describe('webhooks page (view)', () => {
  const frame: ConsoleFrame = { productName: 'Portcullis', me: { id: 'u1', email: 'op@example.test' }, kind: 'operator', org: null, showWebhooks: true, current: 'webhooks', logoutCsrf: 't' };

  test('without webhooks wired the nav has no Webhooks item', () => {
    const body = webhooksPage({ ...frame, showWebhooks: false, current: 'dashboard' }, { webhooks: [], deliveries: [] });
    assert.doesNotMatch(body, /href="\/admin\/webhooks"/);
    assert.match(body, /href="\/admin\/settings"/);
  });

  test('lists webhooks and the delivery log, escaped', () => {
    const body = webhooksPage(frame, {
      webhooks: [{ id: 'w1', url: 'https://hooks.example.test/in?a=1&b=<2>', codes: ['risk_blocked'], disabled: false, description: 'SIEM', createdAt: Date.UTC(2024, 4, 1) }],
      deliveries: [
        { id: 'd1', webhookId: 'w1', eventCode: 'risk_blocked', status: 'failed', attempts: 8, lastStatus: 500, lastError: 'Internal <error>', createdAt: Date.UTC(2024, 4, 1), deliveredAt: null },
        { id: 'd2', webhookId: 'w1', eventCode: 'risk_blocked', status: 'delivered', attempts: 1, lastStatus: 204, lastError: null, createdAt: Date.UTC(2024, 4, 1), deliveredAt: Date.UTC(2024, 4, 1, 0, 1) },
      ],
    });
    assert.match(body, /href="\/admin\/webhooks" aria-current="page"/);
    assert.ok(body.includes('https://hooks.example.test/in?a=1&amp;b=&lt;2&gt;'));
    assert.ok(body.includes('Internal &lt;error&gt;'));
    assert.match(body, /<span class="badge delivery-failed">failed<\/span><\/td><td class="num">8<\/td><td>HTTP 500/);
    assert.match(body, /HTTP 204/);
  });
});
