// Front-Channel Logout 1.0: ending a session loads each app's frontchannel_logout_uri (with iss and sid) in a hidden
// iframe, and the page's CSP lets exactly those origins be framed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/app.js';
import { appBackends, type AppBackend } from '../helpers/protection.js';
import { authorizeWithLogin, Browser, hiddenCsrf, REDIRECT_URI } from '../helpers/oidc-flow.js';
import { createUser } from '../../src/admin/users.js';
import { allowFrames } from '../../src/oidc/front-channel.js';

const FRONT = 'https://app.example.com/frontchannel-logout';
const ISSUER = 'http://localhost:3000/oidc';

for (const backend of appBackends().filter((b: AppBackend) => b.name !== 'postgres+redis')) {
  describe(`front-channel logout (${backend.name})`, () => {
    let app: TestApp;
    let dispose: () => Promise<void> = async () => undefined;
    const email = `front-${backend.name}@example.com`;
    const password = 'correct horse battery staple';

    before(async () => {
      const created = await backend.create();
      app = created.app;
      dispose = created.dispose;
      await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password });
      for (const [clientId, sessionRequired] of [['front-sid', true], ['front-plain', false]] as const) {
        await app.store.clients.upsert({
          clientId,
          metadata: {
            redirect_uris: [REDIRECT_URI],
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            response_types: ['code'],
            frontchannel_logout_uri: `${FRONT}?app=${clientId}`,
            frontchannel_logout_session_required: sessionRequired,
          },
          firstParty: true,
          createdAt: app.clock.now(),
        });
      }
    });
    after(async () => dispose());

    test('signing out on the account page frames every app of the session, with iss and sid when the app asked', async () => {
      const browser = new Browser(app.server);
      await authorizeWithLogin(app, { clientId: 'front-sid', email, password }, { browser });
      // The second app signs in silently through the same session (SSO): the code comes straight back.
      const sso = await browser.get(`/oidc/auth?client_id=front-plain&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
      assert.equal(sso.statusCode, 303);
      assert.match(String(sso.headers.location), /^https:\/\/app\.example\.com\/callback\?code=/);
      const account = await browser.get('/account');
      assert.equal(account.statusCode, 200);
      const out = await browser.postForm('/logout', { csrf: hiddenCsrf(account.body) });
      assert.equal(out.statusCode, 200);
      const frames = [...out.body.matchAll(/<iframe class="logout-frame" src="([^"]+)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, '&')));
      assert.equal(frames.length, 2, out.body);
      const withSid = frames.find((u) => u.searchParams.get('app') === 'front-sid');
      const plain = frames.find((u) => u.searchParams.get('app') === 'front-plain');
      assert.equal(withSid?.searchParams.get('iss'), ISSUER);
      assert.match(withSid?.searchParams.get('sid') ?? '', /^[\w-]{10,}$/);
      assert.equal(plain?.searchParams.has('sid'), false, 'no sid for an app that did not ask for it');
      const csp = String(out.headers['content-security-policy']);
      assert.match(csp, /frame-src[^;]*https:\/\/app\.example\.com/, csp);
      assert.match(csp, /frame-ancestors 'none'/, 'the rest of the policy stays');
      assert.equal((await browser.get('/account')).statusCode, 303, 'signed out');
    });

    test('a session without front-channel apps gets a plain signed-out page and the usual CSP', async () => {
      const browser = new Browser(app.server);
      const login = await browser.get('/login');
      const signedIn = await browser.postForm('/login', { csrf: hiddenCsrf(login.body), email, password });
      assert.equal(signedIn.statusCode, 303);
      const account = await browser.get('/account');
      const out = await browser.postForm('/logout', { csrf: hiddenCsrf(account.body) });
      assert.equal(out.statusCode, 200);
      assert.doesNotMatch(out.body, /<iframe/);
      assert.doesNotMatch(String(out.headers['content-security-policy']), /app\.example\.com/);
    });

    test('client registration refuses a malformed frontchannel_logout_uri', async () => {
      await app.store.clients.upsert({
        clientId: 'front-bad',
        metadata: { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', frontchannel_logout_uri: 'javascript:alert(1)' },
        firstParty: true,
        createdAt: app.clock.now(),
      });
      const browser = new Browser(app.server);
      const auth = await browser.get(`/oidc/auth?client_id=front-bad&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
      assert.equal(auth.statusCode, 400, 'an invalid client is not usable');
      assert.match(auth.body, /role="alert"/, 'a readable error page, not a crash');
    });
  });
}

describe('allowFrames', () => {
  test('extends frame-src, or adds it', () => {
    assert.equal(allowFrames("default-src 'self';frame-src 'self'", ['https://a.example/x?y=1', 'https://a.example/z']), "default-src 'self';frame-src 'self' https://a.example");
    assert.equal(allowFrames("default-src 'self'", ['http://b.example:8080/']), "default-src 'self';frame-src http://b.example:8080");
    assert.equal(allowFrames("default-src 'self'", []), "default-src 'self'");
  });
});
