// The CAPTCHA block inside the login form: the image ("Enter the characters as displayed") with the invisible
// proof-of-work as the accessible alternative, or an external provider's widget.
import type { CaptchaChallenge } from '../../protection/captcha/captcha-provider.js';
import { html, trusted, type SafeHtml } from './html.js';

/** External widgets: their script, and the origins the CSP must allow for it (script, frame, connect). */
export const EXTERNAL_CAPTCHA = {
  turnstile: { script: 'https://challenges.cloudflare.com/turnstile/v0/api.js', origins: ['https://challenges.cloudflare.com'] },
  hcaptcha: { script: 'https://js.hcaptcha.com/1/api.js', origins: ['https://js.hcaptcha.com', 'https://hcaptcha.com', 'https://*.hcaptcha.com'] },
  recaptcha: { script: 'https://www.google.com/recaptcha/api.js', origins: ['https://www.google.com', 'https://www.gstatic.com', 'https://www.recaptcha.net'] },
} as const;

export function challengeMarkup(issued: { primary: CaptchaChallenge; alternative: CaptchaChallenge | null }, tx: { key: string }, refreshUrl: string): SafeHtml {
  const pow = (challenge: CaptchaChallenge) => html`<div data-pow-challenge="${JSON.stringify(challenge.powChallenge)}" data-pow-worker="/assets/pow-worker.js"></div>`;
  const { primary, alternative } = issued;
  if (primary.provider === 'image') {
    return html`<fieldset class="captcha" data-captcha-image data-tx="${tx.key}" data-refresh-url="${refreshUrl}">
  <legend>Confirm you are a person</legend>
  <div class="captcha-image" data-captcha-svg role="img" aria-label="Distorted characters to type into the field below">${trusted(primary.imageSvg ?? '')}</div>
  <input type="hidden" name="captcha_id" value="${primary.id}">
  <label for="captcha_answer">Enter the characters as displayed</label>
  <input id="captcha_answer" name="captcha_answer" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="12">
  <button type="button" class="secondary" data-captcha-refresh>New image</button>
  ${alternative ? html`<details class="captcha-alt"><summary>Can't read it? Verify another way</summary><p class="hint">Your browser solves a small puzzle instead; no typing needed.</p>${pow(alternative)}</details>` : ''}
  <p class="hint" data-captcha-status></p>
</fieldset>`;
  }
  if (primary.provider === 'pow') {
    return html`<fieldset class="captcha"><legend>Confirm you are a person</legend>${pow(primary)}<p class="hint" data-captcha-status></p></fieldset>`;
  }
  const widgetClass = primary.provider === 'turnstile' ? 'cf-turnstile' : primary.provider === 'hcaptcha' ? 'h-captcha' : 'g-recaptcha';
  const script = EXTERNAL_CAPTCHA[primary.provider as keyof typeof EXTERNAL_CAPTCHA]?.script ?? '';
  return html`<fieldset class="captcha"><legend>Confirm you are a person</legend><div class="${widgetClass}" data-sitekey="${primary.siteKey ?? ''}" ${primary.bindingData ? html`data-cdata="${primary.bindingData}"` : ''}></div></fieldset>
<script src="${script}" async defer></script>`;
}
