// Login locations on SQL, decoded at the boundary: PostgreSQL returns bigint as text; doubles come back as numbers on
// both engines, but are passed through Number() anyway so a driver setting cannot turn them into strings unnoticed.
import type { Kysely } from 'kysely';
import type { LoginHistoryStore, LoginLocation } from '../store.js';
import { precompile } from './prepared-queries.js';
import { toInt, type Database } from './schema.js';

type Row = Omit<Database['login_locations'], 'id'>;

const toNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

function decode(row: Row): LoginLocation {
  return {
    userId: row.user_id,
    at: toInt(row.at),
    ip: row.ip,
    countryCode: row.country_code,
    latitude: toNumber(row.latitude),
    longitude: toNumber(row.longitude),
    accuracyKm: toNumber(row.accuracy_km),
    label: row.label,
  };
}

export function sqlLoginHistoryStore(db: Kysely<Database>): LoginHistoryStore {
  // Read twice and written once per sign-in: compiled once.
  const record = precompile(db, ['user_id', 'at', 'ip', 'country_code', 'latitude', 'longitude', 'accuracy_km', 'label'], (p) => db.insertInto('login_locations').values(p));
  const last = precompile(db, ['user_id'], (p) =>
    db
      .selectFrom('login_locations')
      .select(['user_id', 'at', 'ip', 'country_code', 'latitude', 'longitude', 'accuracy_km', 'label'])
      .where('user_id', '=', p.user_id)
      // Ties on `at` go to the latest inserted row (ids grow in insertion order).
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(1),
  );
  const countries = precompile(db, ['user_id', 'since'], (p) =>
    db.selectFrom('login_locations').select('country_code').distinct().where('user_id', '=', p.user_id).where('at', '>=', p.since).where('country_code', 'is not', null),
  );
  return {
    async record(entry) {
      await record({
        user_id: entry.userId,
        at: entry.at,
        ip: entry.ip,
        country_code: entry.countryCode,
        latitude: entry.latitude,
        longitude: entry.longitude,
        accuracy_km: entry.accuracyKm,
        label: entry.label,
      });
    },
    async last(userId) {
      const row = (await last({ user_id: userId })).rows[0];
      return row ? decode(row) : null;
    },
    async countries(userId, since) {
      const { rows } = await countries({ user_id: userId, since });
      // Sorted here, not in SQL, so the order does not depend on the database collation.
      return rows
        .map((row) => row.country_code)
        .filter((code): code is string => code !== null)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
    async prune(before) {
      const result = await db.deleteFrom('login_locations').where('at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
