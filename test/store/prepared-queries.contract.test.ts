// precompile (src/store/sql/prepared-queries.ts) on every backend: values are bound by name in the compiled order,
// constants of the query stay as compiled, a value given twice binds twice, and a name the query never uses is an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type SqlDatabase } from '../../src/store/sql/database.js';
import { precompile } from '../../src/store/sql/prepared-queries.js';
import { backends } from '../helpers/databases.js';
import { T0, unique, type StoreContext } from './contract-fixtures.js';

for (const backend of backends()) {
  describe(`precompile (${backend.name})`, () => {
    let context: StoreContext;
    let connection: SqlDatabase;
    before(async () => {
      context = await backend.create();
      connection = openDatabase({ databaseUrl: context.databaseUrl, dataDir: context.dataDir });
    });
    after(async () => {
      await connection.close();
      await context.dispose();
    });

    it('binds each run its own values, in the order the dialect compiled them, and keeps constants', async () => {
      const { db } = connection;
      const insert = precompile(db, ['id', 'payload', 'expires_at'], (p) =>
        db.insertInto('oidc_models').values({ model: 'PrecompileTest', id: p.id, payload: p.payload, grant_id: null, uid: null, user_code: null, account_id: null, expires_at: p.expires_at, consumed_at: null }),
      );
      // The placeholders appear in another order in the query than in the names list.
      const select = precompile(db, ['expires_at', 'id'], (p) =>
        db.selectFrom('oidc_models').select(['id', 'payload', 'expires_at']).where('model', '=', 'PrecompileTest').where('id', '=', p.id).where('expires_at', '>', p.expires_at),
      );
      const [a, b] = [unique('a'), unique('b')];
      await insert({ id: a, payload: '{"n":1}', expires_at: T0 + 1 });
      await insert({ id: b, payload: '{"n":2}', expires_at: T0 + 2 });
      assert.deepEqual((await select({ id: a, expires_at: T0 })).rows.map((r) => [r.id, r.payload, Number(r.expires_at)]), [[a, '{"n":1}', T0 + 1]]);
      assert.deepEqual((await select({ id: b, expires_at: T0 })).rows.map((r) => [r.id, r.payload, Number(r.expires_at)]), [[b, '{"n":2}', T0 + 2]]);
      assert.deepEqual((await select({ id: b, expires_at: T0 + 2 })).rows, []);
    });

    it('a value used twice in the query is bound at both places; updates report the rows they changed', async () => {
      const { db } = connection;
      const id = unique('c');
      await db.insertInto('oidc_models').values({ model: 'PrecompileTest', id, payload: '{}', grant_id: null, uid: null, user_code: null, account_id: null, expires_at: null, consumed_at: null }).execute();
      const stamp = precompile(db, ['id', 'at'], (p) =>
        db.updateTable('oidc_models').set({ consumed_at: p.at, expires_at: p.at }).where('model', '=', 'PrecompileTest').where('id', '=', p.id).where('consumed_at', 'is', null),
      );
      assert.equal(Number((await stamp({ id, at: T0 })).numAffectedRows), 1);
      assert.equal(Number((await stamp({ id, at: T0 + 5 })).numAffectedRows), 0);
      const row = await db.selectFrom('oidc_models').select(['consumed_at', 'expires_at']).where('model', '=', 'PrecompileTest').where('id', '=', id).executeTakeFirstOrThrow();
      assert.deepEqual([Number(row.consumed_at), Number(row.expires_at)], [T0, T0]);
    });

    it('refuses a name the query does not use', () => {
      const { db } = connection;
      assert.throws(() => precompile(db, ['id', 'forgotten'], (p) => db.selectFrom('oidc_models').select('id').where('id', '=', p.id)), /forgotten not bound/);
    });
  });
}
