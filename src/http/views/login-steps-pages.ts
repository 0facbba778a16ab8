// Pages for the steps after the password: the second factor and the passkey offer.
import { alert, layout } from './layout.js';
import { html } from './html.js';

export function secondFactorPage(v: { productName: string; action: string; csrfToken: string; error?: string | null; attemptsLeft: number }): string {
  return layout({
    title: 'Two-step verification',
    productName: v.productName,
    body: html`<h1>Two-step verification</h1>
<p class="lead">Enter the 6-digit code from your authenticator app.</p>
${alert(v.error)}
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="code">Authentication code</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10" autofocus aria-describedby="code-hint">
  <p class="hint" id="code-hint">${v.attemptsLeft} attempt${v.attemptsLeft === 1 ? '' : 's'} left for this sign-in.</p>
  <button type="submit">Verify</button>
</form>
<details>
  <summary>Use a recovery code instead</summary>
  <form method="post" action="${v.action}" novalidate>
    <input type="hidden" name="csrf" value="${v.csrfToken}">
    <label for="recovery">Recovery code</label>
    <input id="recovery" name="recovery_code" type="text" autocomplete="off" maxlength="40">
    <button type="submit" class="secondary">Use recovery code</button>
  </form>
</details>`,
  });
}

export function passkeyOfferPage(v: { productName: string; csrfToken: string; declineAction: string; optionsUrl: string; verifyUrl: string }): string {
  return layout({
    title: 'Create a passkey',
    productName: v.productName,
    scripts: ['/assets/passkeys.js'],
    body: html`<h1>Sign in faster next time</h1>
<p class="lead">Create a passkey for this account. Next time you sign in with your fingerprint, face or screen lock instead of a password, and nobody can phish it.</p>
<form id="passkey-offer" method="post" action="${v.declineAction}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="button" id="create-passkey" data-options-url="${v.optionsUrl}" data-verify-url="${v.verifyUrl}">Create and use a passkey</button>
  <div id="passkey-status" role="status" aria-live="polite"></div>
  <button type="submit" class="secondary">Not now</button>
</form>`,
  });
}
