// The daily breached-password summary for organization admins (breach.actions.notifyAdmins = daily).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp } from '../helpers/app.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { Browser, hiddenCsrf } from '../helpers/oidc-flow.js';

test('admins get one daily summary of breached-password logins, not an email per login', async () => {
  let now = Date.UTC(2026, 10, 29, 9, 0, 0);
  const clock = { now: () => now };
  const app = await createTestApp({ breach: { testPrefix: 'pwned-', actions: { notifyAdmins: 'daily' } } }, { clock });
  try {
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    await createOrg(deps, 'Acme');
    await createUser(deps, { email: 'admin@acme.test', password: 'admin long password', orgName: 'Acme', role: 'admin' });
    await createUser(deps, { email: 'victim@acme.test', password: 'pwned-correct horse', orgName: 'Acme' });
    const browser = new Browser(app.server);
    const page = await browser.get('/login');
    const login = await browser.postForm('/login', { csrf: hiddenCsrf(page.body), email: 'victim@acme.test', password: 'pwned-correct horse' });
    assert.equal(login.statusCode, 403);

    await app.runPeriodicJobs();
    await app.mailWorker.runOnce();
    const toAdmin = async () => (await app.store.devMailbox.list(50)).filter((m) => m.to === 'admin@acme.test');
    assert.equal((await toAdmin()).length, 0, 'nothing for the admins at the time of the login');

    now += 86_400_000;
    await app.runPeriodicJobs();
    await app.mailWorker.runOnce();
    const digests = await toAdmin();
    assert.equal(digests.length, 1);
    assert.match(digests[0]?.subject ?? '', /1 sign-in with breached passwords on 2026-11-29/);
    assert.ok(digests[0]?.text.includes('victim@acme.test'));
    assert.ok(!digests[0]?.text.includes('pwned-correct horse'), 'never the password');

    await app.runPeriodicJobs();
    await app.mailWorker.runOnce();
    assert.equal((await toAdmin()).length, 1, 'the summary is sent once per day');
  } finally {
    await app.dispose();
  }
});
