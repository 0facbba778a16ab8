// Contract suite for DeviceStore and LoginHistoryStore, run on every backend: scoped by user, upserts atomic, values exact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { backends } from '../helpers/databases.js';
import { T0, unique, type StoreContext } from './contract-fixtures.js';
import type { User } from '../../src/domain/types.js';
import type { KnownDevice, LoginLocation, Store } from '../../src/store/store.js';

const DAY = 86_400_000;

async function newUser(store: Store): Promise<User> {
  return store.users.create({ email: `${unique('dev')}@example.test`, passwordHash: null }, T0);
}

function device(userId: string, overrides: Partial<Omit<KnownDevice, 'id' | 'firstSeenAt' | 'lastSeenAt'>> = {}): Omit<KnownDevice, 'id' | 'firstSeenAt' | 'lastSeenAt'> {
  return {
    userId,
    deviceHash: unique('hash'),
    browser: 'Chrome',
    os: 'Windows',
    lastIp: '203.0.113.7',
    lastLocation: 'London, United Kingdom',
    ...overrides,
  };
}

function login(userId: string, overrides: Partial<LoginLocation> = {}): LoginLocation {
  return {
    userId,
    at: T0,
    ip: '203.0.113.7',
    countryCode: 'GB',
    latitude: 51.5072,
    longitude: -0.1257,
    accuracyKm: 20,
    label: 'London, United Kingdom',
    ...overrides,
  };
}

/** UserStore has no deletion, so the cascade is checked with a raw DELETE (foreign keys on, as the app opens SQLite). */
async function deleteUserRaw(context: StoreContext, userId: string): Promise<void> {
  if (context.databaseUrl) {
    const client = new pg.Client({ connectionString: context.databaseUrl });
    await client.connect();
    try {
      await client.query('DELETE FROM users WHERE id = $1', [userId]);
    } finally {
      await client.end();
    }
    return;
  }
  const sqlite = new SQLite(join(context.dataDir, 'portcullis.sqlite'), { fileMustExist: true });
  try {
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.prepare('DELETE FROM users WHERE id = ?').run(userId);
  } finally {
    sqlite.close();
  }
}

