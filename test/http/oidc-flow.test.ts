// The complete authorization-code + PKCE flow through the real app: login, tokens, userinfo, refresh rotation, revocation, discovery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authorizeWithLogin, exchangeCode, followUntilExternal, REDIRECT_URI, seedPublicClient, tokenRequest, userinfo, type Fixture } from '../helpers/oidc-flow.js';

const ISSUER = 'http://localhost:3000/oidc';

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  assert.ok(part, 'JWT part present');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function revoke(app: TestApp, token: string, clientId: string, hint?: string) {
  const fields: Record<string, string> = { token, client_id: clientId, ...(hint ? { token_type_hint: hint } : {}) };
  return app.server.inject({
    method: 'POST',
    url: '/oidc/token/revocation',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
}

describe('OIDC authorization-code flow with PKCE', () => {
  let app: TestApp;
  let fixture: Fixture;

  before(async () => {
    app = await createTestApp();
    fixture = await seedPublicClient(app);
  });
  after(async () => {
    await app.dispose();
  });

  test('a first-party public client gets a code, then id/access/refresh tokens, then userinfo', async () => {
    const result = await authorizeWithLogin(app, fixture);
    assert.equal(`${result.redirect.origin}${result.redirect.pathname}`, REDIRECT_URI);
    assert.ok(result.state, 'state is echoed');
    assert.equal(result.redirect.searchParams.get('iss'), ISSUER);
    assert.ok(result.browser.jar.get('portcullis_session'), 'login sets the Portcullis session cookie');

    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'Bearer');
    assert.ok(tokens.body.access_token);
    assert.ok(tokens.body.refresh_token);
    assert.equal(tokens.body.scope, 'openid email');

    const [header, payload] = String(tokens.body.id_token).split('.');
    assert.equal(decodeJwtPart(header).alg, 'RS256');
    const claims = decodeJwtPart(payload);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, fixture.clientId);
    assert.equal(claims.sub, fixture.user.id);

    const info = await userinfo(app.server, tokens.body.access_token!);
    assert.equal(info.status, 200, info.body);
    const body = JSON.parse(info.body) as Record<string, unknown>;
    assert.equal(body.sub, fixture.user.id);
    assert.equal(body.email, fixture.email);
    assert.equal(body.email_verified, true);
  });

  test('a second authorization reuses the Portcullis session (no second password prompt)', async () => {
    const first = await authorizeWithLogin(app, fixture);
    const { browser } = first;
    const again = await browser.get(
      `/oidc/auth?${new URLSearchParams({ client_id: fixture.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's2' })}`,
    );
    const current = await followUntilExternal(browser, again);
    assert.equal(current.statusCode, 303);
    const to = new URL(String(current.headers.location));
    assert.ok(to.searchParams.get('code'), `expected a code without a login form, got ${to.href}`);
    assert.equal(to.searchParams.get('state'), 's2');
  });

  test('the refresh grant rotates the refresh token and rejects the old one', async () => {
    const result = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200);
    const first = tokens.body.refresh_token!;

    const refreshed = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: first, client_id: fixture.clientId });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.ok(refreshed.body.refresh_token);
    assert.notEqual(refreshed.body.refresh_token, first, 'a new refresh token is issued');
    assert.notEqual(refreshed.body.access_token, tokens.body.access_token);
    assert.equal((await userinfo(app.server, refreshed.body.access_token!)).status, 200);

    const replay = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: first, client_id: fixture.clientId });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');

    // Replaying a rotated token signals theft: the whole grant is revoked, so the newer token dies too.
    const successor = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token!, client_id: fixture.clientId });
    assert.equal(successor.status, 400);
    assert.equal(successor.body.error, 'invalid_grant');
  });

  test('the revocation endpoint revokes access and refresh tokens', async () => {
    const result = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    assert.equal(tokens.status, 200);
    assert.equal((await userinfo(app.server, tokens.body.access_token!)).status, 200);

    const revokedAccess = await revoke(app, tokens.body.access_token!, fixture.clientId, 'access_token');
    assert.equal(revokedAccess.statusCode, 200, revokedAccess.body);
    const after = await userinfo(app.server, tokens.body.access_token!);
    assert.equal(after.status, 401);
    assert.match(String(after.response.headers['www-authenticate']), /invalid_token/);

    const revokedRefresh = await revoke(app, tokens.body.refresh_token!, fixture.clientId, 'refresh_token');
    assert.equal(revokedRefresh.statusCode, 200, revokedRefresh.body);
    const refresh = await tokenRequest(app.server, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token!, client_id: fixture.clientId });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  test('discovery and JWKS are served and consistent', async () => {
    const discovery = await app.server.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration', headers: { host: 'localhost:3000' } });
    assert.equal(discovery.statusCode, 200);
    const meta = JSON.parse(discovery.body) as Record<string, unknown>;
    assert.equal(meta.issuer, ISSUER);
    assert.equal(meta.authorization_endpoint, `${ISSUER}/auth`);
    assert.equal(meta.token_endpoint, `${ISSUER}/token`);
    assert.equal(meta.userinfo_endpoint, `${ISSUER}/me`);
    assert.equal(meta.revocation_endpoint, `${ISSUER}/token/revocation`);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok((meta.grant_types_supported as string[]).includes('refresh_token'));
    assert.equal(meta.jwks_uri, `${ISSUER}/jwks`);

    const jwks = await app.server.inject({ method: 'GET', url: '/oidc/jwks' });
    assert.equal(jwks.statusCode, 200);
    const { keys } = JSON.parse(jwks.body) as { keys: Array<Record<string, unknown>> };
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.kty, 'RSA');
      assert.ok(key.kid);
      for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[privatePart], undefined, `JWKS must not publish ${privatePart}`);
    }

    // The id_token verifies against the published key named by its kid.
    const result = await authorizeWithLogin(app, fixture);
    const tokens = await exchangeCode(app.server, { code: result.code, verifier: result.verifier, clientId: fixture.clientId });
    const [h, p, sig] = String(tokens.body.id_token).split('.');
    const header = decodeJwtPart(h);
    const jwk = keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'id_token kid is in the JWKS');
    const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    assert.ok(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(String(sig), 'base64url')), 'id_token signature verifies');
    assert.equal(verify('RSA-SHA256', Buffer.from(`${h}.${p}x`), key, Buffer.from(String(sig), 'base64url')), false);
  });
});
