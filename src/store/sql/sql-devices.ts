// Known devices on SQL: one row per (user, device cookie hash), decoded at the boundary (PostgreSQL returns bigint as text).
import type { Kysely } from 'kysely';
import { randomId } from '../../crypto/tokens.js';
import type { DeviceStore, KnownDevice } from '../store.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';

type Row = Database['known_devices'];

function decode(row: Row): KnownDevice {
  return {
    id: row.id,
    userId: row.user_id,
    deviceHash: row.device_hash,
    browser: row.browser,
    os: row.os,
    firstSeenAt: toInt(row.first_seen_at),
    lastSeenAt: toInt(row.last_seen_at),
    lastIp: row.last_ip,
    lastLocation: row.last_location,
  };
}

export function sqlDeviceStore(db: Kysely<Database>): DeviceStore {
  // Read and written on every sign-in: compiled once.
  const find = precompile(db, ['user_id', 'device_hash'], (p) => db.selectFrom('known_devices').selectAll().where('user_id', '=', p.user_id).where('device_hash', '=', p.device_hash));
  const remember = precompile(db, ['id', 'user_id', 'device_hash', 'browser', 'os', 'now', 'last_ip', 'last_location'], (p) =>
    db
      .insertInto('known_devices')
      .values({
        id: p.id,
        user_id: p.user_id,
        device_hash: p.device_hash,
        browser: p.browser,
        os: p.os,
        first_seen_at: p.now,
        last_seen_at: p.now,
        last_ip: p.last_ip,
        last_location: p.last_location,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'device_hash']).doUpdateSet((eb) => ({
          browser: eb.ref('excluded.browser'),
          os: eb.ref('excluded.os'),
          last_ip: eb.ref('excluded.last_ip'),
          last_location: eb.ref('excluded.last_location'),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .returningAll(),
  );
  const listForUser = precompile(db, ['user_id', 'since'], (p) =>
    db
      .selectFrom('known_devices')
      .selectAll()
      .where('user_id', '=', p.user_id)
      .where('last_seen_at', '>=', p.since)
      .orderBy('last_seen_at', 'desc')
      .orderBy('first_seen_at', 'desc')
      .orderBy('id'),
  );
  return {
    async find(userId, deviceHash) {
      const row = (await find({ user_id: userId, device_hash: deviceHash })).rows[0];
      return row ? decode(row) : null;
    },
    async remember(device, now) {
      // One statement on both engines: a concurrent first sign-in from the same device cannot insert twice, and the
      // existing row keeps its id and firstSeenAt.
      const row = (
        await remember({ id: randomId(), user_id: device.userId, device_hash: device.deviceHash, browser: device.browser, os: device.os, now, last_ip: device.lastIp, last_location: device.lastLocation })
      ).rows[0];
      if (!row) throw new Error('remembering a device returned no row');
      return decode(row);
    },
    async listForUser(userId, since) {
      return (await listForUser({ user_id: userId, since })).rows.map(decode);
    },
    async hasAny(userId, since) {
      const row = await db.selectFrom('known_devices').select('id').where('user_id', '=', userId).where('last_seen_at', '>=', since).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async forget(userId, id) {
      const result = await db.deleteFrom('known_devices').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async forgetAll(userId) {
      const result = await db.deleteFrom('known_devices').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async prune(before) {
      const result = await db.deleteFrom('known_devices').where('last_seen_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
