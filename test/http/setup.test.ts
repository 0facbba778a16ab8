// The first-run setup link: single-use, expiring, bound to its purpose, never consumed by a GET or a rejected form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, formAction, hiddenCsrf } from '../helpers/oidc-flow.js';
import { createToken } from '../../src/crypto/tokens.js';
import type { LinkPurpose } from '../../src/domain/types.js';

const HOUR = 60 * 60 * 1000;
const ADMIN = { org: 'Acme', email: 'admin@example.com', password: 'a long enough password' };

class ManualClock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
}

async function withApp(body: (app: TestApp, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const app = await createTestApp({}, { clock });
  try {
    await body(app, clock);
  } finally {
    await app.dispose();
  }
}

async function newLink(app: TestApp): Promise<{ path: string; id: string }> {
  const path = await app.createSetupLink();
  assert.ok(path, 'a setup link is created while no user exists');
  assert.match(path, /^\/setup\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return { path, id: path.slice('/setup/'.length).split('.')[0]! };
}

async function openForm(browser: Browser, path: string): Promise<string> {
  const page = await browser.get(path);
  assert.equal(page.statusCode, 200, page.body.slice(0, 300));
  assert.equal(formAction(page.body), path);
  return hiddenCsrf(page.body);
}

async function isUnused(app: TestApp, id: string): Promise<boolean> {
  const link = await app.store.links.findById(id);
  assert.ok(link);
  return link.usedAt === null;
}

test('opening the setup link twice changes nothing', async () => {
  // Threat: mail scanners or link previews burning a single-use link by fetching it.
  await withApp(async (app) => {
    const { path, id } = await newLink(app);
    const browser = new Browser(app.server);
    const first = await browser.get(path);
    const second = await browser.get(path);
    for (const page of [first, second]) {
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /name="password"/);
      assert.equal(page.headers['cache-control'], 'no-store');
    }
    assert.equal(hiddenCsrf(first.body), hiddenCsrf(second.body), 'the same browser keeps its CSRF cookie');
    assert.ok(await isUnused(app, id));
    assert.equal(await app.store.users.count(), 0);
    // And it still works afterwards.
    const created = await browser.postForm(path, { csrf: hiddenCsrf(second.body), ...ADMIN });
    assert.equal(created.statusCode, 201);
  });
});

test('the setup form creates the first admin in a new organization', async () => {
  await withApp(async (app) => {
    const { path, id } = await newLink(app);
    const browser = new Browser(app.server);
    assert.deepEqual(await app.store.orgs.list(), []);
    const csrf = await openForm(browser, path);
    const created = await browser.postForm(path, { csrf, ...ADMIN });
    assert.equal(created.statusCode, 201);
    assert.match(created.body, /Admin account created/);
    assert.ok(created.body.includes(ADMIN.email));

    const user = await app.store.users.findByEmail(ADMIN.email);
    assert.ok(user);
    assert.equal(user.role, 'admin');
    assert.equal(user.operator, true, "the installation's first admin is its operator");
    assert.match(created.body, /href="\/admin"/, 'the page leads to the admin console');
    assert.equal(user.emailVerified, true);
    assert.ok(user.passwordHash && user.passwordHash !== ADMIN.password);
    assert.ok(await app.hasher.verify(user.passwordHash, ADMIN.password), 'the chosen password works');
    const orgs = await app.store.orgs.list();
    assert.equal(orgs.length, 1);
    assert.equal(orgs[0]!.name, ADMIN.org);
    assert.equal(user.orgId, orgs[0]!.id);
    assert.equal(await isUnused(app, id), false, 'the link is consumed');
    const events = await app.store.events.list({ limit: 10 });
    assert.ok(events.some((e) => e.code === 'setup_completed' && e.userId === user.id));
    assert.equal(await app.createSetupLink(), null, 'no new setup link once a user exists');
  });
});

test('a setup link works once', async () => {
  // Threat: a leaked or replayed setup link creating a second administrator.
  await withApp(async (app) => {
    const { path } = await newLink(app);
    const browser = new Browser(app.server);
    const csrf = await openForm(browser, path);
    assert.equal((await browser.postForm(path, { csrf, ...ADMIN })).statusCode, 201);

    const again = await browser.postForm(path, { csrf, org: 'Evil', email: 'evil@example.com', password: 'another long password' });
    assert.equal(again.statusCode, 410);
    assert.match(again.body, /already/i);
    const reopened = await browser.get(path);
    assert.equal(reopened.statusCode, 410);
    assert.match(reopened.body, /already used/);
    assert.doesNotMatch(reopened.body, /name="password"/);
    assert.equal(await app.store.users.count(), 1);
    assert.equal(await app.store.users.findByEmail('evil@example.com'), null);
  });
});

test('concurrent submissions of one setup link create one admin', async () => {
  // Threat: a race between two submissions of the same link creating two administrators.
  await withApp(async (app) => {
    const { path } = await newLink(app);
    const browser = new Browser(app.server);
    const csrf = await openForm(browser, path);
    const results = await Promise.all(
      ['one', 'two', 'three'].map((n) => browser.postForm(path, { csrf, org: `Org ${n}`, email: `${n}@example.com`, password: 'a long enough password' })),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 410, 410]);
    assert.equal(await app.store.users.count(), 1);
  });
});

