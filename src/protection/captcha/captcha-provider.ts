// The one CAPTCHA verifier interface: providers issue challenges for the page and return verdicts, never HTTP responses.

export type CaptchaProviderName = 'image' | 'pow' | 'turnstile' | 'hcaptcha' | 'recaptcha';

export interface CaptchaChallenge {
  provider: CaptchaProviderName;
  /** Unique per challenge; the image id goes back in the `captcha_id` field. */
  id: string;
  /** image: the SVG markup to inline (the answer is never in the page). */
  imageSvg?: string;
  /** pow: the ALTCHA challenge object; JSON-encode it into `data-pow-challenge`. */
  powChallenge?: unknown;
  /** turnstile, hcaptcha, recaptcha: the public site key for the widget. */
  siteKey?: string;
  /** turnstile: the widget's `data-cdata`, which binds the token to this login transaction. */
  bindingData?: string;
}

export type CaptchaFailure = 'wrong' | 'expired' | 'replayed' | 'wrong_transaction' | 'missing' | 'provider_unavailable';

export type CaptchaVerdict =
  /** `degraded`: the provider was unreachable and the operator chose fail-open. Log it. */
  | { ok: true; degraded?: true }
  /** `errorCodes`: the external provider's own codes, for the event log only. */
  | { ok: false; reason: CaptchaFailure; errorCodes?: string[] };

export interface CaptchaVerifyContext {
  /** Passed on to external providers as `remoteip`. */
  remoteIp?: string;
}

export interface CaptchaProvider {
  readonly name: CaptchaProviderName;
  issue(transactionId: string, now: number): Promise<CaptchaChallenge>;
  /** `response` is the submitted form (only this provider's fields are read). Never throws for bad input. */
  verify(transactionId: string, response: Record<string, string | undefined>, now: number, context?: CaptchaVerifyContext): Promise<CaptchaVerdict>;
}

/** Form field names each provider reads. */
export const CAPTCHA_FIELDS = Object.freeze({
  imageId: 'captcha_id',
  imageAnswer: 'captcha_answer',
  pow: 'altcha',
  turnstile: 'cf-turnstile-response',
  hcaptcha: 'h-captcha-response',
  recaptcha: 'g-recaptcha-response',
});

/** How long a built-in challenge can be solved after it was issued. */
export const CAPTCHA_TTL_MS = 5 * 60_000;
