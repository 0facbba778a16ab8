// Key rotation on one node is picked up by another node on the same database without a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeWithLogin, exchangeCode, seedPublicClient, type Fixture } from '../helpers/oidc-flow.js';
import { generateSigningKey } from '../../src/oidc/signing-keys.js';

const kidOf = (jwt: string): string => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

describe('signing-key rotation across nodes', () => {
  let dataDir: string;
  let nodeA: TestApp;
  let nodeB: TestApp;
  let fixture: Fixture;

  before(async () => {
    // Two nodes sharing one SQLite file stand in for two processes sharing a database.
    dataDir = mkdtempSync(join(tmpdir(), 'pc-keys-'));
    nodeA = await createTestApp({ dataDir });
    nodeB = await createTestApp({ dataDir });
    fixture = await seedPublicClient(nodeA);
  });
  after(async () => {
    await nodeA?.dispose();
    await nodeB?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const jwksKids = async (app: TestApp) => ((await app.server.inject({ method: 'GET', url: '/oidc/jwks' })).json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  test('a key added on node A is published and used for signing by node B after its reload, and old tokens still verify', async () => {
    const before = await jwksKids(nodeB);
    const oldToken = await exchangeCode(nodeB.server, { ...(await authorizeWithLogin(nodeB, fixture)), clientId: fixture.clientId });
    assert.equal(oldToken.status, 200);
    const oldKid = kidOf(oldToken.body.id_token as string);
    assert.ok(before.includes(oldKid));

    // `portcullis keys rotate` on node A (its use-case: a new key in the shared store).
    const fresh = generateSigningKey(nodeA.clock.now() + 1000);
    await nodeA.store.signingKeys.add(fresh);
    assert.equal(await nodeA.keys.refresh(), true);
    assert.equal(await nodeB.keys.refresh(), true, 'node B notices without a restart');
    assert.equal(await nodeB.keys.refresh(), false, 'and only once');

    const after = await jwksKids(nodeB);
    assert.ok(after.includes(fresh.kid), 'the new key is published');
    assert.ok(after.includes(oldKid), 'the old key stays published so earlier tokens verify');
    const newToken = await exchangeCode(nodeB.server, { ...(await authorizeWithLogin(nodeB, fixture)), clientId: fixture.clientId });
    assert.equal(newToken.status, 200);
    assert.equal(kidOf(newToken.body.id_token as string), fresh.kid, 'the newest key signs');
  });
});