for (const backend of backends()) {
  describe(`${backend.name}: DeviceStore`, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    it('remember inserts, then upserts the same row: same id, firstSeenAt kept, the rest updated', async () => {
      const { store } = context;
      const user = await newUser(store);
      const input = device(user.id);
      const first = await store.devices.remember(input, T0);
      assert.equal(typeof first.id, 'string');
      assert.ok(first.id.length > 0);
      assert.deepEqual(first, { ...input, id: first.id, firstSeenAt: T0, lastSeenAt: T0 });
      assert.deepEqual(await store.devices.find(user.id, input.deviceHash), first);

      const update = { ...input, browser: 'Firefox', os: 'Linux', lastIp: '198.51.100.9', lastLocation: 'Paris, France' };
      const second = await store.devices.remember(update, T0 + 5_000);
      assert.deepEqual(second, { ...update, id: first.id, firstSeenAt: T0, lastSeenAt: T0 + 5_000 });
      assert.deepEqual(await store.devices.find(user.id, input.deviceHash), second);

      const cleared = await store.devices.remember({ ...input, browser: null, os: null, lastIp: null, lastLocation: null }, T0 + 6_000);
      assert.deepEqual(cleared, { ...input, browser: null, os: null, lastIp: null, lastLocation: null, id: first.id, firstSeenAt: T0, lastSeenAt: T0 + 6_000 });
      assert.equal((await store.devices.listForUser(user.id, 0)).length, 1, 'still one row');
    });

    it('concurrent remembers of the same device make one row', async () => {
      const { store } = context;
      const user = await newUser(store);
      const input = device(user.id);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.devices.remember(input, T0 + i)));
      assert.equal(new Set(results.map((r) => r.id)).size, 1);
      assert.equal((await store.devices.listForUser(user.id, 0)).length, 1);
    });

    it('find is scoped by user: the same hash under another user is not found, and is a separate row', async () => {
      const { store } = context;
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const input = device(alice.id);
      const aliceRow = await store.devices.remember(input, T0);
      assert.equal(await store.devices.find(mallory.id, input.deviceHash), null);
      assert.equal(await store.devices.find(alice.id, unique('other-hash')), null);
      const malloryRow = await store.devices.remember({ ...input, userId: mallory.id, browser: 'Safari' }, T0 + 1);
      assert.notEqual(malloryRow.id, aliceRow.id);
      assert.deepEqual(await store.devices.find(alice.id, input.deviceHash), aliceRow, "the other user's remember leaves alice's row alone");
    });

    it('listForUser returns devices seen at or after `since`, most recent first, only the user’s own', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      const old = await store.devices.remember(device(user.id), T0);
      const middle = await store.devices.remember(device(user.id), T0 + 10 * DAY);
      const recent = await store.devices.remember(device(user.id), T0 + 20 * DAY);
      await store.devices.remember(device(other.id), T0 + 30 * DAY);
      assert.deepEqual(await store.devices.listForUser(user.id, 0), [recent, middle, old]);
      assert.deepEqual(await store.devices.listForUser(user.id, T0 + 10 * DAY), [recent, middle], '`since` is inclusive');
      assert.deepEqual(await store.devices.listForUser(user.id, T0 + 10 * DAY + 1), [recent]);
      assert.deepEqual(await store.devices.listForUser(user.id, T0 + 21 * DAY), []);
      assert.deepEqual(await store.devices.listForUser(unique('nobody'), 0), []);
      const touched = await store.devices.remember({ ...device(user.id), deviceHash: old.deviceHash }, T0 + 25 * DAY);
      assert.deepEqual((await store.devices.listForUser(user.id, 0)).map((d) => d.id), [touched.id, recent.id, middle.id], 'a re-seen device moves to the front');
    });

    it('hasAny respects `since` and the user', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      assert.equal(await store.devices.hasAny(user.id, 0), false);
      await store.devices.remember(device(user.id), T0 + DAY);
      await store.devices.remember(device(other.id), T0 + 5 * DAY);
      assert.equal(await store.devices.hasAny(user.id, 0), true);
      assert.equal(await store.devices.hasAny(user.id, T0 + DAY), true, '`since` is inclusive');
      assert.equal(await store.devices.hasAny(user.id, T0 + DAY + 1), false);
      assert.equal(await store.devices.hasAny(unique('nobody'), 0), false);
    });

    it('forget deletes only the caller’s own device', async () => {
      const { store } = context;
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const row = await store.devices.remember(device(alice.id), T0);
      assert.equal(await store.devices.forget(mallory.id, row.id), false);
      assert.deepEqual(await store.devices.find(alice.id, row.deviceHash), row, 'row kept');
      assert.equal(await store.devices.forget(alice.id, unique('missing')), false);
      assert.equal(await store.devices.forget(alice.id, row.id), true);
      assert.equal(await store.devices.forget(alice.id, row.id), false);
      assert.equal(await store.devices.find(alice.id, row.deviceHash), null);
    });

    it('forgetAll deletes every device of the user and no one else’s', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      await store.devices.remember(device(user.id), T0);
      await store.devices.remember(device(user.id), T0 + 1);
      const kept = await store.devices.remember(device(other.id), T0);
      assert.equal(await store.devices.forgetAll(user.id), 2);
      assert.equal(await store.devices.forgetAll(user.id), 0);
      assert.deepEqual(await store.devices.listForUser(user.id, 0), []);
      assert.deepEqual(await store.devices.listForUser(other.id, 0), [kept]);
    });

    it('prune deletes devices last seen before `before`, across users', async () => {
      const { store } = context;
      // Later than every other test's rows, which this prune also removes: hence `>=` on the count.
      const base = T0 + 10_000 * DAY;
      const user = await newUser(store);
      const other = await newUser(store);
      await store.devices.remember(device(user.id), base);
      await store.devices.remember(device(other.id), base + 1);
      const boundary = await store.devices.remember(device(user.id), base + 2);
      const fresh = await store.devices.remember(device(other.id), base + 3);
      const removed = await store.devices.prune(base + 2);
      assert.ok(removed >= 2, `removed ${removed}`);
      assert.deepEqual(await store.devices.listForUser(user.id, 0), [boundary], 'lastSeenAt == before is kept');
      assert.deepEqual(await store.devices.listForUser(other.id, 0), [fresh]);
      assert.equal(await store.devices.prune(base + 2), 0);
    });

    it('deleting the user deletes their devices', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      const row = await store.devices.remember(device(user.id), T0);
      const kept = await store.devices.remember(device(other.id), T0);
      await deleteUserRaw(context, user.id);
      assert.equal(await store.devices.find(user.id, row.deviceHash), null);
      assert.deepEqual(await store.devices.find(other.id, kept.deviceHash), kept);
    });
  });

  describe(`${backend.name}: LoginHistoryStore`, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    it('record then last returns the most recent login with every field exact', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      const london = login(user.id, { at: T0 });
      const sydney = login(user.id, { at: T0 + DAY, ip: '2001:db8::1', countryCode: 'AU', latitude: -33.8688, longitude: 151.2, accuracyKm: 1000, label: 'Sydney, Australia' });
      await store.loginHistory.record(sydney);
      await store.loginHistory.record(london);
      await store.loginHistory.record(login(other.id, { at: T0 + 2 * DAY }));
      const last = await store.loginHistory.last(user.id);
      assert.deepEqual(last, sydney, 'greatest `at`, not latest inserted');
      assert.equal(typeof last?.latitude, 'number');
      assert.equal(typeof last?.longitude, 'number');
      assert.equal(typeof last?.accuracyKm, 'number');
      assert.equal(typeof last?.at, 'number');
    });

    it('latitude, longitude and accuracy round-trip as numbers, negative and fractional too', async () => {
      const { store } = context;
      for (const entry of [
        { latitude: 51.5072, longitude: -0.1257, accuracyKm: 5 },
        { latitude: -33.8688, longitude: 151.2, accuracyKm: 1000 },
        { latitude: 0, longitude: 0, accuracyKm: 0 },
        { latitude: -89.999999, longitude: -179.123456789, accuracyKm: 2.5 },
      ]) {
        const user = await newUser(store);
        await store.loginHistory.record(login(user.id, entry));
        const last = await store.loginHistory.last(user.id);
        assert.deepEqual([last?.latitude, last?.longitude, last?.accuracyKm], [entry.latitude, entry.longitude, entry.accuracyKm]);
      }
    });

    it('a login without location keeps its nulls', async () => {
      const { store } = context;
      const user = await newUser(store);
      const entry = login(user.id, { ip: '127.0.0.1', countryCode: null, latitude: null, longitude: null, accuracyKm: null, label: null });
      await store.loginHistory.record(entry);
      assert.deepEqual(await store.loginHistory.last(user.id), entry);
    });

    it('last is null for a user with no logins; ties on `at` go to the latest inserted', async () => {
      const { store } = context;
      assert.equal(await store.loginHistory.last(unique('nobody')), null);
      const user = await newUser(store);
      assert.equal(await store.loginHistory.last(user.id), null);
      await store.loginHistory.record(login(user.id, { at: T0, ip: '192.0.2.1' }));
      await store.loginHistory.record(login(user.id, { at: T0, ip: '192.0.2.2' }));
      await store.loginHistory.record(login(user.id, { at: T0, ip: '192.0.2.3' }));
      assert.equal((await store.loginHistory.last(user.id))?.ip, '192.0.2.3');
    });

    it('countries: distinct, sorted, no nulls, at or after `since`, only the user’s', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      assert.deepEqual(await store.loginHistory.countries(user.id, 0), []);
      await store.loginHistory.record(login(user.id, { at: T0, countryCode: 'US' }));
      await store.loginHistory.record(login(user.id, { at: T0 + DAY, countryCode: 'GB' }));
      await store.loginHistory.record(login(user.id, { at: T0 + 2 * DAY, countryCode: 'GB' }));
      await store.loginHistory.record(login(user.id, { at: T0 + 3 * DAY, countryCode: null }));
      await store.loginHistory.record(login(user.id, { at: T0 + 4 * DAY, countryCode: 'AU' }));
      await store.loginHistory.record(login(other.id, { at: T0 + 4 * DAY, countryCode: 'FR' }));
      assert.deepEqual(await store.loginHistory.countries(user.id, 0), ['AU', 'GB', 'US']);
      assert.deepEqual(await store.loginHistory.countries(user.id, T0 + DAY), ['AU', 'GB'], '`since` is inclusive');
      assert.deepEqual(await store.loginHistory.countries(user.id, T0 + 3 * DAY), ['AU']);
      assert.deepEqual(await store.loginHistory.countries(user.id, T0 + 5 * DAY), []);
    });

    it('prune deletes entries before `before`, across users', async () => {
      const { store } = context;
      const base = T0 + 10_000 * DAY;
      const user = await newUser(store);
      const other = await newUser(store);
      await store.loginHistory.record(login(user.id, { at: base, countryCode: 'US' }));
      await store.loginHistory.record(login(other.id, { at: base + 1, countryCode: 'US' }));
      const boundary = login(user.id, { at: base + 2, countryCode: 'GB' });
      await store.loginHistory.record(boundary);
      const removed = await store.loginHistory.prune(base + 2);
      assert.ok(removed >= 2, `removed ${removed}`);
      assert.deepEqual(await store.loginHistory.countries(user.id, 0), ['GB'], '`at` == before is kept');
      assert.equal(await store.loginHistory.last(other.id), null);
      assert.deepEqual(await store.loginHistory.last(user.id), boundary);
      assert.equal(await store.loginHistory.prune(base + 2), 0);
    });

    it('deleting the user deletes their login history', async () => {
      const { store } = context;
      const user = await newUser(store);
      const other = await newUser(store);
      await store.loginHistory.record(login(user.id));
      await store.loginHistory.record(login(other.id));
      await deleteUserRaw(context, user.id);
      assert.equal(await store.loginHistory.last(user.id), null);
      assert.notEqual(await store.loginHistory.last(other.id), null);
    });
  });
}
