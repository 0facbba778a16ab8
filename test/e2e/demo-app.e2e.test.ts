// End to end over real HTTP: a Portcullis on a loopback port, the example app (examples/demo-app) in process, and a
// cookie-jar client playing the browser across both origins. Sign-in, back-channel logout, a forged logout token,
// the Sign out button (RP-initiated logout) and the SDK's GET /logout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { formAction, hiddenCsrf } from '../helpers/oidc-flow.js';
import { createUser } from '../../src/admin/users.js';
import { EXAMPLE_APP_CLIENT_ID, exampleAppClientMetadata } from '../../src/http/routes/demo.js';
import { startDemoApp, type DemoApp } from '../../examples/demo-app/server.js';

const PASSWORD = 'correct horse battery staple 42';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
}

/**
 * A browser over real HTTP with a cookie jar shared across origins the way browsers share it: cookies belong to a host
 * name, not to a port, so localhost:<portcullis> and localhost:<app> see each other's cookies (path rules apply).
 * Redirects are followed by hand so each hop's cookies are stored.
 */
class HttpBrowser {
  private readonly cookies = new Map<string, Cookie>();

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const defaultPath = url.pathname.lastIndexOf('/') > 0 ? url.pathname.slice(0, url.pathname.lastIndexOf('/')) : '/';
      let path = defaultPath;
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=');
        const k = key.toLowerCase();
        if (k === 'path' && val.startsWith('/')) path = val;
        if (k === 'max-age' && Number(val) <= 0) expired = true;
        if (k === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${url.hostname}|${path}|${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, host: url.hostname, path });
    }
  }

  private header(url: URL): string | undefined {
    const matching = [...this.cookies.values()]
      .filter((c) => c.host === url.hostname)
      .filter((c) => c.path === '/' || url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  has(host: string, name: string): boolean {
    return [...this.cookies.values()].some((c) => c.host === host && c.name === name);
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) demo-app-e2e' };
    const cookie = this.header(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(target, response.headers);
    const location = response.headers.get('location');
    return { url: target.href, status: response.status, headers: response.headers, body: await response.text(), location: location ? new URL(location, target).href : null };
  }

  get(url: string): Promise<Page> {
    return this.request(url);
  }

  postForm(url: string, form: Record<string, string>): Promise<Page> {
    return this.request(url, { form });
  }

  /** Follows redirects (as GETs, like a browser after 302/303) until a page is rendered. */
  async follow(page: Page, maxHops = 10): Promise<Page> {
    let current = page;
    for (let hop = 0; hop < maxHops; hop++) {
      if (current.status < 300 || current.status >= 400) return current;
      assert.ok(current.location, `redirect without Location from ${current.url}`);
      current = await this.get(current.location);
    }
    throw new Error('too many redirects');
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('the example app (examples/demo-app) against a real Portcullis', () => {
  let app: TestApp;
  let portcullisUrl: string;
  let demo: DemoApp;
  const demoLog: string[] = [];

  before(async () => {
    const port = await freePort();
    portcullisUrl = `http://localhost:${port}`;
    app = await createTestApp({ publicUrl: portcullisUrl, port, demo: true });
    await app.server.listen({ port, host: '127.0.0.1' });
    const appPort = await freePort();
    const appUrl = `http://localhost:${appPort}`;
    // Demo mode registered the client for localhost:4000; point it at this test's port.
    const registered = await app.store.clients.find(EXAMPLE_APP_CLIENT_ID);
    assert.ok(registered?.firstParty, 'demo mode registers the example app as a first-party client');
    await app.store.clients.upsert({ clientId: EXAMPLE_APP_CLIENT_ID, metadata: exampleAppClientMetadata(appUrl), firstParty: true, createdAt: app.clock.now() });
    demo = await startDemoApp({ port: appPort, portcullisUrl, appUrl, log: (line) => demoLog.push(line) });
  });

  after(async () => {
    await demo?.close();
    await app?.dispose();
  });

  async function addUser(email: string): Promise<void> {
    await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password: PASSWORD });
  }

  /** From the app's Sign in button to its signed-in home page. */
  async function signIn(browser: HttpBrowser, email: string): Promise<Page> {
    const start = await browser.get(`${demo.url}/login`);
    assert.equal(start.status, 303);
    assert.ok(start.location?.startsWith(`${portcullisUrl}/oidc/auth?`), `login goes to Portcullis: ${start.location}`);
    const authorize = new URL(start.location!);
    assert.equal(authorize.searchParams.get('client_id'), EXAMPLE_APP_CLIENT_ID);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'), 'state and nonce are sent');
    const loginPage = await browser.follow(start);
    assert.equal(loginPage.status, 200, `login page: ${loginPage.body.slice(0, 300)}`);
    assert.match(new URL(loginPage.url).pathname, /^\/interaction\//);
    const posted = await browser.postForm(new URL(formAction(loginPage.body), loginPage.url).href, { csrf: hiddenCsrf(loginPage.body), email, password: PASSWORD });
    assert.equal(posted.status, 303, `login answered ${posted.status}: ${posted.body.slice(0, 300)}`);
    const home = await browser.follow(posted);
    assert.equal(home.url, `${demo.url}/`, `the flow ends on the app's home page (log: ${demoLog.join(' | ')})`);
    assert.equal(home.status, 200);
    return home;
  }

  test('sign-in shows the user; a forged logout token is refused; Portcullis logout reaches the app by back-channel', async () => {
    const email = 'erin@example.test';
    await addUser(email);
    const browser = new HttpBrowser();

    const signedOut = await browser.get(`${demo.url}/`);
    assert.equal(signedOut.status, 200);
    assert.match(signedOut.body, /Sign in with Portcullis/);
    assert.doesNotMatch(signedOut.body, /portcullis-session-timer/, 'no SDK on signed-out pages');
    const csp = signedOut.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`script-src 'self' ${portcullisUrl}(;|$)`));
    assert.match(csp, new RegExp(`connect-src ${portcullisUrl}(;|$)`));

    const home = await signIn(browser, email);
    assert.match(home.body, new RegExp(`<dd id="user-email">${email}</dd>`));
    assert.match(home.body, /You are signed in/);
    assert.ok(home.body.includes(`<script type="module" src="${portcullisUrl}/sdk/session.js"></script>`), 'the SDK module is loaded from Portcullis');
    assert.ok(home.body.includes(`<portcullis-session-timer issuer="${portcullisUrl}" logout-url="/logout" login-url="/login">`), 'the timer element is on the page');
    assert.match(home.body, /session_expires_at/);
    assert.match(home.body, /<code>amr<\/code>/);
    assert.doesNotMatch(home.body, /<script>/, 'no inline script');
    assert.ok(browser.has('localhost', 'portcullis_session'), 'the browser holds a Portcullis session');
    assert.equal(demo.activeSessions(), 1);

    // A logout token signed by someone else's key, even naming Portcullis' key id, is refused and ends nothing.
    const jwks = (await (await fetch(`${portcullisUrl}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> };
    const kid = jwks.keys[0]?.kid;
    assert.ok(kid);
    const sub = /<code id="user-sub">([^<]+)<\/code>/.exec(home.body)?.[1];
    assert.ok(sub);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: `${portcullisUrl}/oidc`,
      aud: EXAMPLE_APP_CLIENT_ID,
      iat: now,
      exp: now + 120,
      jti: randomBytes(8).toString('hex'),
      sub,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    };
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signingInput = `${base64url({ alg: 'RS256', typ: 'logout+jwt', kid })}.${base64url(claims)}`;
    const forged = `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
    const unsigned = `${base64url({ alg: 'none', typ: 'logout+jwt' })}.${base64url(claims)}.`;
    for (const token of [forged, unsigned, 'not-a-jwt']) {
      const refused = await fetch(`${demo.url}/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
      assert.equal(refused.status, 400, `token ${token.slice(0, 40)}… is refused`);
    }
    const missing = await fetch(`${demo.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(missing.status, 400);
    assert.equal(demo.activeSessions(), 1, 'nobody was signed out');
    assert.match((await browser.get(`${demo.url}/`)).body, new RegExp(`<dd id="user-email">${email}</dd>`));

    // Sign out at Portcullis' account page; the sweep tells every app of the ended session.
    const account = await browser.get(`${portcullisUrl}/account`);
    assert.equal(account.status, 200, `account page: ${account.status} ${account.body.slice(0, 200)}`);
    const loggedOut = await browser.postForm(`${portcullisUrl}/logout`, { csrf: hiddenCsrf(account.body) });
    assert.equal(loggedOut.status, 200);
    const swept = await app.runSessionSweep();
    assert.equal(swept.notified, 1, `one back-channel logout delivered (sweep ${JSON.stringify(swept)}; app log: ${demoLog.join(' | ')}; Portcullis log: ${app.logs.slice(-6).join('')})`);
    assert.ok(demoLog.some((line) => /back-channel logout for sid .* ended 1 session/.test(line)), demoLog.join('\n'));
    assert.equal(demo.activeSessions(), 0);

    const afterLogout = await browser.get(`${demo.url}/`);
    assert.match(afterLogout.body, /Sign in with Portcullis/);
    assert.doesNotMatch(afterLogout.body, /user-email/);
    assert.match(afterLogout.body, /back-channel logout/, 'the app says why the user is signed out');
  });

  test('Sign out: CSRF-checked POST, RP-initiated logout at Portcullis, back to the app signed out', async () => {
    const email = 'frank@example.test';
    await addUser(email);
    const browser = new HttpBrowser();
    const before = demo.activeSessions();
    const home = await signIn(browser, email);
    assert.equal(demo.activeSessions(), before + 1);

    const noToken = await browser.postForm(`${demo.url}/logout`, { csrf: 'wrong' });
    assert.equal(noToken.status, 403);
    assert.equal(demo.activeSessions(), before + 1, 'a POST without the CSRF token ends nothing');

    const out = await browser.postForm(`${demo.url}/logout`, { csrf: hiddenCsrf(home.body) });
    assert.equal(out.status, 303);
    const endSession = new URL(out.location!);
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${portcullisUrl}/oidc/session/end`);
    assert.ok(endSession.searchParams.get('id_token_hint'));
    assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${demo.url}/`);
    assert.equal(demo.activeSessions(), before, 'the app session ends at once');

    const confirm = await browser.follow(out);
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /Yes, sign me out/);
    const form = /<form[^>]*action="([^"]+)"[^>]*>[\s\S]*?name="xsrf" value="([^"]+)"/.exec(confirm.body);
    assert.ok(form?.[1] && form[2], `logout confirmation form: ${confirm.body.slice(0, 500)}`);
    const confirmed = await browser.postForm(new URL(form[1], confirm.url).href, { xsrf: form[2], logout: 'yes' });
    const back = await browser.follow(confirmed);
    assert.equal(new URL(back.url).origin, demo.url);
    assert.match(back.body, /You are signed out<\/strong> of this app and of Portcullis/);
    assert.equal((await browser.get(`${portcullisUrl}/account`)).status, 303, 'the Portcullis session is over too');
  });

  test('GET /logout (the SDK at zero) ends only the app session and ignores ?next=', async () => {
    const email = 'grace@example.test';
    await addUser(email);
    const browser = new HttpBrowser();
    const before = demo.activeSessions();
    await signIn(browser, email);

    const out = await browser.get(`${demo.url}/logout?next=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(out.status, 303);
    assert.equal(out.location, `${demo.url}/?notice=ended`);
    const page = await browser.follow(out);
    assert.match(page.body, /Your session ended/);
    assert.match(page.body, /Sign in with Portcullis/);
    assert.equal(demo.activeSessions(), before);
    assert.equal((await browser.get(`${portcullisUrl}/account`)).status, 200, 'the GET did not touch the Portcullis session');
  });
});
