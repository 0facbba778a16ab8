// Nodes starting at the same moment on an empty database agree on one first signing key, on SQLite and PostgreSQL;
// rotation afterwards still adds keys as before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends, TEST_SEAL_KEY } from '../helpers/databases.js';
import { T0 } from '../store/contract-fixtures.js';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import { ensureSigningKeys, generateSigningKey, initialKeyId } from '../../src/oidc/signing-keys.js';
import type { Store } from '../../src/store/store.js';

const NODES = 5;
const SECRET = 'signing-race-secret-signing-race-secret-0123456789';

for (const backend of backends()) {
  describe(`first signing key on ${backend.name}`, () => {
    it(`${NODES} nodes starting at once on an empty database create exactly one key, and all use it`, async () => {
      // Threat: several first keys, each node signing with its own; tokens verify only while every node's key is published.
      const context = await backend.create();
      // One store (own connection pool, own Kysely instance) per simulated node, like separate processes.
      const nodes: Store[] = Array.from({ length: NODES }, () => createSqlStore({ databaseUrl: context.databaseUrl, dataDir: context.dataDir, sealKey: TEST_SEAL_KEY }));
      try {
        assert.deepEqual(await context.store.signingKeys.list(), [], 'the database starts without keys');
        const started = await Promise.all(nodes.map((node, i) => ensureSigningKeys(node.signingKeys, T0 + i, initialKeyId(SECRET, T0))));

        const stored = await context.store.signingKeys.list();
        assert.equal(stored.length, 1, `exactly one key stored, got ${stored.map((k) => k.kid).join(', ')}`);
        assert.equal(stored[0]!.kid, initialKeyId(SECRET, T0));
        for (const keys of started) assert.deepEqual(keys.map((k) => k.kid), [stored[0]!.kid], 'every node starts with that one key');
        assert.deepEqual(started[1]![0]!.privateJwk, stored[0]!.privateJwk, 'and the same key material, not one of its own');

        // Later starts find it and add nothing.
        assert.deepEqual((await ensureSigningKeys(nodes[0]!.signingKeys, T0 + 1_000, initialKeyId(SECRET, T0))).map((k) => k.kid), [stored[0]!.kid]);

        // Rotation (`portcullis keys rotate`) still adds a new, random-kid key that becomes the newest.
        const rotated = generateSigningKey(T0 + 2_000);
        await nodes[2]!.signingKeys.add(rotated);
        const afterRotation = await ensureSigningKeys(nodes[3]!.signingKeys, T0 + 3_000, initialKeyId(SECRET, T0));
        assert.deepEqual(afterRotation.map((k) => k.kid), [rotated.kid, stored[0]!.kid], 'newest first; the first key stays published');
      } finally {
        for (const node of nodes) await node.close();
        await context.dispose();
      }
    });
  });
}

describe('initialKeyId', () => {
  it('is the same for one secret, differs between installations, and does not contain the secret', () => {
    assert.equal(initialKeyId(SECRET, T0), initialKeyId(SECRET, T0));
    assert.notEqual(initialKeyId(SECRET, T0), initialKeyId(`${SECRET}x`, T0));
    assert.match(initialKeyId(SECRET, T0), /^init-[A-Za-z0-9_-]{16}$/);
    assert.ok(!initialKeyId(SECRET, T0).includes(SECRET.slice(0, 8)));
    // A key made in another hour (say, after the table was emptied) gets another kid, so no cached JWKS entry matches it.
    assert.equal(initialKeyId(SECRET, T0 - (T0 % 3_600_000)), initialKeyId(SECRET, T0 - (T0 % 3_600_000) + 3_599_999));
    assert.notEqual(initialKeyId(SECRET, T0), initialKeyId(SECRET, T0 + 3_600_000));
  });
});