test('an expired setup link is refused', async () => {
  // Threat: an old setup link found in a log or terminal scrollback being used long after first run.
  await withApp(async (app, clock) => {
    const { path, id } = await newLink(app);
    const browser = new Browser(app.server);
    const csrf = await openForm(browser, path);
    clock.t += 23 * HOUR;
    assert.equal((await browser.get(path)).statusCode, 200, 'still valid before the 24 h TTL');
    clock.t += HOUR;
    const page = await browser.get(path);
    assert.equal(page.statusCode, 410);
    assert.match(page.body, /expired/);
    const posted = await browser.postForm(path, { csrf, ...ADMIN });
    assert.equal(posted.statusCode, 410);
    assert.match(posted.body, /expired/);
    assert.equal(await app.store.users.count(), 0);
    assert.ok(await isUnused(app, id));
  });
});

test('a link of another purpose is refused by the setup page', async () => {
  // Threat: a password-reset or email link (sent to a user) being replayed as a setup link.
  await withApp(async (app, clock) => {
    for (const purpose of ['reset_password', 'verify_email', 'login'] satisfies LinkPurpose[]) {
      const { token, id, secretHash } = createToken();
      await app.store.links.create({ id, purpose, secretHash, userId: null, data: {}, createdAt: clock.now(), expiresAt: clock.now() + HOUR, usedAt: null });
      const browser = new Browser(app.server);
      const page = await browser.get(`/setup/${token}`);
      assert.equal(page.statusCode, 410, purpose);
      assert.match(page.body, /not valid/);
      // Even with a CSRF token from a genuine setup form, the POST is refused.
      const genuine = await newLink(app);
      const csrf = await openForm(browser, genuine.path);
      const posted = await browser.postForm(`/setup/${token}`, { csrf, ...ADMIN });
      assert.equal(posted.statusCode, 410, purpose);
      assert.match(posted.body, /not valid/);
      assert.equal(await app.store.users.count(), 0);
      assert.ok(await isUnused(app, id), `${purpose} link untouched`);
    }
  });
});

test('a tampered setup link is refused', async () => {
  // Threat: guessing or altering the secret half of a setup link.
  await withApp(async (app) => {
    const { path } = await newLink(app);
    const tampered = `${path.slice(0, -1)}${path.endsWith('A') ? 'B' : 'A'}`;
    const browser = new Browser(app.server);
    const page = await browser.get(tampered);
    assert.equal(page.statusCode, 410);
    const csrf = await openForm(browser, path);
    const posted = await browser.postForm(tampered, { csrf, ...ADMIN });
    assert.equal(posted.statusCode, 410);
    assert.equal(await app.store.users.count(), 0);
  });
});

test('rejected setup input keeps the link usable', async () => {
  // Threat: a typo (or a hostile form post) burning the only setup link and locking the operator out.
  await withApp(async (app) => {
    const { path, id } = await newLink(app);
    const browser = new Browser(app.server);
    const csrf = await openForm(browser, path);

    const short = await browser.postForm(path, { csrf, org: ADMIN.org, email: ADMIN.email, password: 'short7!' });
    assert.equal(short.statusCode, 400);
    assert.match(short.body, /Use at least 8 characters\./);
    assert.ok(short.body.includes(`value="${ADMIN.email}"`), 'the form keeps what was typed');
    assert.doesNotMatch(short.body, /short7!/, 'the password is not echoed');
    assert.ok(await isUnused(app, id), 'a short password does not consume the link');

    const badEmail = await browser.postForm(path, { csrf, org: ADMIN.org, email: 'not-an-email', password: ADMIN.password });
    assert.equal(badEmail.statusCode, 400);
    assert.match(badEmail.body, /valid email/);
    assert.ok(await isUnused(app, id));

    const blankOrg = await browser.postForm(path, { csrf, org: '   ', email: ADMIN.email, password: ADMIN.password });
    assert.equal(blankOrg.statusCode, 400);
    assert.match(blankOrg.body, /organization/i);
    assert.ok(await isUnused(app, id), 'a blank organization name does not consume the link');

    const badCsrf = await browser.postForm(path, { csrf: 'x'.repeat(43), ...ADMIN });
    assert.equal(badCsrf.statusCode, 403);
    assert.ok(await isUnused(app, id));

    assert.equal(await app.store.users.count(), 0);
    assert.equal((await browser.get(path)).statusCode, 200, 'the link still opens');
    const created = await browser.postForm(path, { csrf: hiddenCsrf(short.body), ...ADMIN });
    assert.equal(created.statusCode, 201);
  });
});
