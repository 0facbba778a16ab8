// Known devices on the account page through the real app, on every store backend: listing, forgetting one, forgetting all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestApp } from '../helpers/app.js';
import { appBackends } from '../helpers/protection.js';
import { location, type Browser } from '../helpers/oidc-flow.js';
import { browserFrom, postAccountForm, seedUser, signIn } from '../helpers/account-browser.js';
import { formatUtc } from '../../src/domain/format-time.js';
import { accountPage, type AccountView } from '../../src/http/views/account-pages.js';
import type { KnownDevice } from '../../src/store/store.js';

const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const PASSWORD = 'my account password';
const DAY = 24 * 3600 * 1000;

interface DeviceRow {
  id: string;
  device: string;
  ip: string;
  location: string;
  lastSignIn: string;
  button: string;
}

/** The rows of the "Devices you have signed in from" table. */
function deviceRows(body: string): DeviceRow[] {
  const section = /<section aria-labelledby="devices-h">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';
  const rows: DeviceRow[] = [];
  const pattern = /<tr><td>(.*?)<\/td><td>(.*?)<br><span class="muted">(.*?)<\/span><\/td><td>(.*?)<\/td>\s*<td><form method="post" action="\/account\/devices\/([^/"]+)\/forget"[\s\S]*?<button[^>]*>([\s\S]*?)<\/button>/g;
  for (const m of section.matchAll(pattern)) {
    rows.push({ id: m[5]!, device: m[1]!, ip: m[2]!, location: m[3]!, lastSignIn: m[4]!, button: m[6]!.replace(/<[^>]+>/g, '') });
  }
  return rows;
}

const devicesSection = (body: string): string => /<section aria-labelledby="devices-h">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';

