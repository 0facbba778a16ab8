// Webhooks in the running app: a security event (a failed login) reaches a registered receiver, signed, once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, hiddenCsrf } from '../helpers/oidc-flow.js';
import { addWebhook, webhookSealKey } from '../../src/webhooks/webhook-admin.js';
import { verifyWebhookSignature } from '../../src/webhooks/signing.js';
import { createWebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';

describe('webhooks in the running app', () => {
  let app: TestApp;
  let receiver: Server;
  let url = '';
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

  before(async () => {
    app = await createTestApp();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await app?.dispose();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('a failed login is delivered to the webhook registered for its code, signed with its secret', async () => {
    const { secret } = await addWebhook({ store: app.store, clock: app.clock, sealKey: webhookSealKey(app.config.secret) }, { url, codes: ['login_failed_unknown_user'] });
    const browser = new Browser(app.server);
    const page = await browser.get('/login');
    await browser.postForm('/login', { csrf: hiddenCsrf(page.body), email: 'nobody@example.com', password: 'not the password' });
    await app.webhookWorker.runOnce();
    assert.equal(received.length, 1, 'exactly one delivery');
    const [delivery] = received;
    assert.equal(delivery!.headers['portcullis-event'], 'login_failed_unknown_user');
    const payload = JSON.parse(delivery!.body) as { event: { code: string; identifier: string } };
    assert.equal(payload.event.code, 'login_failed_unknown_user');
    assert.equal(payload.event.identifier, 'nobody@example.com');
    assert.equal(verifyWebhookSignature(secret, String(delivery!.headers['portcullis-signature']), delivery!.body, Date.now()), true);
    assert.equal(verifyWebhookSignature('wrong-secret', String(delivery!.headers['portcullis-signature']), delivery!.body, Date.now()), false);
    await app.webhookWorker.runOnce();
    assert.equal(received.length, 1, 'not delivered twice');
  });

  test('the dispatcher reuses the webhook list within its cache window, then sees a new webhook', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const dispatcher = createWebhookDispatcher({ store: app.store, clock, logger: quiet, listCacheMs: 2_000 });
    const sealKey = webhookSealKey(app.config.secret);
    const first = await addWebhook({ store: app.store, clock, sealKey }, { url: `${url}/a`, codes: ['login_unblocked'] });
    const event = await app.store.events.append({ code: 'login_unblocked', outcome: 'success', reason: 'test' }, now);
    await dispatcher.onEvent(event);
    const second = await addWebhook({ store: app.store, clock, sealKey }, { url: `${url}/b`, codes: ['login_unblocked'] });
    await dispatcher.onEvent(event);
    const forSecond = async () => (await app.store.webhooks.listDeliveries({ webhookId: second.webhook.id, limit: 10 })).length;
    assert.equal((await app.store.webhooks.listDeliveries({ webhookId: first.webhook.id, limit: 10 })).length >= 2, true);
    assert.equal(await forSecond(), 0, 'within the window the cached list is used');
    now += 2_001;
    await dispatcher.onEvent(event);
    assert.equal(await forSecond(), 1, 'after it the new webhook receives events');
  });
});
