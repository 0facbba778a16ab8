// Contract suite for the administration queries: operators, user search and deletion, event queries and histograms.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PortcullisError } from '../../src/domain/errors.js';
import type { EventCode, NewSecurityEvent, SecurityEvent } from '../../src/events/event-codes.js';
import type { PasskeyRecord, Store } from '../../src/store/store.js';
import { backends } from '../helpers/databases.js';
import { T0, newLink, newSession, unique, type StoreContext } from './contract-fixtures.js';

const MINUTE = 60_000;
const CURSOR_MESSAGE = 'That page cursor is not valid; start from the first page.';

function isInvalidInput(error: unknown): boolean {
  return error instanceof PortcullisError && error.code === 'invalid_input';
}

function isInvalidCursor(error: unknown): boolean {
  return isInvalidInput(error) && (error as PortcullisError).publicMessage === CURSOR_MESSAGE;
}

function passkey(userId: string): PasskeyRecord {
  return {
    id: unique('pk'),
    userId,
    credentialId: unique('cred'),
    publicKey: 'cose-key',
    counter: 0,
    transports: ['internal'],
    backupEligible: false,
    backedUp: false,
    deviceType: 'singleDevice',
    aaguid: '00000000-0000-0000-0000-000000000000',
    name: 'Laptop',
    createdAt: T0,
    lastUsedAt: null,
  };
}

/** Appends `count` events at one timestamp. */
async function appendMany(store: Store, count: number, at: number, event: NewSecurityEvent): Promise<SecurityEvent[]> {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await store.events.append({ ...event, details: { i } }, at));
  return out;
}

/** Follows `next` until the end, returning the pages. */
async function allPages(store: Store, filter: Omit<Parameters<Store['events']['query']>[0], 'before'>): Promise<SecurityEvent[][]> {
  const pages: SecurityEvent[][] = [];
  let before: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const page = await store.events.query({ ...filter, before });
    pages.push(page.events);
    if (page.next === null) return pages;
    assert.equal(typeof page.next, 'string');
    before = page.next;
  }
  throw new Error('paging did not end');
}

const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);