for (const backend of appBackends().filter((b) => b.name !== 'postgres+redis')) {
  describe(`known devices on the account page (${backend.name})`, () => {
    let app: TestApp;
    let dispose: () => Promise<void>;

    before(async () => {
      const created = await backend.create();
      app = created.app;
      dispose = () => created.dispose();
    });
    after(async () => {
      await dispose();
    });

    /** A new user signed in from its own browser. */
    async function signedInUser(tag: string): Promise<{ id: string; email: string; browser: Browser }> {
      const email = `${tag}-${randomBytes(4).toString('hex')}@example.com`;
      const user = await seedUser(app, email, PASSWORD);
      const browser = browserFrom(app, { ip: '198.51.100.10', userAgent: CHROME_WINDOWS });
      await signIn(browser, email, PASSWORD);
      return { id: user.id, email, browser };
    }

    function remember(userId: string, fields: Partial<Omit<KnownDevice, 'id' | 'userId' | 'firstSeenAt' | 'lastSeenAt'>> = {}, at = app.clock.now()): Promise<KnownDevice> {
      return app.store.devices.remember(
        { userId, deviceHash: randomBytes(16).toString('hex'), browser: 'Chrome', os: 'Windows', lastIp: '203.0.113.7', lastLocation: 'London, United Kingdom', ...fields },
        at,
      );
    }

    const forgottenEvents = async (userId: string) => app.store.events.list({ userId, code: 'device_forgotten', limit: 50 });
    const allDevices = (userId: string) => app.store.devices.listForUser(userId, 0);

    test('lists the user\'s own recent devices with browser, OS, last IP, location and time, and nobody else\'s', async () => {
      const alice = await signedInUser('alice');
      const bob = await signedInUser('bob');
      // Signing in may itself remember the browser (Chrome on Windows); the seeded ones are of other kinds so each name is unique.
      const laptop = await remember(alice.id, { browser: 'Chrome', os: 'macOS', lastIp: '203.0.113.7', lastLocation: 'London, United Kingdom' });
      const phone = await remember(alice.id, { browser: 'Safari', os: 'iOS', lastIp: '198.51.100.23', lastLocation: 'Sydney, Australia' });
      const unknown = await remember(alice.id, { browser: null, os: null, lastIp: null, lastLocation: null });
      const stale = await remember(alice.id, { browser: 'Firefox', os: 'Linux' }, app.clock.now() - 31 * DAY);
      const bobs = await remember(bob.id, { browser: 'Edge', os: 'macOS', lastIp: '192.0.2.99', lastLocation: 'Paris, France' });

      const page = await alice.browser.get('/account');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h2 id="devices-h">Devices you have signed in from<\/h2>/);
      assert.match(devicesSection(page.body), /<th scope="col">Device<\/th>/, 'the list has column headers');
      assert.match(page.body, /Forgetting a device means the next sign-in from it is treated as a new device/);
      const rows = deviceRows(page.body);
      const ids = rows.map((r) => r.id);
      assert.deepEqual(rows.find((r) => r.id === laptop.id), {
        id: laptop.id,
        device: 'Chrome on macOS',
        ip: '203.0.113.7',
        location: 'London, United Kingdom',
        lastSignIn: formatUtc(laptop.lastSeenAt),
        button: 'Forget Chrome on macOS',
      });
      assert.equal(rows.find((r) => r.id === phone.id)?.device, 'Safari on iOS');
      assert.equal(rows.find((r) => r.id === phone.id)?.location, 'Sydney, Australia');
      assert.equal(rows.find((r) => r.id === unknown.id)?.device, 'Unknown browser', 'a device without a known browser still reads as something');
      assert.equal(rows.find((r) => r.id === unknown.id)?.button, 'Forget Unknown browser');
      assert.ok(!ids.includes(stale.id), 'a device not seen within the remember window is not listed');
      // Threat: one user's devices (and where they sign in from) shown to another.
      assert.ok(!ids.includes(bobs.id), "another user's device is not listed");
      assert.doesNotMatch(page.body, /Paris, France|192\.0\.2\.99/);
      assert.ok(!page.body.includes(laptop.deviceHash), 'the device hash never reaches the page');
      assert.match(devicesSection(page.body), /action="\/account\/devices\/forget-all"/, 'more than one device offers "Forget all devices"');
      // The sign-in above remembered this browser's own device; only that one is marked, never a seeded one.
      assert.equal((devicesSection(page.body).match(/>This device</g) ?? []).length, 1, 'exactly one device is marked as this one');
      const marked = devicesSection(page.body).split('<tr>').find((row) => row.includes('>This device<')) ?? '';
      for (const seeded of [laptop, phone, unknown]) assert.ok(!marked.includes(`/account/devices/${seeded.id}/forget`), 'a seeded device is not this one');
    });

    test('a user without devices sees the empty state and no "Forget all devices"', async () => {
      const carol = await signedInUser('carol');
      for (const device of await allDevices(carol.id)) await app.store.devices.forget(carol.id, device.id);
      const page = await carol.browser.get('/account');
      assert.equal(page.statusCode, 200);
      assert.match(devicesSection(page.body), /No devices are remembered for your account\./);
      assert.doesNotMatch(devicesSection(page.body), /forget-all|<table/);
    });

    test('forgetting a device removes it, records device_forgotten and says so', async () => {
      const dave = await signedInUser('dave');
      const keep = await remember(dave.id, { browser: 'Firefox', os: 'Linux' });
      const target = await remember(dave.id, { browser: 'Chrome', os: 'Android' });

      const response = await postAccountForm(dave.browser, `/account/devices/${target.id}/forget`);
      assert.equal(response.statusCode, 303);
      assert.equal(location(response), '/account?done=device_forgotten');
      const page = await dave.browser.get(location(response));
      assert.equal(page.statusCode, 200, 'the session stays signed in');
      assert.match(page.body, /The device is forgotten/);
      const ids = deviceRows(page.body).map((r) => r.id);
      assert.ok(!ids.includes(target.id) && ids.includes(keep.id));
      assert.deepEqual((await allDevices(dave.id)).map((d) => d.id).filter((id) => id === target.id), []);

      const events = await forgottenEvents(dave.id);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.outcome, 'success');
      assert.equal(events[0]!.ip, '198.51.100.10');
      assert.deepEqual(events[0]!.details, { device_id: target.id, browser: 'Chrome', os: 'Android' });

      const again = await postAccountForm(dave.browser, `/account/devices/${target.id}/forget`);
      assert.equal(again.statusCode, 404, 'an already forgotten device is not found');
      assert.equal((await forgottenEvents(dave.id)).length, 1, 'nothing is recorded when nothing was removed');
    });

    test("another user's device cannot be forgotten: 404 and the row stays", async () => {
      // Threat: insecure direct object reference: deleting another user's devices to make their next sign-in look new.
      const erin = await signedInUser('erin');
      const frank = await signedInUser('frank');
      const franks = await remember(frank.id);

      const response = await postAccountForm(erin.browser, `/account/devices/${franks.id}/forget`);
      assert.equal(response.statusCode, 404);
      assert.match(response.headers['content-type'] as string, /text\/html/);
      assert.match(response.body, /That device is not in your list of devices/);
      assert.ok((await allDevices(frank.id)).some((d) => d.id === franks.id), "the other user's device is kept");
      assert.deepEqual(await forgottenEvents(erin.id), []);
      assert.deepEqual(await forgottenEvents(frank.id), []);

      for (const bad of ['no-such-device', 'x'.repeat(65), '%00', '..%2F..%2Fx']) {
        const made = await postAccountForm(erin.browser, `/account/devices/${bad}/forget`);
        assert.equal(made.statusCode, 404, `id ${bad}: a clear 404, never a 500`);
      }
    });

    test('forgetting without the CSRF token is refused with 403 and keeps the device', async () => {
      // Threat: cross-site request forgery making a signed-in user forget their devices.
      const gina = await signedInUser('gina');
      const device = await remember(gina.id);
      const missing = await gina.browser.postForm(`/account/devices/${device.id}/forget`, {});
      assert.equal(missing.statusCode, 403);
      const wrong = await gina.browser.postForm(`/account/devices/${device.id}/forget`, { csrf: 'not-the-token' });
      assert.equal(wrong.statusCode, 403);
      const all = await gina.browser.postForm('/account/devices/forget-all', {});
      assert.equal(all.statusCode, 403);
      assert.ok((await allDevices(gina.id)).some((d) => d.id === device.id), 'the device is kept');
      assert.deepEqual(await forgottenEvents(gina.id), []);
    });

    test('forgetting requires a signed-in user', async () => {
      const henry = await signedInUser('henry');
      const device = await remember(henry.id);
      const anonymous = browserFrom(app);
      for (const url of [`/account/devices/${device.id}/forget`, '/account/devices/forget-all']) {
        const response = await anonymous.postForm(url, { csrf: 'x' });
        assert.equal(response.statusCode, 303);
        assert.equal(location(response), '/login?next=/account');
      }
      assert.ok((await allDevices(henry.id)).some((d) => d.id === device.id));
    });

    test("forget-all removes every device of the user, records one event, and leaves other users' devices", async () => {
      const ida = await signedInUser('ida');
      const jack = await signedInUser('jack');
      await remember(ida.id, { browser: 'Chrome', os: 'Windows' });
      await remember(ida.id, { browser: 'Safari', os: 'macOS' });
      await remember(ida.id, { browser: 'Firefox', os: 'Linux' }, app.clock.now() - 40 * DAY);
      const jacks = await remember(jack.id);
      const before = (await allDevices(ida.id)).length;
      assert.ok(before >= 3);

      const response = await postAccountForm(ida.browser, '/account/devices/forget-all');
      assert.equal(response.statusCode, 303);
      assert.equal(location(response), '/account?done=devices_forgotten');
      const page = await ida.browser.get(location(response));
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /All your devices are forgotten/);
      assert.deepEqual(deviceRows(page.body), []);
      assert.match(devicesSection(page.body), /No devices are remembered for your account\./);
      assert.deepEqual(await allDevices(ida.id), []);
      assert.ok((await allDevices(jack.id)).some((d) => d.id === jacks.id), "another user's devices are kept");

      const events = await forgottenEvents(ida.id);
      assert.equal(events.length, 1, 'one event for the whole action');
      assert.deepEqual(events[0]!.details, { count: before });

      const again = await postAccountForm(ida.browser, '/account/devices/forget-all');
      assert.equal(again.statusCode, 303, 'forgetting nothing is not an error');
      assert.equal((await forgottenEvents(ida.id)).length, 1, 'and records nothing');
    });
  });
}

