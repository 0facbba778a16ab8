// Contract suite for MfaStore on every SQL backend: sealing at rest, single-use steps and codes under concurrency, and a reset that touches nothing else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { backends, TEST_SEAL_KEY, type Backend } from '../helpers/databases.js';
import { generateTotpSecret } from '../../src/authn/totp.js';
import { unseal } from '../../src/crypto/seal.js';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';

type StoreContext = Awaited<ReturnType<Backend['create']>>;

const T0 = 1_700_000_000_000;
const STEP = 56_666_666;

const unique = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;
const hashes = (n: number): string[] => Array.from({ length: n }, () => randomBytes(32).toString('hex'));

/** Runs a query straight on the database, bypassing the store. */
async function rawQuery(context: StoreContext, query: string): Promise<Record<string, unknown>[]> {
  if (context.databaseUrl) {
    const client = new pg.Client({ connectionString: context.databaseUrl });
    await client.connect();
    try {
      return (await client.query(query)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }
  const sqlite = new SQLite(join(context.dataDir, 'portcullis.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return sqlite.prepare(query).all() as Record<string, unknown>[];
  } finally {
    sqlite.close();
  }
}

/** Every row of every table except the MFA ones, as text: a before/after snapshot of "everything else". */
async function snapshotOtherTables(context: StoreContext): Promise<string> {
  const tables = context.databaseUrl
    ? await rawQuery(context, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")
    : await rawQuery(context, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const names = tables.map((t) => String(t.name)).filter((name) => !['mfa_totp', 'recovery_codes'].includes(name));
  assert.ok(names.includes('users') && names.includes('sessions'), 'the snapshot sees the other tables');
  const parts: string[] = [];
  for (const name of names) {
    const rows = await rawQuery(context, `SELECT * FROM ${name}`);
    const lines = rows.map((row) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort();
    parts.push(`${name}:${lines.join('\n')}`);
  }
  return parts.join('\n\n');
}

for (const backend of backends()) {
  describe(`MfaStore on ${backend.name}`, () => {
    let context: StoreContext;
    let store: Store;
    const newUser = async (): Promise<string> => (await store.users.create({ email: `${unique('mfa')}@example.com`, passwordHash: null }, T0)).id;

    before(async () => {
      context = await backend.create();
      store = context.store;
    });
    after(async () => {
      await context.dispose();
    });

    it('returns null for a user without TOTP, and no recovery codes', async () => {
      const userId = await newUser();
      assert.equal(await store.mfa.getTotp(userId), null);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 0);
    });

    // Threat: a database dump or backup exposes TOTP secrets, letting the thief compute every future code.
    it('seals secrets at rest under a key of its own: neither the active nor the pending secret is in the database', async () => {
      const userId = await newUser();
      const active = generateTotpSecret();
      const pending = generateTotpSecret();
      await store.mfa.enableTotp(userId, active, T0);
      await store.mfa.setPendingTotp(userId, pending, T0 + 1);
      const rows = await rawQuery(context, `SELECT * FROM mfa_totp WHERE user_id = '${userId}'`);
      assert.equal(rows.length, 1);
      const raw = JSON.stringify(rows[0]);
      for (const secret of [active, pending]) {
        assert.ok(!raw.includes(secret) && !raw.toLowerCase().includes(secret.toLowerCase()), 'no plaintext secret in the row');
      }
      const sealed = String(rows[0]?.sealed_secret);
      assert.match(sealed, /^v1\./);
      assert.throws(() => unseal(TEST_SEAL_KEY, sealed), 'the signing-key seal key does not open TOTP secrets');
      const record = await store.mfa.getTotp(userId);
      assert.equal(record?.secret, active);
      assert.equal(record?.pendingSecret, pending);
    });

    it('a store opened with another key cannot read the secrets', { skip: backend.name !== 'sqlite' }, async () => {
      const userId = await newUser();
      await store.mfa.enableTotp(userId, generateTotpSecret(), T0);
      const other = createSqlStore({ databaseUrl: '', dataDir: context.dataDir, sealKey: Buffer.alloc(32, 9) });
      try {
        await assert.rejects(other.mfa.getTotp(userId));
      } finally {
        await other.close();
      }
    });

    it('keeps an active secret while a new enrollment is pending, and confirms only the pending secret it was given', async () => {
      const userId = await newUser();
      const active = generateTotpSecret();
      const pending = generateTotpSecret();
      await store.mfa.enableTotp(userId, active, T0);
      await store.mfa.recordTotpStep(userId, STEP - 10);
      await store.mfa.setPendingTotp(userId, pending, T0 + 1000);
      let record = await store.mfa.getTotp(userId);
      assert.equal(record?.secret, active, 'still active while pending');
      assert.equal(record?.pendingAt, T0 + 1000);
      assert.equal(record?.lastStep, STEP - 10);

      assert.equal(await store.mfa.confirmTotp(userId, generateTotpSecret(), STEP, T0 + 2000), false, 'a different secret is not confirmed');
      assert.equal(await store.mfa.confirmTotp(userId, pending, STEP, T0 + 2000), true);
      assert.equal(await store.mfa.confirmTotp(userId, pending, STEP, T0 + 2000), false, 'confirmed once');
      record = await store.mfa.getTotp(userId);
      assert.deepEqual(record, { secret: pending, pendingSecret: null, pendingAt: null, lastStep: STEP, createdAt: T0 + 2000, confirmedAt: T0 + 2000 });
    });

    it('a pending enrollment alone is not active: no step can be recorded for it', async () => {
      const userId = await newUser();
      await store.mfa.setPendingTotp(userId, generateTotpSecret(), T0);
      const record = await store.mfa.getTotp(userId);
      assert.equal(record?.secret, null);
      assert.equal(record?.confirmedAt, null);
      assert.equal(await store.mfa.recordTotpStep(userId, STEP), false);
      assert.equal(await store.mfa.recordTotpStep(await newUser(), STEP), false, 'no row at all');
    });

    it('confirmTotp without a pending enrollment is refused', async () => {
      const userId = await newUser();
      const secret = generateTotpSecret();
      assert.equal(await store.mfa.confirmTotp(userId, secret, STEP, T0), false);
      await store.mfa.enableTotp(userId, secret, T0);
      assert.equal(await store.mfa.confirmTotp(userId, secret, STEP, T0), false);
    });

    // Threat: two parallel submissions of one intercepted code both pass, because each read last_step before either wrote it.
    it('recordTotpStep is atomic: of 20 parallel calls with the same step exactly one wins', async () => {
      const userId = await newUser();
      await store.mfa.enableTotp(userId, generateTotpSecret(), T0);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.mfa.recordTotpStep(userId, STEP)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.mfa.getTotp(userId))?.lastStep, STEP);
      assert.equal(await store.mfa.recordTotpStep(userId, STEP - 1), false, 'an older step never wins');
      assert.equal(await store.mfa.recordTotpStep(userId, STEP), false, 'nor the same step later');
      assert.equal(await store.mfa.recordTotpStep(userId, STEP + 1), true, 'the next step does');
    });

    it('enableTotp replaces the secret and forgets the old last step', async () => {
      const userId = await newUser();
      await store.mfa.enableTotp(userId, generateTotpSecret(), T0);
      await store.mfa.recordTotpStep(userId, STEP);
      const next = generateTotpSecret();
      await store.mfa.enableTotp(userId, next, T0 + 5);
      assert.deepEqual(await store.mfa.getTotp(userId), { secret: next, pendingSecret: null, pendingAt: null, lastStep: null, createdAt: T0 + 5, confirmedAt: T0 + 5 });
    });

    // Threat: a recovery code, leaked or intercepted, is used more than once (or by two racing requests).
    it('consumeRecoveryCode works once per code, even under 20 parallel calls', async () => {
      const userId = await newUser();
      const set = hashes(10);
      await store.mfa.replaceRecoveryCodes(userId, set, T0);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 10);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.mfa.consumeRecoveryCode(userId, set[0] as string, T0 + 1)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.mfa.consumeRecoveryCode(userId, set[0] as string, T0 + 2), false);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 9);
      assert.equal(await store.mfa.consumeRecoveryCode(userId, (hashes(1)[0]) as string, T0), false, 'an unknown hash');
    });

    it("one user's recovery codes do not work for another user", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const set = hashes(2);
      await store.mfa.replaceRecoveryCodes(alice, set, T0);
      assert.equal(await store.mfa.consumeRecoveryCode(bob, set[0] as string, T0), false);
      assert.equal(await store.mfa.countRecoveryCodes(alice), 2);
    });

    it('replaceRecoveryCodes invalidates the old set, used or not', async () => {
      const userId = await newUser();
      const old = hashes(3);
      await store.mfa.replaceRecoveryCodes(userId, old, T0);
      await store.mfa.consumeRecoveryCode(userId, old[0] as string, T0);
      const fresh = hashes(10);
      await store.mfa.replaceRecoveryCodes(userId, fresh, T0 + 1);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 10);
      assert.equal(await store.mfa.consumeRecoveryCode(userId, old[1] as string, T0 + 2), false);
      assert.equal(await store.mfa.consumeRecoveryCode(userId, fresh[0] as string, T0 + 2), true);
      await store.mfa.replaceRecoveryCodes(userId, [], T0 + 3);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 0);
    });

    // Threat: an admin reset that also wipes other credentials (passkeys) or other users' data.
    it('resetMfa removes TOTP and recovery codes of that user only, and leaves every other table untouched', async () => {
      const userId = await newUser();
      const bystander = await newUser();
      for (const id of [userId, bystander]) {
        await store.mfa.enableTotp(id, generateTotpSecret(), T0);
        await store.mfa.replaceRecoveryCodes(id, hashes(10), T0);
      }
      await store.sessions.create({ id: unique('sess'), secretHash: 'h', userId, createdAt: T0, lastSeenAt: T0, ip: null, userAgent: null, revokedAt: null, idleMs: null, absoluteMs: null, endReason: null });
      await store.links.create({ id: unique('link'), purpose: 'verify_email', secretHash: 'h', userId, data: {}, createdAt: T0, expiresAt: T0 + 1, usedAt: null });
      await store.events.append({ code: 'login_success', outcome: 'success', userId }, T0);
      await store.buckets.take(`mfa:${userId}`, 10, 360_000, T0);
      const before = await snapshotOtherTables(context);

      assert.deepEqual(await store.mfa.resetMfa(userId), { removedTotp: true, removedRecoveryCodes: 10 });
      assert.equal(await store.mfa.getTotp(userId), null);
      assert.equal(await store.mfa.countRecoveryCodes(userId), 0);
      assert.equal(await snapshotOtherTables(context), before, 'users, sessions, links, events, buckets, passkeys… unchanged');
      assert.ok((await store.mfa.getTotp(bystander))?.secret, "another user's TOTP stays");
      assert.equal(await store.mfa.countRecoveryCodes(bystander), 10);
      assert.deepEqual(await store.mfa.resetMfa(userId), { removedTotp: false, removedRecoveryCodes: 0 }, 'a second reset finds nothing');
    });
  });
}
