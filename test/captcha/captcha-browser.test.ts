// The login page script in real Chromium under the app's CSP: it fills the browser proof, solves proof-of-work in a worker within seconds, and swaps the image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { backends } from '../helpers/databases.js';
import { browserSkipReason, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import type { Store } from '../../src/store/store.js';
import { issueProofChallenge, verifyProof } from '../../src/protection/bot/browser-proof.js';
import { createCaptchaStore } from '../../src/protection/captcha/captcha-store.js';
import { createImageCaptcha, type ImageCaptchaProvider } from '../../src/protection/captcha/image-captcha.js';
import { createPowCaptcha } from '../../src/protection/captcha/pow-captcha.js';
import type { CaptchaProvider } from '../../src/protection/captcha/captcha-provider.js';

const skip = browserSkipReason();
const KEY = Buffer.alloc(32, 8);
const TX = 'tx-browser-1';
// The app's CSP (src/http/server.ts): no inline script, and workers fall back to script-src 'self'.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

const escapeAttribute = (value: string): string => value.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

async function bundle(entry: string): Promise<string> {
  const result = await build({ entryPoints: [entry], bundle: true, format: 'iife', target: 'es2020', minify: true, write: false });
  return result.outputFiles[0]?.text ?? '';
}

describe('login page script in Chromium', { skip }, () => {
  let context: { store: Store; dispose(): Promise<void> };
  let image: ImageCaptchaProvider;
  let pow: CaptchaProvider;
  let server: Server;
  let base: string;
  let browser: TestBrowser;
  const posted: Record<string, string>[] = [];

  async function page(mode: 'image' | 'pow'): Promise<string> {
    const now = Date.now();
    const { nonce } = issueProofChallenge(KEY, TX, now);
    const picture = await image.issue(TX, now);
    const work = await pow.issue(TX, now);
    const powDiv = `<div data-pow-challenge='${escapeAttribute(JSON.stringify(work.powChallenge))}' data-pow-worker="/assets/pow-worker.js"></div>`;
    return `<!doctype html><html lang="en"><head><title>Sign in</title><script defer src="/assets/captcha.js"></script></head><body>
<form method="post" action="/login" data-proof-nonce="${nonce}" data-proof-tx="${TX}">
  <input type="hidden" name="proof">
  ${
    mode === 'image'
      ? `<div data-captcha-image data-tx="${TX}">
    <div data-captcha-svg>${picture.imageSvg}</div>
    <input type="hidden" name="captcha_id" value="${picture.id}">
    <label for="captcha_answer">Enter the characters as displayed</label>
    <input id="captcha_answer" name="captcha_answer" required autocomplete="off">
    <button type="button" data-captcha-refresh>New image</button>
  </div>
  <details><summary>Can't read it? Verify another way</summary>${powDiv}</details>`
      : powDiv
  }
  <input type="hidden" name="altcha">
  <p data-captcha-status aria-live="polite"></p>
  <button type="submit">Continue</button>
</form></body></html>`;
  }

  before(async () => {
    const backend = backends()[0];
    assert.ok(backend);
    context = await backend.create();
    const store = createCaptchaStore(context.store.oidc);
    image = createImageCaptcha({ store, key: KEY });
    pow = createPowCaptcha({ store, key: KEY });
    const assets: Record<string, string> = {
      '/assets/captcha.js': await bundle('web/captcha.ts'),
      '/assets/pow-worker.js': await bundle('web/pow-worker.ts'),
    };
    server = createServer((request, reply) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, type: string, body: string): void => {
        reply.writeHead(status, { 'content-type': type, 'content-security-policy': CSP });
        reply.end(body);
      };
      void (async () => {
        const asset = assets[url.pathname];
        if (asset !== undefined) return send(200, 'text/javascript', asset);
        if (url.pathname === '/captcha/image') {
          const challenge = await image.issue(url.searchParams.get('tx') ?? '', Date.now());
          return send(200, 'application/json', JSON.stringify({ id: challenge.id, svg: challenge.imageSvg }));
        }
        if (url.pathname === '/login' && request.method === 'POST') {
          let body = '';
          for await (const chunk of request) body += String(chunk);
          const form = Object.fromEntries(new URLSearchParams(body));
          posted.push(form);
          const provider = form.altcha ? pow : image;
          const verdict = await provider.verify(TX, form, Date.now());
          return send(200, 'application/json', JSON.stringify({ provider: provider.name, verdict }));
        }
        return send(200, 'text/html; charset=utf-8', await page(url.searchParams.get('mode') === 'pow' ? 'pow' : 'image'));
      })().catch((error: unknown) => send(500, 'text/plain', String(error)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await context?.dispose();
  });

  function watchCsp(): string[] {
    const violations: string[] = [];
    browser.page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    return violations;
  }

  it('fills the browser proof, which the server accepts for this transaction only', async () => {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('input[name="proof"]')?.value ?? '') !== '');
    const proof = await page.inputValue('input[name="proof"]');
    assert.equal(verifyProof(KEY, TX, proof, Date.now(), 60_000).status, 'valid');
    assert.equal(verifyProof(KEY, 'another-tx', proof, Date.now(), 60_000).status, 'invalid');
  });

  it('proof of work as the primary method: solved in a worker within seconds, submit enabled, accepted once', async () => {
    const { page } = browser;
    const violations = watchCsp();
    const started = Date.now();
    await page.goto(`${base}/?mode=pow`);
    await page.waitForFunction(() => document.querySelector('[data-captcha-status]')?.textContent === 'Verified', undefined, { timeout: 30_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`# proof of work solved in Chromium in ${seconds.toFixed(2)} s`);
    assert.ok(seconds < 15, `solved in ${seconds} s`);
    assert.equal(await page.isEnabled('button[type="submit"]'), true);
    assert.equal(await page.getAttribute('[data-captcha-status]', 'aria-live'), 'polite');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/login`);
    assert.deepEqual(JSON.parse(await page.innerText('body')), { provider: 'pow', verdict: { ok: true } });
    const replay = await pow.verify(TX, posted.at(-1) ?? {}, Date.now());
    assert.deepEqual(replay, { ok: false, reason: 'replayed' });
    assert.deepEqual(violations, []);
  });

  it('image: "New image" swaps the SVG and id; a wrong answer is refused, the right one accepted', async () => {
    const { page } = browser;
    const violations = watchCsp();
    await page.goto(`${base}/`);
    const firstId = await page.inputValue('input[name="captcha_id"]');
    await page.click('[data-captcha-refresh]');
    await page.waitForFunction((id) => document.querySelector<HTMLInputElement>('input[name="captcha_id"]')?.value !== id, firstId);
    const secondId = await page.inputValue('input[name="captcha_id"]');
    assert.notEqual(secondId, firstId);
    assert.equal(await page.locator('[data-captcha-svg] svg').count(), 1);
    assert.equal(await page.textContent('[data-captcha-status]'), 'New image loaded. Enter the characters as displayed.');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'captcha_answer');
    assert.equal(await page.inputValue('input[name="altcha"]'), '', 'the alternative does not run until chosen');

    await page.fill('input[name="captcha_answer"]', 'WRONG1');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/login`);
    assert.deepEqual(JSON.parse(await page.innerText('body')), { provider: 'image', verdict: { ok: false, reason: 'wrong' } });

    await page.goto(`${base}/`);
    const id = await page.inputValue('input[name="captcha_id"]');
    const answer = await image.peekAnswerForTests?.(id);
    assert.ok(answer);
    await page.fill('input[name="captcha_answer"]', answer.toLowerCase());
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/login`);
    assert.deepEqual(JSON.parse(await page.innerText('body')), { provider: 'image', verdict: { ok: true } });
    assert.deepEqual(violations, []);
  });

  it('"Verify another way" starts the proof of work when opened, and it replaces the image answer', async () => {
    const { page } = browser;
    await page.goto(`${base}/`);
    await page.click('summary');
    await page.waitForFunction(() => document.querySelector('[data-captcha-status]')?.textContent === 'Verified', undefined, { timeout: 30_000 });
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/login`);
    assert.deepEqual(JSON.parse(await page.innerText('body')), { provider: 'pow', verdict: { ok: true } });
  });
});