describe('known devices view', () => {
  const base: AccountView = {
    productName: 'Portcullis',
    csrfToken: 'token-123',
    user: { email: 'a@example.com', name: null, emailVerified: true, org: null, role: 'member' },
    sessions: [],
    events: [],
    passkeys: null,
    twoFactor: { enrolled: false, recoveryCodesLeft: 0 },
    devices: [],
  };
  const device = (id: string, name: string, current = false) => ({ id, name, lastSeen: '2024-05-01 10:00 UTC', ip: '203.0.113.7', location: 'London, United Kingdom', current });

  test('marks this device, names every button after its device, and carries the CSRF token in each form', () => {
    const body = accountPage({ ...base, devices: [device('d1', 'Chrome on Windows', true), device('d2', 'Safari on iOS'), device('d3', 'Safari on iOS')] });
    const rows = deviceRows(body);
    assert.equal(rows.length, 3);
    assert.equal(body.match(/This device/g)?.length, 1);
    assert.match(rows[0]!.device, /^Chrome on Windows <span class="badge">This device<\/span>$/);
    assert.equal(rows[0]!.button, 'Forget Chrome on Windows (this device)');
    assert.equal(rows[1]!.button, 'Forget Safari on iOS, last sign-in 2024-05-01 10:00 UTC', 'two devices of the same kind are told apart');
    const forms = devicesSection(body).match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
    assert.equal(forms.length, 4, 'one form per device plus "Forget all devices"');
    for (const form of forms) assert.ok(form.includes('name="csrf" value="token-123"'));
  });

  test('a single device gets no "Forget all devices", and markup in device data is escaped', () => {
    const body = accountPage({ ...base, devices: [{ ...device('d1', '<script>x</script> on Windows'), location: '<b>Evil</b>' }] });
    assert.doesNotMatch(devicesSection(body), /forget-all/);
    assert.doesNotMatch(body, /<script>x<\/script>|<b>Evil<\/b>/);
    assert.match(body, /&lt;script&gt;x&lt;\/script&gt; on Windows/);
  });
});
