// The management API (/api/v1) end to end on every backend, with real client-credentials tokens from POST /oidc/token:
// every route of the route table with a valid token (and its effect), without a token and with the wrong scope;
// organization confinement; the OpenAPI document against the routes Fastify actually has; event paging; runtime
// settings; a real brute-force block lifted through the API; the `client add-api` command; and no 500 on bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { addApiClient } from '../../src/admin/clients.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { ADMIN_SCOPES, type AdminScope } from '../../src/admin/principal.js';
import type { Org, User } from '../../src/domain/types.js';
import { API_PREFIX, API_ROUTES, type ApiRoute } from '../../src/http/api/api-table.js';
import { openApiPath } from '../../src/http/api/openapi.js';
import type { TestApp } from '../helpers/app.js';
import { browserFrom, signIn } from '../helpers/account-browser.js';
import { appBackends, cliFor, loginClient, randomIpv4, uniqueEmail, type BackendApp } from '../helpers/protection.js';
import { passkeyRow } from '../passkeys/fixtures.js';

// Not a real-world password, so a breached-password check can never refuse it.
const PASSWORD = 'portcullis api passphrase 5e2b';
/** A well-formed id that belongs to nothing. */
const PLACEHOLDER = 'AAAAAAAAAAAAAAAAAAAAAA';
const OPS = 'api-ops';

type Json = Record<string, any>;

interface Call {
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** A raw payload (with its own content type in `headers`). */
  payload?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

const byId = new Map(API_ROUTES.map((r) => [r.operationId, r]));
function routeOf(operationId: string): ApiRoute {
  const route = byId.get(operationId);
  assert.ok(route, `no route ${operationId} in the table`);
  return route;
}

function urlOf(route: ApiRoute, call: Call): string {
  const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => call.params?.[name] ?? PLACEHOLDER);
  return `${API_PREFIX}${path}${call.query ? `?${call.query}` : ''}`;
}

/** Fastify's registered routes under `prefix`, as "METHOD /path/{param}", parsed from printRoutes' tree. */
function registeredRoutes(tree: string, prefix: string): string[] {
  const full: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    // "└── /" is the root (the "──" at 1); each level indents by four characters.
    const depth = (at - 1) / 4;
    if (!Number.isInteger(depth)) throw new Error(`unexpected printRoutes line: ${line}`);
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 3));
    if (!match) continue;
    full[depth] = (depth > 0 ? (full[depth - 1] ?? '') : '') + (match[1] ?? '');
    full.length = depth + 1;
    const path = full[depth] ?? '';
    if (!match[2] || !path.startsWith(prefix)) continue;
    for (const method of match[2].split(',').map((m) => m.trim())) out.push(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return out.sort();
}

/** Every `$ref` in the document points at something that exists. */
function unresolvedRefs(doc: Json): string[] {
  const missing: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string') {
          const target = v.replace(/^#\//, '').split('/').reduce<any>((node, part) => node?.[part], doc);
          if (target === undefined) missing.push(v);
        } else walk(v);
      }
    }
  };
  walk(doc);
  return missing;
}

