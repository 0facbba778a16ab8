// Attacks on the administration surface found in review, each pinned by a test that tries it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeUrl, authorizeWithLogin, Browser, exchangeCode, pkcePair, REDIRECT_URI, seedPublicClient } from '../helpers/oidc-flow.js';
import { createOrg, createUser } from '../../src/admin/users.js';
import { addClient } from '../../src/admin/clients.js';
import { ADMIN_SCOPES, consolePrincipal, type Principal } from '../../src/admin/principal.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import type { User } from '../../src/domain/types.js';

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isPortcullisError(error), String(error));
    assert.equal(error.code, code);
    if (message) assert.match(error.publicMessage, message);
    return true;
  });
}

describe('administration: privilege and input attacks', () => {
  let app: TestApp;
  let operator: User;
  let orgAdmin: Principal;
  let operatorPrincipal: Principal;
  let member: User;

  before(async () => {
    app = await createTestApp();
    const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
    const org = await createOrg(deps, 'Acme');
    // As the setup page does: the first admin is an admin of the organization and the operator.
    operator = await createUser(deps, { email: 'op@acme.example', password: 'correct horse battery', orgName: 'Acme', role: 'admin' });
    await app.store.users.setOperator(operator.id, true, app.clock.now());
    operator = (await app.store.users.findById(operator.id))!;
    const second = await createUser(deps, { email: 'admin2@acme.example', password: 'correct horse battery', orgName: 'Acme', role: 'admin' });
    member = await createUser(deps, { email: 'member@acme.example', password: 'correct horse battery', orgName: 'Acme' });
    orgAdmin = consolePrincipal(second)!;
    operatorPrincipal = consolePrincipal(operator)!;
    assert.equal(orgAdmin.kind, 'org_admin');
    assert.equal(orgAdmin.orgId, org.id);
  });
  after(async () => app?.dispose());

  test('an organization admin cannot change, disable, delete or reset the operator of their own organization', async () => {
    const message = /Only operators/;
    await rejects(app.admin.updateUser(orgAdmin, operator.id, { email: 'attacker@evil.example' }), 'forbidden', message);
    await rejects(app.admin.disableUser(orgAdmin, operator.id), 'forbidden', message);
    await rejects(app.admin.deleteUser(orgAdmin, operator.id), 'forbidden', message);
    await rejects(app.admin.resetTwoFactor(orgAdmin, operator.id), 'forbidden', message);
    await rejects(app.admin.revokeSessions(orgAdmin, operator.id, null), 'forbidden', message);
    const still = await app.store.users.findById(operator.id);
    assert.equal(still?.email, 'op@acme.example');
    assert.equal(still?.disabled, false);
    // Members of the organization stay manageable, and the operator can manage anyone.
    assert.equal((await app.admin.updateUser(orgAdmin, member.id, { name: 'Member' })).name, 'Member');
    assert.equal((await app.admin.updateUser(operatorPrincipal, member.id, { name: 'M' })).name, 'M');
  });

  test('an empty update is refused instead of echoing the user back', async () => {
    await rejects(app.admin.updateUser(orgAdmin, member.id, {}), 'invalid_input', /Nothing to change/);
  });

  test('runtime settings refuse durations that would disable protection or break pages', async () => {
    for (const patch of [{ throttle: { refillEvery: 0 } }, { bruteForce: { blockDuration: -5 } }, { bruteForce: { blockDuration: '100000000d' } }, { bruteForce: { blockDuration: 1e20 } }]) {
      await rejects(app.admin.updateSettings(operatorPrincipal, patch), 'invalid_input', /out of range|not a duration/);
    }
    for (const patch of [{ constructor: { x: 1 } }, { toString: { a: 1 } }, { hasOwnProperty: {} }]) {
      await rejects(app.admin.updateSettings(operatorPrincipal, patch), 'invalid_input', /cannot be changed at runtime/);
    }
    assert.equal(app.settings.overlay(), null, 'nothing was stored');
    assert.equal(app.settings.current().throttle.refillEvery, app.config.throttle.refillEvery);
  });

  test('the session status never grants CORS to the "null" origin of a native app', async () => {
    await addClient(app.store, app.clock, { clientId: 'native-app', redirectUris: ['com.example.app:/callback'], public: true, firstParty: false });
    const preflight = await app.server.inject({ method: 'OPTIONS', url: '/session/status', headers: { origin: 'null', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });

  test('a login never yields management-API scopes: an app asking for them gets invalid_scope', async () => {
    const fixture = await seedPublicClient(app, { email: 'scopes@example.com' });
    const browser = new Browser(app.server);
    const { challenge } = pkcePair();
    for (const scope of ADMIN_SCOPES) {
      const response = await browser.get(authorizeUrl({ client_id: fixture.clientId, response_type: 'code', scope: `openid ${scope}`, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' }));
      assert.equal(response.statusCode, 303);
      const to = new URL(String(response.headers.location));
      assert.equal(to.searchParams.get('error'), 'invalid_scope', `${scope}: ${to.href}`);
      assert.equal(to.searchParams.get('code'), null);
    }
    // The sign-in scopes still work.
    const code = await authorizeWithLogin(app, fixture, { browser, scope: 'openid email profile' });
    const tokens = await exchangeCode(app.server, { code: code.code, verifier: code.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  });
});
