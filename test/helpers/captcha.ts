// Helpers for the bot-detection and CAPTCHA suites: read challenges out of the login page, their answers out of the store, and the events.
import assert from 'node:assert/strict';
import type { TestApp } from './app.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import type { SecurityEvent } from '../../src/events/event-codes.js';
import { expectedProofDigest } from '../../src/protection/bot/browser-proof.js';

/** What a person on an ordinary desktop Chrome sends (HeadlessChrome is rightly flagged as scripted). */
export const DESKTOP_CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** The label the image challenge shows; its presence means the page asks for a CAPTCHA. */
export const IMAGE_PROMPT = 'Enter the characters as displayed';

/** The image challenge's id from a rendered login page, or null when the page carries no image challenge. */
export function captchaIdIn(body: string): string | null {
  return /name="captcha_id" value="([^"]+)"/.exec(body)?.[1] ?? null;
}

/** The Turnstile/hCaptcha/reCAPTCHA widget's binding data (`data-cdata`) from a rendered login page. */
export function widgetCdataIn(body: string): string | null {
  return /data-cdata="([^"]+)"/.exec(body)?.[1] ?? null;
}

/**
 * The `proof` field the login page's script would compute (web/captcha.ts), from the page's
 * data-proof-nonce and data-proof-tx. Lets an in-process test behave like a browser that ran the script.
 */
export function browserProofFor(body: string): string {
  const nonce = /data-proof-nonce="([^"]+)"/.exec(body)?.[1];
  const transactionId = /data-proof-tx="([^"]+)"/.exec(body)?.[1];
  assert.ok(nonce && transactionId, `no browser proof challenge in page: ${body.slice(0, 300)}`);
  return `${nonce}.${expectedProofDigest(nonce, transactionId)}`;
}

/**
 * The plaintext answer of an issued image challenge. The image provider writes it next to the answer's HMAC
 * only when NODE_ENV=test (src/protection/captcha/image-captcha.ts; the same value peekAnswerForTests() returns);
 * the records live in the oidc model table under model 'Captcha' (captcha-store.ts).
 */
export async function imageAnswer(app: TestApp, id: string): Promise<string> {
  const row = await app.store.oidc.find('Captcha', id, 0);
  const answer = row?.payload.testAnswer;
  assert.equal(typeof answer, 'string', `no test answer stored for captcha ${id} (is NODE_ENV=test?)`);
  return answer as string;
}

/** Security events with one of `codes`, oldest first. */
export async function eventsOf(app: TestApp, ...codes: string[]): Promise<SecurityEvent[]> {
  return (await app.store.events.list({ limit: 10_000 })).filter((e) => codes.includes(e.code)).reverse();
}

/** The signal reason codes recorded on a captcha event (details.signals is keyed by reason). */
export function signalsOf(event: SecurityEvent): string[] {
  return Object.keys((event.details.signals ?? {}) as Record<string, unknown>);
}


/**
 * Like launchBrowser() (test/helpers/browser.ts) but with the user agent of a normal desktop browser:
 * a person's Chrome does not say "HeadlessChrome", and the bot signals rightly flag one that does.
 */
export function launchBrowserAs(userAgent: string = DESKTOP_CHROME_UA): Promise<TestBrowser> {
  return launchBrowser({ userAgent });
}
