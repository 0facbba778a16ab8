// Every form added for accounts (sign-up, reset, email links, /login, /logout, the account page) checks CSRF and answers bad input with a clear 4xx.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf } from '../helpers/oidc-flow.js';
import { csrfFrom, Inbox, postAccountForm, seedUser, signIn, tokenOf } from '../helpers/account-browser.js';

const FORM = 'application/x-www-form-urlencoded';
const PASSWORD = 'victim password 123';
const CSRF_MESSAGE = /This form has expired or was not sent from this site/;
const HTML = { accept: 'text/html,application/xhtml+xml' };

type Scope = 'signup' | 'forgot' | 'link' | 'login' | 'account';

interface Form {
  name: string;
  url: string;
  scope: Scope;
  /** Valid values for the form's text fields (besides csrf), with each field's length limit. */
  fields: Record<string, { value: string; max: number; required: boolean }>;
}

describe('account forms and input', () => {
  let app: TestApp;
  let inbox: Inbox;
  let victim: Browser;
  let victimId: string;
  let secondSession: Browser;
  let unverifiedId: string;
  let links: { verify: string; reset: string; change: string };
  let forms: Form[];
  let logMark = 0;

  const victimEmail = 'victim@example.com';

  before(async () => {
    app = await createTestApp({ signupPerIpPerMinute: 10_000 });
    inbox = new Inbox(app);
    victimId = (await seedUser(app, victimEmail, PASSWORD)).id;
    victim = new Browser(app.server);
    await signIn(victim, victimEmail, PASSWORD);
    secondSession = new Browser(app.server);
    await signIn(secondSession, victimEmail, PASSWORD);

    const anonymous = new Browser(app.server);
    const signup = await anonymous.postForm('/signup', { csrf: await csrfFrom(anonymous, '/signup'), email: 'pending@example.com', password: 'pending password 1' });
    assert.equal(signup.statusCode, 200);
    unverifiedId = (await app.store.users.findByEmail('pending@example.com'))!.id;
    const verify = await inbox.newLink('pending@example.com', '/email/verify');
    const forgot = await anonymous.postForm('/password/forgot', { csrf: await csrfFrom(anonymous, '/password/forgot'), email: victimEmail });
    assert.equal(forgot.statusCode, 200);
    const reset = await inbox.newLink(victimEmail, '/password/reset');
    assert.equal((await postAccountForm(victim, '/account/email', { email: 'moved@example.com', current: PASSWORD })).statusCode, 303);
    const change = await inbox.newLink('moved@example.com', '/email/change');
    links = { verify, reset, change };

    const otherSessionId = secondSession.jar.get('portcullis_session')!.split('.')[0]!;
    const text = (value: string, max: number, required = true) => ({ value, max, required });
    forms = [
      { name: 'sign-up', url: '/signup', scope: 'signup', fields: { email: text('someone@example.com', 320), password: text('a new password 1', 1024), name: text('Someone', 100, false) } },
      { name: 'forgot password', url: '/password/forgot', scope: 'forgot', fields: { email: text(victimEmail, 320) } },
      { name: 'reset password link', url: links.reset, scope: 'link', fields: { password: text('hijacked password 1', 1024) } },
      { name: 'verify email link', url: links.verify, scope: 'link', fields: {} },
      { name: 'change email link', url: links.change, scope: 'link', fields: {} },
      { name: 'login', url: '/login', scope: 'login', fields: { email: text(victimEmail, 320), password: text(PASSWORD, 1024) } },
      { name: 'logout', url: '/logout', scope: 'account', fields: {} },
      { name: 'profile', url: '/account/profile', scope: 'account', fields: { name: text('Hacked Name', 100, false) } },
      { name: 'change password', url: '/account/password', scope: 'account', fields: { current: text(PASSWORD, 1024), password: text('hijacked password 1', 1024) } },
      { name: 'change email', url: '/account/email', scope: 'account', fields: { email: text('attacker@example.com', 320), current: text(PASSWORD, 1024) } },
      { name: 'revoke a session', url: `/account/sessions/${otherSessionId}/revoke`, scope: 'account', fields: {} },
      { name: 'log out everywhere', url: '/account/sessions/revoke-all', scope: 'account', fields: {} },
    ];
  });
  after(async () => {
    await app.dispose();
  });
  beforeEach(() => {
    logMark = app.logs.length;
  });
  afterEach(async () => {
    const health = await app.server.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200, 'the server keeps working');
    const unhandled = app.logs.slice(logMark).filter((line) => line.includes('unhandled error') || /"statusCode":5\d\d/.test(line));
    assert.deepEqual(unhandled, [], 'no 5xx was logged');
  });

  /** Everything any of these forms could change. */
  async function state() {
    return {
      users: await app.store.users.count(),
      victim: await app.store.users.findById(victimId),
      unverified: await app.store.users.findById(unverifiedId),
      sessions: (await app.store.sessions.listActiveForUser(victimId)).map((s) => s.id).sort(),
      outbox: (await app.store.outbox.list({ limit: 1000 })).map((m) => m.id).sort(),
      links: await Promise.all(Object.values(links).map((path) => app.store.links.findById(tokenOf(path).id))),
      logins: (await app.store.events.list({ userId: victimId, limit: 500 })).filter((e) => e.code === 'login_success').length,
    };
  }

  /** A valid token for `scope` in `browser`'s own CSRF cookie. */
  async function tokenFor(browser: Browser, scope: Scope): Promise<string> {
    const page: Record<Scope, string> = { signup: '/signup', forgot: '/password/forgot', link: links.verify, login: '/login', account: '/account' };
    const response = await browser.get(page[scope]);
    assert.equal(response.statusCode, 200, `a ${scope} page for ${scope} tokens`);
    return hiddenCsrf(response.body);
  }

  const validFields = (form: Form): Record<string, string> => Object.fromEntries(Object.entries(form.fields).map(([k, f]) => [k, f.value]));

  function post(browser: Browser, url: string, payload: string, contentType: string | null = FORM, headers: Record<string, string> = HTML): Promise<LightMyRequestResponse> {
    return browser.request({ method: 'POST', url, headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) }, payload });
  }

  function expectClear(response: LightMyRequestResponse, status: number | '4xx', label: string, message?: RegExp): void {
    const ok = status === '4xx' ? response.statusCode >= 400 && response.statusCode < 500 : response.statusCode === status;
    assert.ok(ok, `${label}: expected ${status}, got ${response.statusCode} ${response.body.slice(0, 300)}`);
    assert.match(response.body, message ?? /role="alert"|<h1>|"message"/, `${label}: a readable message`);
    assert.doesNotMatch(response.body, /\bat [\w.<>]+ \(.*:\d+:\d+\)/, `${label}: no stack trace`);
  }

  test('CSRF on every new form', async () => {
    // Threat: cross-site request forgery: another site makes a signed-in (or any) browser submit these forms.
    const attacker = new Browser(app.server);
    await seedUser(app, 'attacker@example.org', 'attacker password 1');
    await signIn(attacker, 'attacker@example.org', 'attacker password 1');
    for (const form of forms) {
      const before = await state();
      const otherScope: Scope = form.scope === 'account' ? 'login' : 'account';
      const attempts: Array<[string, Record<string, string>]> = [
        ['missing token', validFields(form)],
        ['empty token', { csrf: '', ...validFields(form) }],
        ['made-up token', { csrf: 'A'.repeat(43), ...validFields(form) }],
        [`token of the ${otherScope} form`, { csrf: await tokenFor(victim, otherScope), ...validFields(form) }],
        ["the attacker's own valid token", { csrf: await tokenFor(attacker, form.scope), ...validFields(form) }],
      ];
      for (const [label, fields] of attempts) {
        const response = await victim.postForm(form.url, fields, HTML);
        expectClear(response, 403, `${form.name}, ${label}`, CSRF_MESSAGE);
      }
      const asJson = await victim.postForm(form.url, validFields(form), { accept: 'application/json' });
      assert.equal(asJson.statusCode, 403, `${form.name}: JSON clients get the same refusal`);
      assert.deepEqual(JSON.parse(asJson.body), { error: 'csrf_failed', message: 'This form has expired or was not sent from this site. Reload the page and try again.' });
      assert.deepEqual(await state(), before, `${form.name}: nothing changed`);
    }
    assert.equal((await victim.get('/account')).statusCode, 200, 'the victim is still signed in');
    assert.equal((await secondSession.get('/account')).statusCode, 200, "the victim's other session is still alive");
  });

  test('bad input on every new form gets a clear 4xx', async () => {
    // Threat: malformed input crashing handlers (500s, stack traces) or being half-applied.
    const before = await state();
    for (const form of forms) {
      const csrf = await tokenFor(victim, form.scope);
      const valid = validFields(form);
      const send = (fields: Record<string, string>) => new URLSearchParams({ csrf, ...fields }).toString();
      const label = (what: string) => `${form.name}: ${what}`;

      for (const [name, field] of Object.entries(form.fields)) {
        const others = { ...valid };
        delete others[name];
        if (field.required) expectClear(await post(victim, form.url, send(others)), 400, label(`missing ${name}`), /is required/);
        // An array: the same field twice.
        expectClear(await post(victim, form.url, `${send(others)}&${name}=a&${name}=b`), 400, label(`${name} sent twice`), /must be sent once, as text/);
        expectClear(await post(victim, form.url, send({ ...others, [name]: 'x'.repeat(field.max + 1) })), 400, label(`${name} too long`), /too long/);
      }
      expectClear(await post(victim, form.url, `csrf=${csrf}&csrf=${csrf}`), 403, label('csrf sent twice'), CSRF_MESSAGE);
      expectClear(await post(victim, form.url, send({ ...valid, pad: 'y'.repeat(70 * 1024) })), 413, label('body over 64 KB'), /too large/);

      expectClear(await post(victim, form.url, JSON.stringify(valid), 'application/json'), 403, label('JSON body without the token'), CSRF_MESSAGE);
      expectClear(await post(victim, form.url, '{"csrf":', 'application/json'), 400, label('malformed JSON'), /not valid/);
      expectClear(await post(victim, form.url, '[1,2]', 'application/json'), 403, label('JSON array'));
      if (Object.keys(form.fields).length > 0) {
        const typed = Object.fromEntries(Object.keys(form.fields).map((k, i) => [k, i % 2 ? { a: 1 } : 5]));
        expectClear(await post(victim, form.url, JSON.stringify({ csrf, ...typed }), 'application/json'), 400, label('JSON with wrongly typed fields'), /must be sent once, as text/);
      }
      expectClear(await post(victim, form.url, 'abc', null), 415, label('no content type'));
      expectClear(await post(victim, form.url, '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--', 'multipart/form-data; boundary=x'), 415, label('multipart body'), /content type/);
      const required = Object.entries(form.fields).filter(([, f]) => f.required);
      if (required.length > 0) {
        // Only forms that refuse such values: on the others a valid token plus junk would be a real (allowed) submission.
        const malformed = required.map(([name], i) => `${name}=${['%E0%A', '%zz', '%'][i % 3]}`).join('&');
        expectClear(await post(victim, form.url, `csrf=${csrf}&${malformed}`), '4xx', label('malformed percent-encoding'));
      }
      expectClear(await post(victim, form.url, '%%%&&&==&csrf', FORM), 403, label('garbage urlencoded body'), CSRF_MESSAGE);
    }
    assert.deepEqual(await state(), before, 'no bad input changed anything');
  });
});
