// The real app's /metrics: counters move as logins happen, argon2 verifies are counted, routes are labelled by pattern.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf } from '../helpers/oidc-flow.js';
import { createUser } from '../../src/admin/users.js';

const TOKEN = 'scrape-token-0123456789abcdef0123456789';

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return Number.NaN;
}

/** Sum over every series of `name` carrying these labels (e.g. across status classes). */
function total(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('metrics in the running app', () => {
  let app: TestApp;
  const email = 'metrics@example.com';
  const password = 'correct horse battery staple';

  before(async () => {
    app = await createTestApp({ metrics: { token: TOKEN } });
    await createUser({ store: app.store, hasher: app.hasher, clock: app.clock }, { email, password });
  });
  after(async () => app?.dispose());

  const scrape = async () => {
    const response = await app.server.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.statusCode, 200);
    return response.body;
  };

  test('a bearer token is required', async () => {
    assert.equal((await app.server.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    assert.equal((await app.server.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode, 401);
  });

  test('logins, argon2 verifies and HTTP latency move as a user fails once and then signs in', async () => {
    const before = await scrape();
    const failures0 = sample(before, 'portcullis_logins_total', { outcome: 'failure', method: 'password' });
    const successes0 = sample(before, 'portcullis_logins_total', { outcome: 'success', method: 'password' });
    const verifies0 = sample(before, 'portcullis_argon2_verify_total');

    const browser = new Browser(app.server);
    const page = await browser.get('/login');
    const wrong = await browser.postForm('/login', { csrf: hiddenCsrf(page.body), email, password: 'wrong password here' });
    assert.equal(wrong.statusCode, 401);
    const ok = await browser.postForm('/login', { csrf: hiddenCsrf(wrong.body), email, password });
    assert.equal(ok.statusCode, 303);

    const after = await scrape();
    assert.equal(sample(after, 'portcullis_logins_total', { outcome: 'failure', method: 'password' }), failures0 + 1);
    assert.equal(sample(after, 'portcullis_logins_total', { outcome: 'success', method: 'password' }), successes0 + 1);
    assert.equal(sample(after, 'portcullis_argon2_verify_total'), verifies0 + 2);
    assert.ok(sample(after, 'portcullis_argon2_verify_duration_seconds_count') >= 2);
    assert.equal(total(after, 'portcullis_http_request_duration_seconds_count', { route: '/login', method: 'POST' }), 2, 'labelled by route pattern');
    assert.equal(sample(after, 'portcullis_http_request_duration_seconds_count', { route: '/login', method: 'POST', status_class: '3xx' }), 1);
    assert.ok(Number.isFinite(sample(after, 'portcullis_mail_outbox_pending')));
  });
});