for (const backend of backends()) {
  describe(backend.name, () => {
    describe('UserStore (administration)', () => {
      let context: StoreContext;
      before(async () => {
        context = await backend.create();
      });
      after(async () => {
        await context.dispose();
      });

      it('users start as non-operators; setOperator and setDisabled round-trip and bump updatedAt only', async () => {
        const { store } = context;
        const user = await store.users.create({ email: `${unique('op')}@example.test`, passwordHash: 'h' }, T0);
        const bystander = await store.users.create({ email: `${unique('by')}@example.test`, passwordHash: 'h' }, T0);
        assert.equal(user.operator, false);
        assert.equal((await store.users.findById(user.id))?.operator, false);

        await store.users.setOperator(user.id, true, T0 + 1_000);
        let found = await store.users.findById(user.id);
        assert.equal(found?.operator, true);
        assert.equal(found?.disabled, false);
        assert.equal(found?.updatedAt, T0 + 1_000);
        assert.equal((await store.users.findByEmail(user.email))?.operator, true);

        await store.users.setDisabled(user.id, true, T0 + 2_000);
        found = await store.users.findById(user.id);
        assert.deepEqual(found, { ...user, operator: true, disabled: true, updatedAt: T0 + 2_000 });

        await store.users.setOperator(user.id, false, T0 + 3_000);
        await store.users.setDisabled(user.id, false, T0 + 4_000);
        assert.deepEqual(await store.users.findById(user.id), { ...user, updatedAt: T0 + 4_000 });
        assert.deepEqual(await store.users.findById(bystander.id), bystander, 'other users are untouched');

        // Unknown ids are a no-op.
        await store.users.setOperator(unique('missing'), true, T0);
        await store.users.setDisabled(unique('missing'), true, T0);
      });

      it('search matches an email fragment or a name fragment, case-insensitively, newest first', async () => {
        const { store } = context;
        const tag = unique('srch');
        const byEmail = await store.users.create({ email: `${tag}.ann@Example.test`, name: 'Ann', passwordHash: null }, T0 + 1);
        const byName = await store.users.create({ email: `${unique('x')}@example.test`, name: `Bo ${tag.toUpperCase()} Smith`, passwordHash: null }, T0 + 2);
        const noName = await store.users.create({ email: `${unique('y')}@example.test`, name: null, passwordHash: null }, T0 + 3);

        const found = await store.users.search({ query: tag, limit: 10, offset: 0 });
        assert.deepEqual(found, { users: [byName, byEmail], total: 2 });
        assert.deepEqual(await store.users.search({ query: `  ${tag.toUpperCase()}.ANN@EXAMPLE `, limit: 10, offset: 0 }), { users: [byEmail], total: 1 });
        assert.deepEqual(await store.users.search({ query: `bo ${tag} sMITH`, limit: 10, offset: 0 }), { users: [byName], total: 1 });
        assert.deepEqual(await store.users.search({ query: unique('nobody'), limit: 10, offset: 0 }), { users: [], total: 0 });

        // Empty or missing query: everyone (a null name matches nothing but does not exclude the user then).
        const everyone = await store.users.search({ limit: 1000, offset: 0 });
        assert.equal(everyone.total, await store.users.count());
        assert.equal(typeof everyone.total, 'number');
        assert.ok(everyone.users.some((u) => u.id === noName.id));
        assert.equal((await store.users.search({ query: '   ', limit: 1000, offset: 0 })).total, everyone.total);
        for (let i = 1; i < everyone.users.length; i++) {
          const [newer, older] = [everyone.users[i - 1]!, everyone.users[i]!];
          assert.ok(newer.createdAt > older.createdAt || (newer.createdAt === older.createdAt && newer.id > older.id), 'newest first, then id');
        }
      });

      it('search treats % and _ in the query literally', async () => {
        // Threat: an unescaped wildcard turns a search for "a_b" or "%" into a match on everyone.
        const { store } = context;
        const tag = unique('wild');
        const percent = await store.users.create({ email: `${unique('p')}@example.test`, name: `${tag} 100% sure`, passwordHash: null }, T0);
        const underscore = await store.users.create({ email: `${tag}_x@example.test`, name: null, passwordHash: null }, T0);
        const lookalike = await store.users.create({ email: `${tag}yx@example.test`, name: `${tag} 100x sure`, passwordHash: null }, T0);
        const bang = await store.users.create({ email: `${unique('b')}@example.test`, name: `${tag} wow!_`, passwordHash: null }, T0);

        assert.deepEqual(ids((await store.users.search({ query: `${tag}_`, limit: 10, offset: 0 })).users), [underscore.id]);
        assert.deepEqual(ids((await store.users.search({ query: `${tag} 100%`, limit: 10, offset: 0 })).users), [percent.id]);
        assert.deepEqual(ids((await store.users.search({ query: '%', limit: 1000, offset: 0 })).users), [percent.id]);
        assert.deepEqual(ids((await store.users.search({ query: '!_', limit: 1000, offset: 0 })).users), [bang.id]);
        assert.ok((await store.users.search({ query: `${tag}yx`, limit: 10, offset: 0 })).users.some((u) => u.id === lookalike.id));
      });

      it('search with orgId keeps that organization only, with or without a query', async () => {
        const { store } = context;
        const tag = unique('orgsrch');
        const acme = await store.orgs.create(unique('Acme'), T0);
        const globex = await store.orgs.create(unique('Globex'), T0);
        const a1 = await store.users.create({ email: `${tag}-a1@example.test`, passwordHash: null, orgId: acme.id }, T0 + 1);
        const a2 = await store.users.create({ email: `${unique('a2')}@example.test`, name: `${tag} two`, passwordHash: null, orgId: acme.id, role: 'admin' }, T0 + 2);
        const g1 = await store.users.create({ email: `${tag}-g1@example.test`, passwordHash: null, orgId: globex.id }, T0 + 3);
        await store.users.create({ email: `${tag}-none@example.test`, passwordHash: null }, T0 + 4);

        assert.deepEqual(await store.users.search({ query: tag, orgId: acme.id, limit: 10, offset: 0 }), { users: [a2, a1], total: 2 });
        assert.deepEqual(await store.users.search({ query: tag, orgId: globex.id, limit: 10, offset: 0 }), { users: [g1], total: 1 });
        assert.deepEqual(await store.users.search({ orgId: acme.id, limit: 10, offset: 0 }), { users: [a2, a1], total: 2 });
        // a1's own address (a bare 'a1' can occur in the random hex of the tag, and so in g1's address).
        assert.deepEqual(await store.users.search({ query: `${tag}-a1`, orgId: globex.id, limit: 10, offset: 0 }), { users: [], total: 0 });
        assert.deepEqual(await store.users.search({ orgId: unique('no-org'), limit: 10, offset: 0 }), { users: [], total: 0 });
        assert.equal((await store.users.search({ query: tag, limit: 10, offset: 0 })).total, 4);
      });

      it('search pages with limit/offset; total counts every match on every page', async () => {
        const { store } = context;
        const tag = unique('page');
        const created = [];
        for (let i = 0; i < 5; i++) created.push(await store.users.create({ email: `${tag}-${i}@example.test`, passwordHash: null }, T0 + i));
        // Three more with one creation time: ordered by id, descending.
        const tied = [];
        for (let i = 0; i < 3; i++) tied.push(await store.users.create({ email: `${tag}-t${i}@example.test`, passwordHash: null }, T0 + 100));
        const expected = [...tied.sort((x, y) => (x.id < y.id ? 1 : -1)), ...created.reverse()].map((u) => u.id);

        const seen: string[] = [];
        for (let offset = 0; offset < 8; offset += 3) {
          const page = await store.users.search({ query: tag, limit: 3, offset });
          assert.equal(page.total, 8);
          assert.equal(page.users.length, Math.min(3, 8 - offset));
          seen.push(...ids(page.users));
        }
        assert.deepEqual(seen, expected);
        assert.deepEqual(await store.users.search({ query: tag, limit: 3, offset: 8 }), { users: [], total: 8 });
      });

      it('delete removes the user and everything of theirs, keeps events, and leaves other users alone', async () => {
        const { store } = context;
        const seed = async (userId: string) => {
          const session = newSession(userId);
          await store.sessions.create(session);
          const link = newLink({ userId, purpose: 'reset_password' });
          await store.links.create(link);
          const key = passkey(userId);
          assert.equal(await store.passkeys.add(key, 10), 'added');
          await store.mfa.enableTotp(userId, 'JBSWY3DPEHPK3PXP', T0);
          await store.mfa.replaceRecoveryCodes(userId, [unique('rc'), unique('rc')], T0);
          const device = await store.devices.remember({ userId, deviceHash: unique('dev'), browser: 'Firefox', os: 'Linux', lastIp: '203.0.113.9', lastLocation: null }, T0);
          await store.loginHistory.record({ userId, at: T0, ip: '203.0.113.9', countryCode: 'NL', latitude: null, longitude: null, accuracyKm: null, label: null });
          const grant = unique('grant');
          await store.oidc.upsert('Grant', grant, { accountId: userId, jti: grant }, null);
          const providerSession = unique('psess');
          await store.oidc.upsert('Session', providerSession, { accountId: userId, jti: providerSession }, null);
          const event = await store.events.append({ code: 'login_success', outcome: 'success', userId, ip: '203.0.113.9' }, T0);
          return { session, link, key, device, grant, providerSession, event };
        };
        const victim = await store.users.create({ email: `${unique('del')}@example.test`, passwordHash: 'h' }, T0);
        const keeper = await store.users.create({ email: `${unique('keep')}@example.test`, passwordHash: 'h' }, T0);
        const gone = await seed(victim.id);
        const kept = await seed(keeper.id);

        assert.equal(await store.users.delete(victim.id), true);

        assert.equal(await store.users.findById(victim.id), null);
        assert.equal(await store.users.findByEmail(victim.email), null);
        assert.equal(await store.sessions.findById(gone.session.id), null);
        assert.deepEqual(await store.sessions.listActiveForUser(victim.id), []);
        assert.equal(await store.links.findById(gone.link.id), null);
        assert.equal(await store.passkeys.findByCredentialId(gone.key.credentialId), null);
        assert.equal(await store.passkeys.countForUser(victim.id), 0);
        assert.equal(await store.mfa.getTotp(victim.id), null);
        assert.equal(await store.mfa.countRecoveryCodes(victim.id), 0);
        assert.deepEqual(await store.devices.listForUser(victim.id, 0), []);
        assert.equal(await store.loginHistory.last(victim.id), null);
        assert.equal(await store.oidc.find('Grant', gone.grant, T0), null);
        assert.equal(await store.oidc.find('Session', gone.providerSession, T0), null);
        assert.deepEqual((await store.events.query({ userId: victim.id, limit: 10 })).events, [gone.event], 'events stay as history');

        // The other user keeps everything.
        assert.ok(await store.users.findById(keeper.id));
        assert.ok(await store.sessions.findById(kept.session.id));
        assert.ok(await store.links.findById(kept.link.id));
        assert.ok(await store.passkeys.findByCredentialId(kept.key.credentialId));
        assert.ok(await store.mfa.getTotp(keeper.id));
        assert.equal(await store.mfa.countRecoveryCodes(keeper.id), 2);
        assert.equal((await store.devices.listForUser(keeper.id, 0)).length, 1);
        assert.ok(await store.loginHistory.last(keeper.id));
        assert.ok(await store.oidc.find('Grant', kept.grant, T0));
        assert.ok(await store.oidc.find('Session', kept.providerSession, T0));

        // Gone for good: a second delete and an unknown id report false; the email is free again.
        assert.equal(await store.users.delete(victim.id), false);
        assert.equal(await store.users.delete(unique('missing')), false);
        const again = await store.users.create({ email: victim.email, passwordHash: null }, T0 + 1);
        assert.notEqual(again.id, victim.id);
        assert.equal(await store.passkeys.countForUser(again.id), 0);
      });

      it('delete of a user with nothing attached works, and an organization member leaves the org', async () => {
        const { store } = context;
        const org = await store.orgs.create(unique('Initech'), T0);
        const user = await store.users.create({ email: `${unique('bare')}@example.test`, passwordHash: null, orgId: org.id, role: 'admin' }, T0);
        assert.equal(await store.users.delete(user.id), true);
        assert.deepEqual(await store.users.search({ orgId: org.id, limit: 10, offset: 0 }), { users: [], total: 0 });
        assert.ok(await store.orgs.findById(org.id), 'the organization stays');
      });
    });

    describe('EventStore.query filters', () => {
      let context: StoreContext;
      let events: SecurityEvent[];
      let orgX: string;
      let orgY: string;
      let a: string;
      const B = T0 + 1_000_000;
      before(async () => {
        context = await backend.create();
        const { store } = context;
        orgX = (await store.orgs.create('X', T0)).id;
        orgY = (await store.orgs.create('Y', T0)).id;
        a = (await store.users.create({ email: 'a@example.test', passwordHash: null, orgId: orgX }, T0)).id;
        const b = (await store.users.create({ email: 'b@example.test', passwordHash: null, orgId: orgX }, T0)).id;
        const c = (await store.users.create({ email: 'c@example.test', passwordHash: null, orgId: orgY }, T0)).id;
        const d = (await store.users.create({ email: 'd@example.test', passwordHash: null }, T0)).id;
        const spec: [number, EventCode, string | null, string | null][] = [
          [0, 'login_success', a, '198.51.100.1'],
          [10, 'login_failed_password', a, '198.51.100.2'],
          [20, 'login_success', b, '198.51.100.1'],
          [30, 'logout', c, '198.51.100.1'],
          [40, 'login_failed_password', d, '198.51.100.3'],
          [50, 'login_failed_unknown_user', null, '198.51.100.1'],
          [60, 'login_success', a, null],
        ];
        events = [];
        for (const [offset, code, userId, ip] of spec) {
          events.push(await store.events.append({ code, outcome: 'info', userId, ip, identifier: 'who', details: { offset } }, B + offset));
        }
      });
      after(async () => {
        await context.dispose();
      });
      /** Expected result, newest first, from indexes into `events` (e1..e7 → 0..6). */
      const pick = (...indexes: number[]) => indexes.sort((x, y) => y - x).map((i) => events[i]!);
      const run = async (filter: Omit<Parameters<Store['events']['query']>[0], 'limit'>) => {
        const result = await context.store.events.query({ limit: 100, ...filter });
        assert.equal(result.next, null);
        return result.events;
      };

      it('without filters returns every event exactly as appended, newest first', async () => {
        assert.deepEqual(await run({}), pick(0, 1, 2, 3, 4, 5, 6));
        assert.deepEqual(await run({ codes: [] }), pick(0, 1, 2, 3, 4, 5, 6), 'an empty code list does not filter');
      });

      it('filters by userId', async () => {
        assert.deepEqual(await run({ userId: a }), pick(0, 1, 6));
        assert.deepEqual(await run({ userId: unique('nobody') }), []);
      });

      it('filters by orgId: events of the organization members only', async () => {
        assert.deepEqual(await run({ orgId: orgX }), pick(0, 1, 2, 6));
        assert.deepEqual(await run({ orgId: orgY }), pick(3));
        assert.deepEqual(await run({ orgId: unique('org') }), []);
      });

      it('filters by ip', async () => {
        assert.deepEqual(await run({ ip: '198.51.100.1' }), pick(0, 2, 3, 5));
        assert.deepEqual(await run({ ip: '198.51.100.9' }), []);
      });

      it('filters by codes', async () => {
        assert.deepEqual(await run({ codes: ['login_success'] }), pick(0, 2, 6));
        assert.deepEqual(await run({ codes: ['login_success', 'logout'] }), pick(0, 2, 3, 6));
        assert.deepEqual(await run({ codes: ['captcha_failed'] }), []);
      });

      it('since is inclusive and until exclusive', async () => {
        assert.deepEqual(await run({ since: B + 20 }), pick(2, 3, 4, 5, 6));
        assert.deepEqual(await run({ until: B + 20 }), pick(0, 1));
        assert.deepEqual(await run({ since: B + 10, until: B + 40 }), pick(1, 2, 3));
        assert.deepEqual(await run({ since: B + 60 }), pick(6));
        assert.deepEqual(await run({ until: B }), []);
        assert.deepEqual(await run({ since: B + 20, until: B + 20 }), []);
      });

      it('filters combine with AND', async () => {
        assert.deepEqual(await run({ orgId: orgX, codes: ['login_success'], ip: '198.51.100.1' }), pick(0, 2));
        assert.deepEqual(await run({ userId: a, since: B + 10, until: B + 60 }), pick(1));
        assert.deepEqual(await run({ userId: a, ip: '198.51.100.3' }), []);
        assert.deepEqual(await run({ orgId: orgY, codes: ['login_success'] }), []);
        assert.deepEqual(await run({ ip: '198.51.100.1', codes: ['login_failed_unknown_user', 'logout'], since: B + 35 }), pick(5));
      });

      it('orgId follows current membership', async () => {
        const { store } = context;
        await store.users.setMembership(a, orgY, 'member', T0 + 1);
        try {
          assert.deepEqual(await run({ orgId: orgY }), pick(0, 1, 3, 6));
          assert.deepEqual(await run({ orgId: orgX }), pick(2));
        } finally {
          await store.users.setMembership(a, orgX, 'member', T0);
        }
      });

      it('limit caps the page and returns a cursor to the rest', async () => {
        const { store } = context;
        const first = await store.events.query({ limit: 3, ip: '198.51.100.1' });
        assert.deepEqual(first.events, pick(2, 3, 5));
        assert.equal(typeof first.next, 'string');
        const second = await store.events.query({ limit: 3, ip: '198.51.100.1', before: first.next });
        assert.deepEqual(second, { events: pick(0), next: null });
      });
    });

    describe('EventStore.query paging', () => {
      let context: StoreContext;
      before(async () => {
        context = await backend.create();
      });
      after(async () => {
        await context.dispose();
      });

      it('pages over 25 events with one timestamp yield every event exactly once, newest first', async () => {
        const { store } = context;
        const T = T0 + 5_000_000;
        const userId = unique('pager');
        const base: NewSecurityEvent = { code: 'login_failed_password', outcome: 'failure', userId };
        const tied = await appendMany(store, 25, T, base);
        const newer = await appendMany(store, 3, T + 1_000, base);
        const older = await appendMany(store, 5, T - 1_000, base); // appended last, but older
        const expected = [...newer.reverse(), ...tied.reverse(), ...older.reverse()];

        for (const limit of [1, 4, 7, 11, 33, 50]) {
          const pages = await allPages(store, { limit });
          assert.deepEqual(pages.flat(), expected, `limit ${limit}`);
          assert.equal(pages.length, Math.max(1, Math.ceil(expected.length / limit)), `limit ${limit}: no empty trailing page`);
          assert.ok(pages.every((p) => p.length > 0 && p.length <= limit));
        }
        // Cursor paging under a filter.
        const filtered = await allPages(store, { limit: 6, userId, since: T, until: T + 1 });
        assert.deepEqual(filtered.flat(), expected.slice(3, 28));
        assert.deepEqual(filtered.map((p) => p.length), [6, 6, 6, 6, 1]);
      });

      it('events appended while paging (even at the same timestamp) neither repeat nor shift later pages', async () => {
        const { store } = context;
        const T = T0 + 9_000_000;
        const ip = '192.0.2.77';
        const original = (await appendMany(store, 10, T, { code: 'logout', outcome: 'info', ip })).reverse();
        const first = await store.events.query({ ip, limit: 4 });
        assert.deepEqual(first.events, original.slice(0, 4));
        await appendMany(store, 3, T, { code: 'logout', outcome: 'info', ip });
        const seen = [...first.events];
        let before = first.next;
        while (before) {
          const page = await store.events.query({ ip, limit: 4, before });
          seen.push(...page.events);
          before = page.next;
        }
        assert.deepEqual(seen, original);
      });

      it('a malformed cursor is refused with invalid_input', async () => {
        const { store } = context;
        await appendMany(store, 3, T0, { code: 'logout', outcome: 'info' });
        const good = (await store.events.query({ limit: 1 })).next;
        assert.equal(typeof good, 'string');
        const b64 = (text: string) => Buffer.from(text).toString('base64url');
        for (const bad of ['garbage!', 'not a cursor', b64('hello'), b64('1.2.3'), b64('-5.3'), b64('1.x'), b64('1e3.4'), b64('99999999999999999.1'), `${good}=`, `${good}%`, 'x'.repeat(500), b64('{"at":1,"seq":2}')]) {
          await assert.rejects(store.events.query({ limit: 5, before: bad }), isInvalidCursor, `cursor ${JSON.stringify(bad)}`);
        }
        // Null and empty mean the first page.
        assert.equal((await store.events.query({ limit: 1, before: null })).events.length, 1);
        assert.equal((await store.events.query({ limit: 1, before: '' })).events.length, 1);
      });
    });

    describe('EventStore.histogram', () => {
      let context: StoreContext;
      let orgX: string;
      const B = T0 + 50_000_000;
      before(async () => {
        context = await backend.create();
        const { store } = context;
        orgX = (await store.orgs.create('X', T0)).id;
        const orgY = (await store.orgs.create('Y', T0)).id;
        const a = (await store.users.create({ email: 'a@example.test', passwordHash: null, orgId: orgX }, T0)).id;
        const c = (await store.users.create({ email: 'c@example.test', passwordHash: null, orgId: orgY }, T0)).id;
        const spec: [number, EventCode, string | null][] = [
          [0, 'login_success', a], // the first boundary: bucket 0
          [MINUTE - 1, 'login_success', c], // bucket 0
          [MINUTE, 'login_success', a], // the next boundary: bucket 1
          [MINUTE, 'login_failed_password', a], // bucket 1
          [3 * MINUTE, 'login_failed_password', null], // bucket 3
          [-1, 'login_success', a], // before since
          [5 * MINUTE, 'login_success', a], // at until: excluded
          [5 * MINUTE - 1, 'logout', a], // bucket 4
        ];
        for (const [offset, code, userId] of spec) await store.events.append({ code, outcome: 'info', userId }, B + offset);
      });
      after(async () => {
        await context.dispose();
      });
      const sorted = <T extends { bucketStart: number; code: string }>(rows: T[]) =>
        [...rows].sort((x, y) => x.bucketStart - y.bucketStart || x.code.localeCompare(y.code));
      const window = { since: B, until: B + 5 * MINUTE, bucketMs: MINUTE };

      it('counts per code per bucket, buckets starting at since + k * bucketMs, empty buckets omitted', async () => {
        const rows = await context.store.events.histogram({ ...window, codes: ['login_success', 'login_failed_password'] });
        assert.deepEqual(sorted(rows), [
          { code: 'login_success', bucketStart: B, count: 2 },
          { code: 'login_failed_password', bucketStart: B + MINUTE, count: 1 },
          { code: 'login_success', bucketStart: B + MINUTE, count: 1 },
          { code: 'login_failed_password', bucketStart: B + 3 * MINUTE, count: 1 },
        ]);
        assert.ok(rows.every((r) => typeof r.count === 'number' && typeof r.bucketStart === 'number'));
      });

      it('filters by codes', async () => {
        assert.deepEqual(await context.store.events.histogram({ ...window, codes: ['logout'] }), [{ code: 'logout', bucketStart: B + 4 * MINUTE, count: 1 }]);
        assert.deepEqual(await context.store.events.histogram({ ...window, codes: ['captcha_failed'] }), []);
      });

      it('filters by orgId', async () => {
        const rows = await context.store.events.histogram({ ...window, codes: ['login_success', 'login_failed_password'], orgId: orgX });
        assert.deepEqual(sorted(rows), [
          { code: 'login_success', bucketStart: B, count: 1 },
          { code: 'login_failed_password', bucketStart: B + MINUTE, count: 1 },
          { code: 'login_success', bucketStart: B + MINUTE, count: 1 },
        ]);
        assert.deepEqual(await context.store.events.histogram({ ...window, codes: ['login_success'], orgId: unique('org') }), []);
      });

      it('buckets align to since, not to the epoch; a single wide bucket counts everything in range', async () => {
        const shifted = await context.store.events.histogram({ since: B + MINUTE / 2, until: B + 5 * MINUTE, bucketMs: MINUTE, codes: ['login_success', 'login_failed_password', 'logout'] });
        assert.deepEqual(sorted(shifted), [
          { code: 'login_failed_password', bucketStart: B + MINUTE / 2, count: 1 },
          { code: 'login_success', bucketStart: B + MINUTE / 2, count: 2 },
          { code: 'login_failed_password', bucketStart: B + MINUTE / 2 + 2 * MINUTE, count: 1 },
          { code: 'logout', bucketStart: B + MINUTE / 2 + 4 * MINUTE, count: 1 },
        ]);
        const wide = await context.store.events.histogram({ since: B - 10 * MINUTE, until: B + 10 * MINUTE, bucketMs: 20 * MINUTE, codes: ['login_success'] });
        assert.deepEqual(wide, [{ code: 'login_success', bucketStart: B - 10 * MINUTE, count: 5 }]);
      });

      it('an empty window gives no rows; a bucket size that is not a positive integer is refused', async () => {
        assert.deepEqual(await context.store.events.histogram({ since: B + 10 * MINUTE, until: B + 20 * MINUTE, bucketMs: MINUTE, codes: ['login_success'] }), []);
        assert.deepEqual(await context.store.events.histogram({ since: B, until: B, bucketMs: MINUTE, codes: ['login_success'] }), []);
        await assert.rejects(context.store.events.histogram({ ...window, bucketMs: 0, codes: ['login_success'] }), isInvalidInput);
        await assert.rejects(context.store.events.histogram({ ...window, bucketMs: 1.5, codes: ['login_success'] }), isInvalidInput);
      });
    });
  });
}