for (const backend of appBackends()) {
  describe(`management API on ${backend.name}`, () => {
    let env: BackendApp;
    let app: TestApp;
    let orgA: Org;
    let orgB: Org;
    const tokens = { ops: '', readOnly: '', orgA: '', without: {} as Record<AdminScope, string> };

    async function tokenFor(clientId: string, secret: string, scopes: readonly string[]): Promise<string> {
      const response = await app.server.inject({
        method: 'POST',
        url: '/oidc/token',
        headers: {
          host: 'localhost:3000',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
        },
        payload: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }).toString(),
      });
      assert.equal(response.statusCode, 200, `token for ${clientId}: ${response.body}`);
      const body = response.json() as { access_token: string; token_type: string; scope: string };
      assert.equal(body.token_type, 'Bearer');
      assert.deepEqual(body.scope.split(' ').sort(), [...scopes].sort());
      return body.access_token;
    }

    async function apiClient(clientId: string, scopes: readonly AdminScope[], orgName: string | null = null): Promise<string> {
      const { secret } = await addApiClient(app.store, app.clock, { clientId, scopes, orgName });
      return tokenFor(clientId, secret, scopes);
    }

    function send(operationId: string, call: Call = {}): Promise<LightMyRequestResponse> {
      const route = routeOf(operationId);
      const token = call.token === undefined ? tokens.ops : call.token;
      const headers: Record<string, string> = { host: 'localhost:3000', ...(token ? { authorization: `Bearer ${token}` } : {}) };
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      return app.server.inject({
        method: route.method,
        url: urlOf(route, call),
        headers: { ...headers, ...(call.headers ?? {}) },
        ...(call.payload !== undefined ? { payload: call.payload } : call.body !== undefined ? { payload: JSON.stringify(call.body) } : {}),
      });
    }

    /** Calls a route expecting its documented success status; the body must match the documented schema exactly. */
    async function ok(operationId: string, call: Call = {}): Promise<Json> {
      const route = routeOf(operationId);
      const response = await send(operationId, call);
      assert.equal(response.statusCode, route.response.status, `${operationId}: ${response.statusCode} ${response.body.slice(0, 400)}`);
      assert.equal(response.headers['cache-control'], 'no-store');
      if (route.response.status === 204) {
        assert.equal(response.body, '');
        return {};
      }
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = response.json() as Json;
      const schema = route.response.schema;
      assert.ok(schema, `${operationId} documents its response`);
      // zod drops keys it does not know: equality means the response has exactly the documented shape.
      assert.deepEqual(schema.parse(body), body, `${operationId}: the response matches its documented schema`);
      return body;
    }

    async function fails(operationId: string, call: Call, status: number, code: string): Promise<Json> {
      const response = await send(operationId, call);
      assert.equal(response.statusCode, status, `${operationId}: ${response.statusCode} ${response.body.slice(0, 400)}`);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as Json;
      assert.equal(body.error, code, `${operationId}: ${response.body}`);
      assert.equal(typeof body.message, 'string');
      return body;
    }

    async function newUser(org: Org | null = null, role: 'admin' | 'member' = 'member'): Promise<User> {
      return createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email: uniqueEmail('api'), password: PASSWORD, orgName: org?.name ?? null, role, emailVerified: true });
    }

    /** Signs the user in through /login from its own IP, leaving one active session; returns that IP. */
    async function sessionOf(user: User): Promise<string> {
      const ip = randomIpv4();
      env.track(user.email, ip);
      await signIn(browserFrom(app, { ip }), user.email, PASSWORD);
      return ip;
    }

    async function latestEvent(code: string, userId?: string): Promise<Json> {
      const events = (await app.store.events.list({ limit: 500, code: code as never })).filter((e) => userId === undefined || e.userId === userId);
      assert.ok(events[0], `a ${code} event`);
      return events[0] as unknown as Json;
    }

    /** The real effect of the settings API: threshold 3, three wrong passwords, the block listed, then lifted. */
    async function bruteForceBlockLiftedThroughApi(): Promise<void> {
      await ok('updateSettings', { body: { bruteForce: { threshold: 3 } } });
      const user = await newUser();
      const ip = randomIpv4();
      env.track(user.email, ip);
      const attacker = loginClient(app, ip);
      assert.deepEqual(await attacker.fail(user.email, 3), [401, 401, 401]);
      assert.equal((await attacker.login(user.email, PASSWORD)).statusCode, 429, 'blocked after three failures (the runtime threshold)');

      const listed = await ok('listBlocks');
      const block = listed.blocks.find((b: Json) => b.identifier === user.email && b.ipKey === ip);
      assert.ok(block, `the block is listed: ${JSON.stringify(listed.blocks)}`);
      assert.ok(block.failures >= 3);
      assert.ok(Date.parse(block.blockedUntil) > Date.now());

      assert.deepEqual(await ok('unblock', { body: { identifier: user.email, ip } }), { cleared: 1 });
      assert.ok(!(await ok('listBlocks')).blocks.some((b: Json) => b.identifier === user.email), 'the block is gone');
      assert.equal((await loginClient(app, ip).login(user.email, PASSWORD)).statusCode, 303, 'the right password works again');
      const lifted = await latestEvent('login_unblocked', user.id);
      assert.equal(lifted.details.actor, `client:${OPS}`);
    }

    /**
     * One case per route of the table: a valid call and its effect. The table drives the loop below, so a new route
     * without a case here fails the suite.
     */
    const CASES: Record<string, () => Promise<void>> = {
      async listUsers() {
        const user = await newUser(null);
        await newUser(orgB);
        const found = await ok('listUsers', { query: `query=${encodeURIComponent(user.email.toUpperCase())}` });
        assert.deepEqual(found.users.map((u: Json) => u.id), [user.id]);
        assert.equal(found.total, 1);
        const first = await ok('listUsers', { query: 'limit=1&offset=0' });
        const second = await ok('listUsers', { query: 'limit=1&offset=1' });
        assert.equal(first.users.length, 1);
        assert.notEqual(first.users[0].id, second.users[0].id, 'offset pages');
        const clamped = await ok('listUsers', { query: 'limit=100000&offset=-5' });
        assert.equal(clamped.limit, 200, 'the limit is clamped');
        assert.equal(clamped.offset, 0);
      },
      async createUser() {
        const email = uniqueEmail('created');
        const created = await ok('createUser', { body: { email, name: 'Created Person', password: PASSWORD } });
        const stored = await app.store.users.findByEmail(email);
        assert.ok(stored && stored.id === created.id && stored.passwordHash !== null);
        assert.equal(created.name, 'Created Person');
        assert.equal(created.createdAt, new Date(stored.createdAt).toISOString());
        assert.equal((await latestEvent('user_updated', created.id)).details.actor, `client:${OPS}`);
        await fails('createUser', { body: { email } }, 409, 'conflict');
        const admin = await ok('createUser', { body: { email: uniqueEmail('org-admin'), role: 'admin', orgId: orgA.id } });
        assert.equal(admin.orgId, orgA.id);
        assert.equal(admin.role, 'admin');
        await fails('createUser', { body: { email: uniqueEmail('x'), role: 'admin' } }, 400, 'invalid_input');
        await fails('createUser', { body: { email: uniqueEmail('x'), orgId: PLACEHOLDER } }, 400, 'invalid_input');
      },
      async getUser() {
        const user = await newUser(orgA);
        const got = await ok('getUser', { params: { id: user.id } });
        assert.equal(got.email, user.email);
        assert.equal(got.orgId, orgA.id);
        assert.equal(got.updatedAt, new Date(user.updatedAt).toISOString());
      },
      async updateUser() {
        const user = await newUser(orgA);
        const email = uniqueEmail('renamed');
        const updated = await ok('updateUser', { params: { id: user.id }, body: { name: 'New Name', email, role: 'admin' } });
        assert.equal(updated.name, 'New Name');
        assert.equal(updated.email, email);
        assert.equal(updated.role, 'admin');
        const stored = await app.store.users.findById(user.id);
        assert.equal(stored?.email, email);
        assert.deepEqual((await latestEvent('user_updated', user.id)).details.changed, ['name', 'email', 'role']);
        const other = await newUser();
        await fails('updateUser', { params: { id: user.id }, body: { email: other.email } }, 409, 'conflict');
        await fails('updateUser', { params: { id: other.id }, body: { role: 'admin' } }, 400, 'invalid_input');
        assert.equal((await ok('updateUser', { params: { id: other.id }, body: { disabled: true } })).disabled, true);
      },
      async disableUser() {
        const user = await newUser();
        await sessionOf(user);
        assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 1);
        assert.equal((await ok('disableUser', { params: { id: user.id } })).disabled, true);
        assert.equal((await app.store.users.findById(user.id))?.disabled, true);
        assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 0, 'disabling ends the sessions');
        assert.equal((await latestEvent('user_disabled', user.id)).details.actor, `client:${OPS}`);
        const ip = randomIpv4();
        env.track(ip);
        assert.equal((await loginClient(app, ip).login(user.email, PASSWORD)).statusCode, 401, 'a disabled user cannot sign in');
      },
      async enableUser() {
        const user = await newUser();
        await app.store.users.setDisabled(user.id, true, app.clock.now());
        assert.equal((await ok('enableUser', { params: { id: user.id } })).disabled, false);
        assert.equal((await app.store.users.findById(user.id))?.disabled, false);
        assert.equal((await latestEvent('user_enabled', user.id)).details.actor, `client:${OPS}`);
      },
      async deleteUser() {
        const user = await newUser();
        await sessionOf(user);
        await ok('deleteUser', { params: { id: user.id } });
        assert.equal(await app.store.users.findById(user.id), null);
        assert.equal((await latestEvent('user_deleted', user.id)).details.actor, `client:${OPS}`);
        await fails('deleteUser', { params: { id: user.id } }, 404, 'not_found');
      },
      listBlocks: bruteForceBlockLiftedThroughApi,
      unblock: bruteForceBlockLiftedThroughApi,
      async releaseIp() {
        await ok('updateSettings', { body: { throttle: { failedLoginsPerDay: 2 } } });
        try {
          const ip = randomIpv4();
          env.track(ip);
          const sprayer = loginClient(app, ip);
          for (let i = 0; i < 3; i++) await sprayer.login(uniqueEmail('spray'), 'wrong password');
          assert.ok((await ok('listBlocks')).throttled.some((t: Json) => t.ipKey === ip), 'the IP is throttled');
          assert.deepEqual(await ok('releaseIp', { body: { ip } }), { released: true });
          assert.ok(!(await ok('listBlocks')).throttled.some((t: Json) => t.ipKey === ip), 'released');
          assert.equal((await latestEvent('ip_released')).details.actor, `client:${OPS}`);
        } finally {
          await ok('updateSettings', { body: { throttle: { failedLoginsPerDay: null } } });
        }
      },
      async resetTwoFactor() {
        const user = await newUser();
        await app.store.mfa.enableTotp(user.id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', app.clock.now());
        await app.store.mfa.replaceRecoveryCodes(user.id, ['hash-one', 'hash-two'], app.clock.now());
        assert.deepEqual(await ok('resetTwoFactor', { params: { id: user.id } }), { removed: true });
        assert.equal((await app.store.mfa.getTotp(user.id))?.secret ?? null, null);
        assert.equal(await app.store.mfa.countRecoveryCodes(user.id), 0);
        assert.equal((await latestEvent('mfa_reset', user.id)).details.adminUserId, `client:${OPS}`);
        assert.deepEqual(await ok('resetTwoFactor', { params: { id: user.id } }), { removed: false });
      },
      async listPasskeys() {
        const user = await newUser();
        const row = passkeyRow(user.id);
        await app.store.passkeys.add(row, 20);
        const { passkeys } = await ok('listPasskeys', { params: { id: user.id } });
        assert.deepEqual(passkeys, [{ credentialId: row.credentialId, name: row.name, createdAt: new Date(row.createdAt).toISOString(), lastUsedAt: null, synced: true }]);
      },
      async deletePasskey() {
        const user = await newUser();
        const row = passkeyRow(user.id);
        await app.store.passkeys.add(row, 20);
        await ok('deletePasskey', { params: { id: user.id, credentialId: row.credentialId } });
        assert.equal((await app.store.passkeys.listForUser(user.id)).length, 0);
        assert.equal((await latestEvent('admin_passkey_removed', user.id)).details.credentialId, row.credentialId);
        await fails('deletePasskey', { params: { id: user.id, credentialId: row.credentialId } }, 404, 'not_found');
      },
      async listSessions() {
        const user = await newUser();
        const ip = await sessionOf(user);
        const { sessions } = await ok('listSessions', { params: { id: user.id } });
        assert.equal(sessions.length, 1);
        assert.equal(sessions[0].ip, ip);
        assert.ok(Date.parse(sessions[0].expiresAt) > Date.now());
      },
      async revokeSession() {
        const user = await newUser();
        await sessionOf(user);
        await sessionOf(user);
        const [first, second] = await app.store.sessions.listActiveForUser(user.id);
        assert.ok(first && second);
        await ok('revokeSession', { params: { id: user.id, sessionId: first.id } });
        assert.deepEqual((await app.store.sessions.listActiveForUser(user.id)).map((s) => s.id), [second.id]);
        await fails('revokeSession', { params: { id: user.id, sessionId: PLACEHOLDER } }, 404, 'not_found');
        const other = await newUser();
        await fails('revokeSession', { params: { id: other.id, sessionId: second.id } }, 404, 'not_found');
        assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 1, "another user's path cannot end it");
      },
      async revokeSessions() {
        const user = await newUser();
        await sessionOf(user);
        await sessionOf(user);
        assert.deepEqual(await ok('revokeSessions', { params: { id: user.id } }), { revoked: 2 });
        assert.equal((await app.store.sessions.listActiveForUser(user.id)).length, 0);
        assert.equal((await latestEvent('admin_sessions_revoked', user.id)).details.count, 2);
      },
      async queryEvents() {
        const ip = randomIpv4();
        const base = Date.now() - 60_000;
        const appended: string[] = [];
        for (let i = 0; i < 7; i++) {
          const code = i % 2 === 0 ? 'login_failed_password' : 'login_success';
          appended.push((await app.store.events.append({ code, outcome: i % 2 === 0 ? 'failure' : 'success', ip, identifier: 'paging@example.test' }, base + i * 1000)).id);
        }
        const seen: Json[] = [];
        let cursor: string | null = null;
        const sizes: number[] = [];
        do {
          const page: Json = await ok('queryEvents', { query: `ip=${ip}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
          sizes.push(page.events.length);
          seen.push(...page.events);
          cursor = page.next;
        } while (cursor && sizes.length < 10);
        assert.deepEqual(sizes, [3, 3, 1], 'three pages, the last one says there is no next');
        assert.deepEqual(seen.map((e) => e.id), [...appended].reverse(), 'newest first, each event once');
        assert.equal(seen[0]?.at, new Date(base + 6000).toISOString());
        const success = await ok('queryEvents', { query: `ip=${ip}&code=login_success` });
        assert.equal(success.events.length, 3);
        assert.equal((await ok('queryEvents', { query: `ip=${ip}&code=login_success,login_failed_password` })).events.length, 7);
        assert.equal((await ok('queryEvents', { query: `ip=${ip}&code=login_success&code=login_failed_password` })).events.length, 7);
        const since = new Date(base + 2000).toISOString();
        assert.equal((await ok('queryEvents', { query: `ip=${ip}&since=${since}&until=${base + 4000}` })).events.length, 2, 'since inclusive (ISO), until exclusive (epoch ms)');
        await fails('queryEvents', { query: 'cursor=not-a-cursor' }, 400, 'invalid_input');
        const unknown = await fails('queryEvents', { query: 'code=no_such_code' }, 400, 'invalid_input');
        assert.match(unknown.message, /code/);
        await fails('queryEvents', { query: 'since=yesterday' }, 400, 'invalid_input');
      },
      async getSettings() {
        const { effective, overlay } = await ok('getSettings');
        assert.equal(typeof effective.bruteForce.threshold, 'number');
        assert.equal(typeof effective.throttle.failedLoginsPerDay, 'number');
        assert.ok(overlay === null || typeof overlay.revision === 'number');
      },
      async updateSettings() {
        const invalid = await fails('updateSettings', { body: { bruteForce: { threshold: 0 } } }, 400, 'invalid_input');
        assert.match(invalid.message, /bruteForce\.threshold/, 'the message names the field');
        const unknownSection = await fails('updateSettings', { body: { nope: { x: 1 } } }, 400, 'invalid_input');
        assert.match(unknownSection.message, /nope/);
        await fails('updateSettings', { body: { bruteForce: { colour: 'red' } } }, 400, 'invalid_input');
        const record = await ok('updateSettings', { body: { bruteForce: { threshold: 7 } } });
        assert.equal(record.updatedBy, `client:${OPS}`);
        assert.equal(record.values.bruteForce.threshold, 7);
        const reread = await ok('getSettings');
        assert.equal(reread.effective.bruteForce.threshold, 7, 'visible on a second read');
        assert.equal(reread.overlay.revision, record.revision);
        const changed = await latestEvent('settings_changed');
        assert.equal(changed.details.actor, `client:${OPS}`);
        assert.equal(changed.details.revision, record.revision);
        const viaApi = await ok('queryEvents', { query: 'code=settings_changed&limit=1' });
        assert.equal(viaApi.events[0].details.actor, `client:${OPS}`);
      },
      async settingsHistory() {
        const record = await ok('updateSettings', { body: { bot: { sensitivity: 'high' } } });
        const { history } = await ok('settingsHistory', { query: 'limit=5' });
        assert.equal(history[0].revision, record.revision);
        assert.equal(history[0].updatedBy, `client:${OPS}`);
        assert.ok(history.length >= 1 && history.length <= 5);
        await ok('updateSettings', { body: { bot: { sensitivity: null } } });
      },
      async openapi() {
        const doc = await ok('openapi', { token: null });
        assert.equal(doc.openapi, '3.1.0');
      },
    };

    before(async () => {
      env = await backend.create();
      app = env.app;
      const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
      orgA = await createOrg(deps, `Org A ${backend.name}`);
      orgB = await createOrg(deps, `Org B ${backend.name}`);
      tokens.ops = await apiClient(OPS, ADMIN_SCOPES);
      tokens.readOnly = await apiClient('api-read-only', ['users:read', 'security:read']);
      tokens.orgA = await apiClient('api-org-a', ADMIN_SCOPES, orgA.name);
      for (const scope of ADMIN_SCOPES) {
        tokens.without[scope] = await apiClient(`api-without-${scope.replace(':', '-')}`, ADMIN_SCOPES.filter((s) => s !== scope));
      }
    });
    after(async () => {
      await env?.dispose();
    });

    test('every route in the table has a test case', () => {
      assert.deepEqual(Object.keys(CASES).sort(), API_ROUTES.map((r) => r.operationId).sort());
    });

    for (const route of API_ROUTES) {
      test(`${route.method} ${API_PREFIX}${route.path} with a valid token does its job`, async () => {
        const run = CASES[route.operationId];
        assert.ok(run, `no test case for ${route.operationId}`);
        await run();
      });
    }

    test('every authenticated route answers 401 without a valid token, with WWW-Authenticate: Bearer', async () => {
      const garbage = ['', 'Bearer', 'Bearer not-a-real-token-but-long-enough', `Basic ${Buffer.from(`${OPS}:x`).toString('base64')}`, `Bearer ${tokens.ops}x`];
      for (const route of API_ROUTES.filter((r) => r.scope !== null)) {
        for (const authorization of garbage) {
          const response = await send(route.operationId, { token: null, headers: { ...(authorization ? { authorization } : {}), accept: 'text/html' }, ...(route.body ? { body: {} } : {}) });
          const what = `${route.method} ${route.path} with "${authorization.slice(0, 20)}"`;
          assert.equal(response.statusCode, 401, `${what}: ${response.body}`);
          assert.equal(response.json().error, 'unauthorized', what);
          assert.match(String(response.headers['www-authenticate']), /^Bearer\b/, what);
          assert.equal(response.headers['cache-control'], 'no-store', what);
        }
      }
    });

    test('every authenticated route answers 403 to a token without its scope', async () => {
      for (const route of API_ROUTES) {
        if (route.scope === null) continue;
        const body = await fails(route.operationId, { token: tokens.without[route.scope], ...(route.body ? { body: {} } : {}) }, 403, 'forbidden');
        assert.match(body.message, new RegExp(route.scope));
      }
      // The read-only client can read but not write.
      await ok('listUsers', { token: tokens.readOnly });
      await ok('listBlocks', { token: tokens.readOnly });
      await fails('createUser', { token: tokens.readOnly, body: { email: uniqueEmail('ro') } }, 403, 'forbidden');
      await fails('updateSettings', { token: tokens.readOnly, body: { bruteForce: { threshold: 5 } } }, 403, 'forbidden');
    });

    test('an organization client sees and touches only its organization', async () => {
      const mine = await newUser(orgA);
      const theirs = await newUser(orgB);
      await sessionOf(theirs);
      const [theirSession] = await app.store.sessions.listActiveForUser(theirs.id);
      assert.ok(theirSession);
      const passkey = passkeyRow(theirs.id);
      await app.store.passkeys.add(passkey, 20);
      await app.store.mfa.enableTotp(theirs.id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', app.clock.now());
      const as = { token: tokens.orgA };

      assert.equal((await ok('getUser', { ...as, params: { id: mine.id } })).id, mine.id);
      const id = { id: theirs.id };
      const attempts: [string, Call][] = [
        ['getUser', { params: id }],
        ['updateUser', { params: id, body: { name: 'taken over' } }],
        ['updateUser', { params: id, body: { disabled: true } }],
        ['disableUser', { params: id }],
        ['enableUser', { params: id }],
        ['deleteUser', { params: id }],
        ['resetTwoFactor', { params: id }],
        ['listPasskeys', { params: id }],
        ['deletePasskey', { params: { id: theirs.id, credentialId: passkey.credentialId } }],
        ['listSessions', { params: id }],
        ['revokeSessions', { params: id }],
        ['revokeSession', { params: { id: theirs.id, sessionId: theirSession.id } }],
      ];
      for (const [operationId, call] of attempts) await fails(operationId, { ...as, ...call }, 404, 'not_found');
      const untouched = await app.store.users.findById(theirs.id);
      assert.ok(untouched && !untouched.disabled && untouched.name === null, "B's user is unchanged");
      assert.equal((await app.store.sessions.listActiveForUser(theirs.id)).length, 1);
      assert.equal((await app.store.passkeys.listForUser(theirs.id)).length, 1);
      assert.ok((await app.store.mfa.getTotp(theirs.id))?.secret);

      const listed = await ok('listUsers', { ...as, query: 'limit=200' });
      assert.ok(listed.users.some((u: Json) => u.id === mine.id));
      assert.ok(listed.users.every((u: Json) => u.orgId === orgA.id), "only A's users");
      assert.equal((await ok('listUsers', { ...as, query: `query=${encodeURIComponent(theirs.email)}` })).total, 0);

      const events = await ok('queryEvents', { ...as, query: 'limit=200' });
      assert.ok(events.events.some((e: Json) => e.userId === mine.id), "A's events are there");
      assert.ok(!events.events.some((e: Json) => e.userId === theirs.id), "B's events are not");
      assert.equal((await ok('queryEvents', { ...as, query: `userId=${theirs.id}` })).events.length, 0);
      assert.ok((await ok('queryEvents', { query: `userId=${theirs.id}` })).events.length > 0, 'the operator sees them');

      await fails('unblock', { ...as, body: { identifier: theirs.email } }, 404, 'not_found');
      assert.deepEqual((await ok('listBlocks', as)).throttled, [], 'throttled IPs are an operator view');
      for (const operationId of ['getSettings', 'settingsHistory']) await fails(operationId, as, 403, 'forbidden');
      await fails('updateSettings', { ...as, body: { bruteForce: { threshold: 50 } } }, 403, 'forbidden');
      await fails('releaseIp', { ...as, body: { ip: '100.64.0.1' } }, 403, 'forbidden');

      const created = await ok('createUser', { ...as, body: { email: uniqueEmail('org-made'), orgId: orgB.id } });
      assert.equal(created.orgId, orgA.id, 'an organization client creates users in its own organization');
      assert.equal((await latestEvent('user_updated', created.id)).details.actor, 'client:api-org-a');
    });

    test('the OpenAPI document describes exactly the routes Fastify has under /api/v1', async () => {
      const response = await send('openapi', { token: null });
      assert.equal(response.statusCode, 200);
      const doc = response.json() as Json;
      const documented = Object.entries(doc.paths as Record<string, Json>)
        .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      const registered = registeredRoutes(app.server.printRoutes({ commonPrefix: false }), API_PREFIX);
      assert.ok(registered.length > 10, `parsed the route tree: ${registered.join(', ')}`);
      assert.deepEqual(registered, documented, 'every registered route is documented and every documented route is registered');
      for (const entry of documented) {
        const [method, path] = entry.split(' ') as [string, string];
        assert.ok(app.server.hasRoute({ method: method as never, url: path.replace(/\{([^}]+)\}/g, ':$1') }), `${entry} is registered`);
      }

      for (const route of API_ROUTES) {
        const op = doc.paths[openApiPath(API_PREFIX, route.path)]?.[route.method.toLowerCase()] as Json;
        assert.ok(op, `${route.operationId} documented`);
        assert.equal(op.operationId, route.operationId);
        const statuses = Object.keys(op.responses);
        assert.ok(statuses.includes(String(route.response.status)), `${route.operationId} documents its success`);
        if (route.scope) {
          assert.deepEqual(op.security, [{ oauth2: [route.scope] }, { bearer: [] }]);
          assert.ok(statuses.includes('401') && statuses.includes('403'), `${route.operationId} documents 401 and 403`);
        } else {
          assert.deepEqual(op.security, []);
        }
        if (route.params) {
          assert.ok(statuses.includes('404'), `${route.operationId} documents 404`);
          const names = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
          assert.deepEqual(op.parameters.filter((p: Json) => p.in === 'path').map((p: Json) => p.name), names);
        }
        if (route.body || route.query) assert.ok(statuses.includes('400'), `${route.operationId} documents 400`);
        if (route.body) {
          assert.ok(op.requestBody?.content?.['application/json']?.schema, `${route.operationId} documents its body`);
          assert.ok(statuses.includes('415'));
        }
      }

      const flow = doc.components.securitySchemes.oauth2.flows.clientCredentials;
      assert.equal(flow.tokenUrl, `${app.config.issuer}/token`);
      assert.deepEqual(Object.keys(flow.scopes).sort(), [...ADMIN_SCOPES].sort());
      assert.equal(doc.components.securitySchemes.bearer.type, 'http');
      assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
      assert.deepEqual(unresolvedRefs(doc), [], 'every $ref resolves');
      const settingsBody = doc.paths[`${API_PREFIX}/settings`].patch.requestBody.content['application/json'].schema;
      assert.ok(settingsBody.properties.bruteForce.properties.threshold, 'the settings patch documents each runtime key');
    });

    test('input is validated: JSON only, unknown fields, bad ids, clamped limits; never a 500', async () => {
      await fails('createUser', { payload: `email=${uniqueEmail('form')}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type');
      await fails('createUser', { payload: 'hello', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type');
      await fails('createUser', {}, 415, 'unsupported_media_type');
      await fails('createUser', { payload: '{"email":', headers: { 'content-type': 'application/json' } }, 400, 'invalid_input');
      const unknown = await fails('createUser', { body: { email: uniqueEmail('x'), isAdmin: true } }, 400, 'invalid_input');
      assert.match(unknown.message, /isAdmin/);
      const wrongType = await fails('updateUser', { params: { id: (await newUser()).id }, body: { disabled: 'yes' } }, 400, 'invalid_input');
      assert.match(wrongType.message, /disabled/);
      await fails('listUsers', { query: 'sort=email' }, 400, 'invalid_input');
      await fails('listBlocks', { query: 'x=1' }, 400, 'invalid_input');
      await fails('disableUser', { params: { id: (await newUser()).id }, body: { reason: 'x' } }, 400, 'invalid_input');
      await fails('getUser', { params: { id: 'not!an-id' } }, 404, 'not_found');
      await fails('getUser', { params: { id: PLACEHOLDER } }, 404, 'not_found');
      const unknownRoute = await app.server.inject({ method: 'GET', url: `${API_PREFIX}/nothing-here`, headers: { accept: 'text/html', authorization: `Bearer ${tokens.ops}` } });
      assert.equal(unknownRoute.statusCode, 404);
      assert.equal(unknownRoute.json().error, 'not_found', 'JSON even for a browser');

      // Odd input on every route, as the operator: a 4xx or a success, never a 500, always JSON errors.
      const oddIds = ['%00', '..', '%2e%2e', 'a'.repeat(99), '%F0%9F%98%80', "x'--", '%20', 'null'];
      const oddQueries = ['limit=1e400', 'limit=-1', 'limit[]=1', 'offset=NaN', 'limit=1&limit=2', 'query=%00', 'query=%25_%5C', 'ip=%00', 'userId=%27', 'code=', 'since=9999-99-99', 'until=-1', `cursor=${'A'.repeat(64)}`, '%zz=1'];
      const oddBodies = ['[]', '"text"', 'null', '1', '{"email":{"$ne":1}}', '{"identifier":""}', '{"ip":"999.1.1.1"}', '{"name":"\\u0000"}', '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":{"s":{"t":{"u":{"v":{"w":{"x":{"y":{"z":{"aa":{"bb":{"cc":{"dd":{"ee":{"ff":{"gg":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}', '{"bruteForce":{"threshold":"many"}}', '{"risk":{"rules":[{"when":[]}]}}', '{"breach":{"actions":"all"}}', '{"bruteForce":null}', '{"__proto__":{"admin":true}}'];
      const results: string[] = [];
      for (const route of API_ROUTES) {
        const variants: Call[] = [];
        const names = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
        for (const name of names) for (const odd of oddIds) variants.push({ params: { [name]: odd } });
        for (const query of oddQueries) variants.push({ query, ...(route.body ? { body: {} } : {}) });
        for (const payload of oddBodies) variants.push({ payload, headers: { 'content-type': 'application/json' } });
        for (const variant of variants) {
          const response = await send(route.operationId, variant);
          const what = `${route.method} ${urlOf(route, variant)} ${variant.payload ?? ''}`;
          results.push(`${response.statusCode} ${what}`);
          assert.ok(response.statusCode < 500, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
          if (response.statusCode >= 400) assert.equal(typeof response.json().error, 'string', what);
        }
      }
      assert.ok(results.length > 300);
      // Whatever the odd settings bodies did, leave the deployment's values in force.
      await ok('updateSettings', { body: { bruteForce: { threshold: null }, bot: { sensitivity: null }, risk: { rules: null }, breach: { actions: null } } });
    });

    test('portcullis client add-api registers a client whose secret yields a working token', async () => {
      const help = await cliFor(app, ['client', 'add-api', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--scopes/);
      assert.match(help.stdout, /--org/);

      const bad = await cliFor(app, ['client', 'add-api', '--id', 'cli-bad', '--scopes', 'users:read,root']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Unknown: root/);

      const added = await cliFor(app, ['client', 'add-api', '--id', 'cli-reader', '--scopes', 'users:read,security:read', '--org', orgA.name, '--name', 'Reporting']);
      assert.equal(added.code, 0, added.stderr);
      const secret = /Client secret[^\n]*\n\s+(\S+)/.exec(added.stdout)?.[1];
      assert.ok(secret, added.stdout);
      assert.ok(added.stdout.includes(`${app.config.issuer}/token`), 'it shows the token URL');
      assert.match(added.stdout, /curl .*grant_type=client_credentials/);
      assert.match(added.stdout, /openapi\.json/);

      const token = await tokenFor('cli-reader', secret, ['users:read', 'security:read']);
      const listed = await ok('listUsers', { token, query: 'limit=200' });
      assert.ok(listed.users.every((u: Json) => u.orgId === orgA.id), 'the --org client is confined');
      await fails('createUser', { token, body: { email: uniqueEmail('cli') } }, 403, 'forbidden');
    });
  });
}
