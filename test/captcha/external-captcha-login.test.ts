// External CAPTCHA providers (Turnstile here) in the real login pipeline, against a local server speaking the siteverify format.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { browserFrom, seedUser } from '../helpers/account-browser.js';
import { hiddenCsrf, type Browser } from '../helpers/oidc-flow.js';
import { countHashing, randomIpv4, type HashCounter } from '../helpers/protection.js';
import { DESKTOP_CHROME_UA, eventsOf, IMAGE_PROMPT, widgetCdataIn } from '../helpers/captcha.js';
import { MESSAGES } from '../../src/http/password-login.js';

const PASSWORD = 'correct horse battery staple 42';
const EMAIL = 'turnstile-user@example.test';
const TOKEN_FIELD = 'cf-turnstile-response';

interface Siteverify {
  url: string;
  received: URLSearchParams[];
  close(): Promise<void>;
}

/**
 * A stand-in for https://challenges.cloudflare.com/turnstile/v0/siteverify. It accepts only the secret `s`;
 * a token `pass.<cdata>` is valid and echoes the widget's cdata (as Turnstile does), anything else is invalid.
 */
async function startSiteverify(): Promise<Siteverify> {
  const received: URLSearchParams[] = [];
  const server: Server = createServer((request, reply) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      received.push(form);
      const token = form.get('response') ?? '';
      const answer =
        request.method !== 'POST' || request.url !== '/siteverify'
          ? { success: false, 'error-codes': ['bad-request'] }
          : form.get('secret') !== 's'
            ? { success: false, 'error-codes': ['invalid-input-secret'] }
            : token.startsWith('pass.')
              ? { success: true, 'error-codes': [], hostname: 'localhost', challenge_ts: new Date().toISOString(), cdata: token.slice('pass.'.length) }
              : { success: false, 'error-codes': ['invalid-input-response'] };
      reply.writeHead(200, { 'content-type': 'application/json' });
      reply.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/siteverify`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback URL where nothing listens (the port was just released). */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/siteverify`;
}

const turnstile = (verifyUrl: string, failMode: 'open' | 'closed') => ({
  bot: { loginMode: 'always', provider: 'turnstile', siteKey: 'k', secretKey: 's', verifyUrl, failMode },
});

interface Visit {
  browser: Browser;
  page: LightMyRequestResponse;
  cdata: string;
}

async function visit(app: TestApp): Promise<Visit> {
  const browser = browserFrom(app, { ip: randomIpv4(), userAgent: DESKTOP_CHROME_UA });
  const page = await browser.get('/login');
  assert.equal(page.statusCode, 200);
  assert.ok(page.body.includes('class="cf-turnstile" data-sitekey="k"'), 'the page carries the Turnstile widget with the site key');
  assert.ok(!page.body.includes(IMAGE_PROMPT), 'no built-in image when an external provider is configured');
  const cdata = widgetCdataIn(page.body);
  assert.ok(cdata, 'the widget binds its token to this login transaction (data-cdata)');
  return { browser, page, cdata };
}

function submit(visit: Visit, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return visit.browser.postForm('/login', { csrf: hiddenCsrf(visit.page.body), email: EMAIL, password: PASSWORD, ...fields });
}

function assertRefused(visit: Visit, response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 401, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.ok(response.body.includes('class="cf-turnstile"'), `${what}: the widget is shown again`);
  assert.equal(visit.browser.jar.get('portcullis_session'), undefined, `${what}: no session`);
}

function assertSignedIn(visit: Visit, response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 303, `${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
  assert.ok(visit.browser.jar.get('portcullis_session'), `${what}: a session started`);
}

describe('external CAPTCHA provider through siteverify', () => {
  let siteverify: Siteverify;
  before(async () => {
    siteverify = await startSiteverify();
  });
  after(async () => {
    await siteverify.close();
  });

  async function withApp(verifyUrl: string, failMode: 'open' | 'closed', run: (app: TestApp, hashing: HashCounter) => Promise<void>): Promise<void> {
    const app = await createTestApp(turnstile(verifyUrl, failMode));
    try {
      await seedUser(app, EMAIL, PASSWORD);
      await run(app, countHashing(app.hasher));
    } finally {
      await app.dispose();
    }
  }

  test('a Turnstile token is verified through siteverify before the password: a valid one lets the login continue, a refused one does not', async () => {
    // Threat: a bot posting the login form with no, a made-up, or a borrowed provider token.
    await withApp(siteverify.url, 'closed', async (app, hashing) => {
      const person = await visit(app);
      const ip = person.browser.defaults.remoteAddress;

      assertRefused(person, await submit(person, {}), 'no token');
      assertRefused(person, await submit(person, { [TOKEN_FIELD]: 'forged-token' }), 'token the provider refuses');
      assertRefused(person, await submit(person, { [TOKEN_FIELD]: 'pass.solved-for-another-login' }), 'token solved in another transaction');
      assert.equal(hashing.verifications, 0, 'no password is checked until the provider accepts the token');

      const refusedAtProvider = siteverify.received.find((form) => form.get('response') === 'forged-token');
      assert.equal(refusedAtProvider?.get('secret'), 's', 'the secret key is sent to siteverify');
      assert.equal(refusedAtProvider?.get('remoteip'), ip, "the client's IP is passed on as remoteip");

      assertSignedIn(person, await submit(person, { [TOKEN_FIELD]: `pass.${person.cdata}` }), 'valid token');
      assert.equal(hashing.verifications, 1);

      const required = await eventsOf(app, 'captcha_required');
      assert.equal(required.length, 1, 'the missing token is captcha_required');
      assert.match(required[0]!.reason ?? '', /^mode_always\b/, 'challenged because the mode is always');
      assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['wrong', 'wrong_transaction']);
      const [passed] = await eventsOf(app, 'captcha_passed');
      assert.equal(passed?.details.degraded, false);
      const [success] = await eventsOf(app, 'login_success');
      assert.equal(success?.details.captcha_required, true);
    });
  });

  test('with the provider unreachable, fail-closed refuses the login', async () => {
    // Threat: an attacker who can make the provider unreachable (or an outage) must not get unchallenged password guesses.
    await withApp(await deadUrl(), 'closed', async (app, hashing) => {
      const person = await visit(app);
      assertRefused(person, await submit(person, { [TOKEN_FIELD]: `pass.${person.cdata}` }), 'provider down, fail-closed');
      assert.equal(hashing.verifications, 0);
      assert.deepEqual((await eventsOf(app, 'captcha_failed')).map((e) => e.reason), ['provider_unavailable']);
      assert.equal((await eventsOf(app, 'captcha_passed', 'login_success')).length, 0);
    });
  });

  test('with the provider unreachable, fail-open lets the login continue and logs it as degraded', async () => {
    // Threat: a silent fail-open would hide that the CAPTCHA was off; the outage must be visible in the event log.
    await withApp(await deadUrl(), 'open', async (app, hashing) => {
      const person = await visit(app);
      // Fail-open covers an outage, not a missing token.
      assertRefused(person, await submit(person, {}), 'no token, fail-open');
      assert.equal(hashing.verifications, 0);
      const response = await submit(person, { [TOKEN_FIELD]: `pass.${person.cdata}` });
      assertSignedIn(person, response, 'provider down, fail-open');
      assert.equal(hashing.verifications, 1);
      const passed = await eventsOf(app, 'captcha_passed');
      assert.equal(passed.length, 1);
      assert.equal(passed[0]!.details.degraded, true, 'the pass is logged as degraded');
    });
  });

  test('a wrong password after a valid token is still a wrong password', async () => {
    // Threat: the CAPTCHA path must not become a way around the password check.
    await withApp(siteverify.url, 'closed', async (app, hashing) => {
      const person = await visit(app);
      const response = await person.browser.postForm('/login', { csrf: hiddenCsrf(person.page.body), email: EMAIL, password: 'not the password', [TOKEN_FIELD]: `pass.${person.cdata}` });
      assert.equal(response.statusCode, 401);
      assert.ok(response.body.includes(MESSAGES.invalidCredentials));
      assert.equal(person.browser.jar.get('portcullis_session'), undefined);
      assert.equal(hashing.verifications, 1);
    });
  });
});
