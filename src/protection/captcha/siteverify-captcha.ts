// External CAPTCHAs (Turnstile, hCaptcha, reCAPTCHA) through their siteverify APIs, with an explicit fail-open or fail-closed outage mode.
import { randomBytes } from 'node:crypto';
import { hmac } from '../../crypto/hmac.js';
import type { Random } from '../../domain/clock.js';
import { CAPTCHA_FIELDS, type CaptchaChallenge, type CaptchaFailure, type CaptchaProvider, type CaptchaVerdict } from './captcha-provider.js';

export type SiteverifyProviderName = 'turnstile' | 'hcaptcha' | 'recaptcha';

export const SITEVERIFY_URLS: Readonly<Record<SiteverifyProviderName, string>> = Object.freeze({
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
  recaptcha: 'https://www.google.com/recaptcha/api/siteverify',
});

export interface SiteverifyOptions {
  provider: SiteverifyProviderName;
  siteKey: string;
  secret: string;
  /** Defaults to the provider's public endpoint; tests and proxies point it elsewhere. */
  verifyUrl?: string;
  timeoutMs?: number;
  /**
   * When the provider is unreachable, times out, or answers with a server error: `open` lets the
   * login continue with a `degraded` verdict, `closed` refuses it. Misconfiguration (a bad secret)
   * always refuses: fail-open is for outages, not for silently turning the check off.
   */
  failMode: 'open' | 'closed';
  /** Turnstile only: binds each token to its login transaction through the widget's cdata. */
  bindingKey?: Buffer;
  /** When set, a token solved on another hostname is refused. */
  expectedHostname?: string;
  fetch?: typeof fetch;
  random?: Random;
}

interface SiteverifyBody {
  success?: unknown;
  'error-codes'?: unknown;
  hostname?: unknown;
  cdata?: unknown;
}

const MISCONFIGURED = new Set(['missing-input-secret', 'invalid-input-secret', 'invalid-or-missing-secret', 'sitekey-secret-mismatch', 'invalid-sitekey']);
const UNAVAILABLE = new Set(['internal-error']);
const ERROR_REASONS: Readonly<Record<string, CaptchaFailure>> = {
  'missing-input-response': 'missing',
  'timeout-or-duplicate': 'replayed',
  'invalid-or-already-seen-response': 'replayed',
};

function failure(reason: CaptchaFailure, errorCodes: string[] = []): CaptchaVerdict {
  return errorCodes.length ? { ok: false, reason, errorCodes } : { ok: false, reason };
}

export function createSiteverifyCaptcha(options: SiteverifyOptions): CaptchaProvider {
  const { provider, secret, failMode } = options;
  const verifyUrl = options.verifyUrl ?? SITEVERIFY_URLS[provider];
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;
  const random: Random = options.random ?? { bytes: (length) => randomBytes(length) };
  const binding = (transactionId: string): string | null =>
    provider === 'turnstile' && options.bindingKey ? hmac(options.bindingKey, `turnstile-cdata\n${transactionId}`).slice(0, 32) : null;
  const outage = (errorCodes: string[]): CaptchaVerdict =>
    failMode === 'open' ? { ok: true, degraded: true } : failure('provider_unavailable', errorCodes);

  async function callSiteverify(token: string, remoteIp: string | undefined): Promise<SiteverifyBody | null> {
    const form = new URLSearchParams({ secret, response: token });
    if (remoteIp) form.set('remoteip', remoteIp);
    try {
      const reply = await doFetch(verifyUrl, { method: 'POST', body: form, signal: AbortSignal.timeout(timeoutMs) });
      if (!reply.ok) return null;
      const body = (await reply.json()) as unknown;
      return body !== null && typeof body === 'object' ? (body as SiteverifyBody) : null;
    } catch {
      return null;
    }
  }

  return {
    name: provider,
    async issue(transactionId): Promise<CaptchaChallenge> {
      const cdata = binding(transactionId);
      const challenge: CaptchaChallenge = { provider, id: random.bytes(12).toString('base64url'), siteKey: options.siteKey };
      return cdata ? { ...challenge, bindingData: cdata } : challenge;
    },
    async verify(transactionId, response, _now, context): Promise<CaptchaVerdict> {
      const token = response[CAPTCHA_FIELDS[provider]]?.trim() ?? '';
      if (token === '') return failure('missing');
      if (token.length > 4_096) return failure('wrong');
      const body = await callSiteverify(token, context?.remoteIp);
      if (!body) return outage(['unreachable']);
      const errorCodes = Array.isArray(body['error-codes']) ? body['error-codes'].filter((code): code is string => typeof code === 'string') : [];
      if (body.success !== true) {
        if (errorCodes.some((code) => MISCONFIGURED.has(code))) return failure('provider_unavailable', errorCodes);
        if (errorCodes.some((code) => UNAVAILABLE.has(code))) return outage(errorCodes);
        const mapped = errorCodes.map((code) => ERROR_REASONS[code]).find((reason) => reason !== undefined);
        return failure(mapped ?? 'wrong', errorCodes);
      }
      if (options.expectedHostname && body.hostname !== options.expectedHostname) return failure('wrong', ['hostname-mismatch']);
      const cdata = binding(transactionId);
      if (cdata !== null && body.cdata !== cdata) return failure('wrong_transaction');
      return { ok: true };
    },
  };
}
