// Contract suite for UserStore, OrgStore and migrate(): every backend must pass it unchanged.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { T0, isConflict, unique, type StoreContext } from './contract-fixtures.js';

for (const backend of backends()) {
  describe(backend.name, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    describe('migrate', () => {
      it('is idempotent: running it again on a migrated database succeeds and keeps data', async () => {
        const { store } = context;
        const user = await store.users.create({ email: `${unique('m')}@example.test`, passwordHash: null }, T0);
        await store.migrate();
        await store.migrate();
        assert.equal((await store.users.findById(user.id))?.email, user.email);
      });
    });

    describe('UserStore', () => {
      it('create returns the stored user with defaults, and findById returns the same record', async () => {
        const { store } = context;
        const email = `${unique('alice')}@example.test`;
        const created = await store.users.create({ email, name: 'Alice', passwordHash: '$argon2id$fake' }, T0);
        assert.equal(typeof created.id, 'string');
        assert.ok(created.id.length > 0);
        assert.deepEqual(created, {
          id: created.id,
          email,
          emailVerified: false,
          name: 'Alice',
          passwordHash: '$argon2id$fake',
          orgId: null,
          role: 'member',
          operator: false,
          disabled: false,
          createdAt: T0,
          updatedAt: T0,
        });
        assert.deepEqual(await store.users.findById(created.id), created);
        assert.equal(await store.users.findById(unique('missing')), null);
      });

      it('create keeps role and emailVerified when given', async () => {
        const { store } = context;
        const created = await store.users.create(
          { email: `${unique('admin')}@example.test`, passwordHash: null, role: 'admin', emailVerified: true },
          T0,
        );
        const found = await store.users.findById(created.id);
        assert.equal(found?.role, 'admin');
        assert.equal(found?.emailVerified, true);
        assert.equal(found?.passwordHash, null);
      });

      it('findByEmail matches case-insensitively and ignores surrounding whitespace', async () => {
        const { store } = context;
        const local = unique('Bob.Mixed');
        const created = await store.users.create({ email: `  ${local}@Example.TEST `, passwordHash: null }, T0);
        assert.equal(created.email, `${local}@Example.TEST`, 'stored email is trimmed');
        assert.equal((await store.users.findByEmail(`${local}@Example.TEST`))?.id, created.id);
        assert.equal((await store.users.findByEmail(`${local.toLowerCase()}@example.test`))?.id, created.id);
        assert.equal((await store.users.findByEmail(`\t${local.toUpperCase()}@EXAMPLE.TEST  `))?.id, created.id);
        assert.equal(await store.users.findByEmail(`${unique('nobody')}@example.test`), null);
      });

      it('emails are unique case-insensitively: a duplicate in another case throws conflict', async () => {
        // Threat: two accounts for one mailbox would let a second sign-up hijack the first user's identity.
        const { store } = context;
        const local = unique('carol');
        await store.users.create({ email: `${local}@example.test`, passwordHash: null }, T0);
        await assert.rejects(store.users.create({ email: ` ${local.toUpperCase()}@EXAMPLE.test`, passwordHash: null }, T0), isConflict);
        await assert.rejects(store.users.create({ email: `${local}@example.test`, passwordHash: null }, T0), isConflict);
      });

      it('list pages with limit/offset in creation order and filters by orgId', async () => {
        const { store } = context;
        const org = await store.orgs.create(unique('Paging'), T0);
        const members = [];
        for (let i = 0; i < 3; i++) {
          members.push(await store.users.create({ email: `${unique(`p${i}`)}@example.test`, passwordHash: null, orgId: org.id }, T0 + i));
        }
        await store.users.create({ email: `${unique('outsider')}@example.test`, passwordHash: null }, T0 + 1);

        const first = await store.users.list({ limit: 2, offset: 0, orgId: org.id });
        assert.deepEqual(first.map((u) => u.id), [members[0]!.id, members[1]!.id]);
        const second = await store.users.list({ limit: 2, offset: 2, orgId: org.id });
        assert.deepEqual(second.map((u) => u.id), [members[2]!.id]);
        assert.deepEqual(await store.users.list({ limit: 2, offset: 3, orgId: org.id }), []);
        assert.ok(second.every((u) => u.orgId === org.id));

        assert.equal((await store.users.list({ limit: 1, offset: 0 })).length, 1);
        const all = await store.users.list({ limit: 1000, offset: 0 });
        assert.ok(all.length >= 4);
        assert.ok(all.some((u) => u.orgId === null), 'without orgId every user is listed');
      });

      it('count returns a JS number that tracks inserts', async () => {
        // Threat: PostgreSQL returns count(*) as a string, so '10' + 1 would become '101' in callers.
        const { store } = context;
        const before = await store.users.count();
        assert.equal(typeof before, 'number');
        for (let i = 0; i < 3; i++) await store.users.create({ email: `${unique('c')}@example.test`, passwordHash: null }, T0);
        const afterCount = await store.users.count();
        assert.equal(typeof afterCount, 'number');
        assert.equal(afterCount, before + 3);
        assert.equal(afterCount + 1, before + 4, 'arithmetic on the result is numeric, not string concatenation');
      });

      it('setPasswordHash replaces the hash and bumps updatedAt only', async () => {
        const { store } = context;
        const user = await store.users.create({ email: `${unique('d')}@example.test`, passwordHash: 'old' }, T0);
        await store.users.setPasswordHash(user.id, 'new-hash', T0 + 5_000);
        const found = await store.users.findById(user.id);
        assert.equal(found?.passwordHash, 'new-hash');
        assert.equal(found?.updatedAt, T0 + 5_000);
        assert.equal(found?.createdAt, T0);
        assert.equal(typeof found?.updatedAt, 'number');
      });
    });

    describe('OrgStore', () => {
      it('create returns the org and findById/findByName return it', async () => {
        const { store } = context;
        const name = unique('Acme Corp');
        const org = await store.orgs.create(name, T0);
        assert.deepEqual(org, { id: org.id, name, createdAt: T0, sessionIdleMs: null, sessionAbsoluteMs: null });
        assert.deepEqual(await store.orgs.findById(org.id), org);
        assert.deepEqual(await store.orgs.findByName(name), org);
        assert.deepEqual(await store.orgs.findByName(name.toUpperCase()), org, 'lookup by name is case-insensitive');
        assert.equal(await store.orgs.findByName(unique('nope')), null);
        assert.equal(await store.orgs.findById(unique('nope')), null);
      });

      it('names are unique case-insensitively: a duplicate in another case throws conflict', async () => {
        const { store } = context;
        const name = unique('Globex');
        await store.orgs.create(name, T0);
        await assert.rejects(store.orgs.create(name.toUpperCase(), T0), isConflict);
        await assert.rejects(store.orgs.create(name, T0), isConflict);
      });

      it('list returns every org', async () => {
        const { store } = context;
        const a = await store.orgs.create(unique('List A'), T0);
        const b = await store.orgs.create(unique('List B'), T0);
        const listed = await store.orgs.list();
        assert.deepEqual(listed.find((o) => o.id === a.id), a);
        assert.deepEqual(listed.find((o) => o.id === b.id), b);
        assert.equal(new Set(listed.map((o) => o.id)).size, listed.length);
        assert.ok(listed.every((o) => typeof o.createdAt === 'number'));
      });
    });
  });
}
