// Runtime settings on SQL: an append-only list of versions; a new version must take the next revision number.
import type { Kysely, Selectable } from 'kysely';
import type { SettingsRecord, SettingsStore } from '../store.js';
import { isUniqueViolation } from './database.js';
import { toInt, type Database } from './schema.js';

function decode(row: Selectable<Database['settings_versions']>): SettingsRecord {
  return { values: JSON.parse(row.values_json) as Record<string, unknown>, revision: toInt(row.revision), updatedBy: row.updated_by, updatedAt: toInt(row.updated_at) };
}

export function sqlSettingsStore(db: Kysely<Database>): SettingsStore {
  return {
    async get() {
      const row = await db.selectFrom('settings_versions').selectAll().orderBy('revision', 'desc').limit(1).executeTakeFirst();
      return row ? decode(row) : null;
    },
    async put(values, actor, expectedRevision, now) {
      const row = { revision: expectedRevision + 1, values_json: JSON.stringify(values), updated_by: actor, updated_at: now };
      try {
        // Only the writer that saw the latest revision can insert the next one; a second one hits the primary key.
        const latest = await db.selectFrom('settings_versions').select('revision').orderBy('revision', 'desc').limit(1).executeTakeFirst();
        if ((latest ? toInt(latest.revision) : 0) !== expectedRevision) return null;
        await db.insertInto('settings_versions').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) return null;
        throw error;
      }
      return { values, revision: row.revision, updatedBy: actor, updatedAt: now };
    },
    async history(limit) {
      const rows = await db.selectFrom('settings_versions').selectAll().orderBy('revision', 'desc').limit(limit).execute();
      return rows.map(decode);
    },
  };
}
