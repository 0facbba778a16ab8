// The dev mailbox at /dev/mail: lists delivered mail and the outbox, shows escaped bodies, sandboxes the HTML, and is absent in production.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.js';

const STRICT_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'";
const HOSTILE = '<script>alert(1)</script>@evil.test';
const LINK = 'http://localhost:3000/links/abcdefghijkl.verysecretpart?next=a&b=c';

describe('dev mailbox outside production', () => {
  let app: TestApp;
  let id: string;
  before(async () => {
    app = await createTestApp();
    id = await app.mailer.enqueue('ada@example.com', 'email_change_verify', { link: LINK, newEmail: HOSTILE, expiresInText: '24 hours' });
    assert.equal(await app.mailWorker.runOnce(), 1);
  });
  after(async () => {
    await app.dispose();
  });

  it('lists delivered mail with recipient and subject, and the outbox state', async () => {
    const response = await app.server.inject({ method: 'GET', url: '/dev/mail' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.equal(response.headers['cache-control'], 'no-store', 'link-bearing mail stays out of caches');
    assert.ok(response.body.includes(`href="/dev/mail/${id}"`));
    assert.ok(response.body.includes('Confirm your new email address'));
    assert.ok(response.body.includes('ada@example.com'));
    assert.match(response.body, /0 pending, 0 failed/);
  });

  it('shows one message with its text escaped and its links clickable', async () => {
    const response = await app.server.inject({ method: 'GET', url: `/dev/mail/${id}` });
    assert.equal(response.statusCode, 200);
    assert.ok(!response.body.includes('<script>alert(1)'), 'hostile data is not markup');
    assert.ok(response.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;@evil.test'));
    const escapedLink = LINK.replace(/&/g, '&amp;');
    assert.ok(response.body.includes(`<a href="${escapedLink}">${escapedLink}</a>`), 'the link is clickable');
    assert.ok(response.body.includes(`href="/dev/mail/${id}/html"`));
  });

  it('serves the HTML version under a strict CSP of its own', async () => {
    const response = await app.server.inject({ method: 'GET', url: `/dev/mail/${id}/html` });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-security-policy'], STRICT_CSP);
    assert.ok(response.body.includes('Confirm this address'));
    assert.ok(!response.body.includes('<script>alert(1)'));
    const page = await app.server.inject({ method: 'GET', url: '/dev/mail' });
    assert.notEqual(page.headers['content-security-policy'], STRICT_CSP, 'the override is for that route only');
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  });

  it('answers 404 for an unknown message', async () => {
    for (const url of ['/dev/mail/no-such-id', '/dev/mail/no-such-id/html']) {
      const response = await app.server.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      assert.equal(response.statusCode, 404, url);
      assert.match(response.body, /Page not found/);
    }
  });

  it('logs one line per mail without the body or its link token', () => {
    const lines = app.logs.filter((line) => line.includes('"devMail":true'));
    assert.equal(lines.length, 1);
    assert.ok(lines[0]?.includes(`dev mail to ada@example.com: \\"Confirm your new email address\\" — http://localhost:3000/dev/mail/${id}`));
    assert.ok(!app.logs.some((line) => line.includes('verysecretpart')), 'no log line carries the link token');
  });

  it('shows failed outbox messages with their last error', async () => {
    const failedId = await app.mailer.enqueue('bob@example.com', 'verify_email', { link: LINK, expiresInText: '1 hour' });
    await app.store.outbox.markAttemptFailed(failedId, 'SMTP said no <b>really</b>', null);
    const response = await app.server.inject({ method: 'GET', url: '/dev/mail' });
    assert.match(response.body, /0 pending, 1 failed/);
    assert.ok(response.body.includes('bob@example.com'));
    assert.ok(response.body.includes('SMTP said no &lt;b&gt;really&lt;/b&gt;'));
  });
});

describe('dev mailbox in production', () => {
  it('does not exist', async () => {
    const app = await createTestApp({ nodeEnv: 'production', smtpUrl: 'smtp://127.0.0.1:1', publicUrl: 'https://id.example.com' });
    try {
      for (const url of ['/dev/mail', '/dev/mail/anything', '/dev/mail/anything/html']) {
        const response = await app.server.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 404, url);
      }
    } finally {
      await app.dispose();
    }
  });
});

it("the dev mailbox answers only requests from this machine", async () => {
  // Threat: a staging server left without NODE_ENV=production leaking reset links to the network.
  const app = await createTestApp();
  try {
    const local = await app.server.inject({ method: 'GET', url: '/dev/mail', remoteAddress: '127.0.0.1' });
    assert.equal(local.statusCode, 200);
    const remote = await app.server.inject({ method: 'GET', url: '/dev/mail', remoteAddress: '203.0.113.50' });
    assert.equal(remote.statusCode, 404);
    const proxied = await app.server.inject({ method: 'GET', url: '/dev/mail', remoteAddress: '203.0.113.50', headers: { 'x-forwarded-for': '127.0.0.1' } });
    assert.equal(proxied.statusCode, 404);
  } finally {
    await app.dispose();
  }
});
