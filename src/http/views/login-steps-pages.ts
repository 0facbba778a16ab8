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

/** The second factor a risky sign-in needs when the user has no authenticator app: their passkey, or an emailed code. */
export function stepUpPage(v: {
  productName: string;
  action: string;
  csrfToken: string;
  error?: string | null;
  attemptsLeft: number;
  email: string;
  passkey: { optionsUrl: string; verifyUrl: string } | null;
}): string {
  return layout({
    title: 'Confirm it is you',
    productName: v.productName,
    scripts: v.passkey ? ['/assets/passkeys.js'] : [],
    body: html`<h1>Confirm it is you</h1>
<p class="lead">This sign-in looks different from your usual ones, so we need one more check.</p>
${alert(v.error)}
${
  v.passkey
    ? html`<form method="post" action="${v.action}" data-passkey-login data-options-url="${v.passkey.optionsUrl}" data-verify-url="${v.passkey.verifyUrl}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="button" id="continue-with-passkey" hidden>Use your passkey</button>
</form>
<p class="hint">Or use the code we emailed you:</p>`
    : ''
}
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="code">Code from the email we sent to ${v.email}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="10" ${v.passkey ? '' : html`autofocus`} aria-describedby="code-hint">
  <p class="hint" id="code-hint">The code is valid for a few minutes. ${v.attemptsLeft} attempt${v.attemptsLeft === 1 ? '' : 's'} left for this sign-in.</p>
  <button type="submit">Verify</button>
</form>
<form method="post" action="${v.action}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <input type="hidden" name="resend" value="1">
  <button type="submit" class="secondary">Send a new code</button>
</form>`,
  });
}
