// Codes and refresh tokens are single-use under concurrency too: the provider reads, then consumes, so the adapter's
// conditional consume is what decides between two requests racing with the same value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appBackends } from '../helpers/protection.js';
import { authorizeWithLogin, exchangeCode, seedPublicClient, tokenRequest, userinfo } from '../helpers/oidc-flow.js';

const RACERS = 6;

/** The winner's access token no longer reads userinfo, and its refresh token no longer refreshes. */
async function assertRevoked(app: Parameters<typeof seedPublicClient>[0], tokens: Record<string, string>, clientId: string): Promise<void> {
  assert.ok(tokens.access_token && tokens.refresh_token, 'the winner got tokens');
  assert.equal((await userinfo(app.server, tokens.access_token)).status, 401, "the winner's access token is revoked");
  const refresh = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
  assert.equal(refresh.status, 400, "the winner's refresh token is revoked");
  assert.equal(refresh.body.error, 'invalid_grant');
}

for (const backend of appBackends()) {
  describe(`single-use codes and refresh tokens under concurrency (${backend.name})`, () => {
    test('authorization codes and refresh tokens are single-use even when replayed concurrently', async () => {
      // Threat: a stolen code or refresh token raced against its owner, so that the reuse check passes for both.
      const { app, dispose } = await backend.create();
      try {
        const fixture = await seedPublicClient(app);
        const result = await authorizeWithLogin(app, fixture);
        const exchanges = await Promise.all(Array.from({ length: RACERS }, () => exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId })));
        assert.equal(exchanges.filter((r) => r.status === 200).length, 1, `one exchange wins: ${exchanges.map((r) => r.status).join(',')}`);
        assert.deepEqual(exchanges.filter((r) => r.status !== 200).map((r) => r.body.error), Array(RACERS - 1).fill('invalid_grant'));
        // The reuse revoked the grant: what the winner got, even if it was saved after the revocation, is dead too.
        await assertRevoked(app, exchanges.find((r) => r.status === 200)!.body, fixture.clientId);

        const again = await authorizeWithLogin(app, fixture);
        const tokens = await exchangeCode(app.server, { code: again.code, verifier: again.verifier, clientId: fixture.clientId });
        assert.equal(tokens.status, 200);
        const refreshes = await Promise.all(
          Array.from({ length: RACERS }, () => tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token!, client_id: fixture.clientId })),
        );
        assert.equal(refreshes.filter((r) => r.status === 200).length, 1, `one refresh wins: ${refreshes.map((r) => r.status).join(',')}`);
        assert.deepEqual(refreshes.filter((r) => r.status !== 200).map((r) => r.body.error), Array(RACERS - 1).fill('invalid_grant'));
        await assertRevoked(app, refreshes.find((r) => r.status === 200)!.body, fixture.clientId);
      } finally {
        await dispose();
      }
    });
  });
}
