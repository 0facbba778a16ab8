// Server-rendered pages for login, consent, setup, messages and errors.
import { alert, layout } from './layout.js';
import { html, trusted, type SafeHtml } from './html.js';

export interface LoginView {
  productName: string;
  action: string;
  csrfToken: string;
  clientName: string;
  email?: string;
  error?: string | null;
  notice?: string | null;
  signupUrl?: string | null;
  /** Passkey endpoints for "Continue with passkey" and autofill; omitted when passkeys are off. */
  passkey?: { optionsUrl: string; verifyUrl: string } | null;
  /** Extra form content (a CAPTCHA challenge) rendered above the submit button. */
  challenge?: SafeHtml | null;
  /** The browser proof the page script computes (bare HTTP clients lack it). */
  proof?: { nonce: string; transactionId: string } | null;
}

export function loginPage(v: LoginView): string {
  const invalid = v.error ? 'true' : 'false';
  return layout({
    title: 'Sign in',
    productName: v.productName,
    scripts: [...(v.proof || v.challenge ? ['/assets/captcha.js'] : []), ...(v.passkey ? ['/assets/passkeys.js'] : [])],
    body: html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${v.clientName}</strong></p>
${alert(v.error)}${alert(v.notice, 'info')}
${
  v.passkey
    ? html`<button type="button" id="continue-with-passkey" class="secondary" hidden data-options-url="${v.passkey.optionsUrl}" data-verify-url="${v.passkey.verifyUrl}">Continue with passkey</button>
<div id="no-passkeys" class="alert info" role="alert" tabindex="-1" hidden>
  <strong>No passkeys available</strong>
  <p>This browser did not offer a passkey for this site. That usually means one of these:</p>
  <ul>
    <li>You have not created a passkey on this device or in this browser yet.</li>
    <li>Your passkey is saved in a different Apple ID, Google account or password manager than the one signed in here (for example iCloud Keychain or Google Password Manager).</li>
  </ul>
  <p>Sign in with your email and password below; we will then offer to create a passkey on this device. Or sign in to the account that holds your passkey and try again.</p>
</div>
<p class="divider"><span>or sign in with your password</span></p>`
    : ''
}
<form method="post" action="${v.action}" novalidate ${v.passkey ? html`data-passkey-login data-options-url="${v.passkey.optionsUrl}" data-verify-url="${v.passkey.verifyUrl}"` : ''} ${v.proof ? html`data-proof-nonce="${v.proof.nonce}" data-proof-tx="${v.proof.transactionId}"` : ''}>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  ${v.proof ? html`<input type="hidden" name="proof" value="">` : ''}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="${v.passkey ? 'username webauthn' : 'username'}" required maxlength="320" value="${v.email ?? ''}" aria-invalid="${invalid}" ${v.error ? trusted('aria-describedby="form-error"') : ''} autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" aria-invalid="${invalid}">
  ${v.challenge ?? ''}
  <button type="submit">Sign in</button>
</form>
<p class="links"><a href="/password/forgot">Forgot your password?</a>${v.signupUrl ? html` · <a href="${v.signupUrl}">Create an account</a>` : ''}</p>`,
  });
}

export interface ConsentView {
  productName: string;
  action: string;
  abortAction: string;
  csrfToken: string;
  clientName: string;
  scopes: string[];
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay signed in while you are away',
};

export function consentPage(v: ConsentView): string {
  return layout({
    title: 'Allow access',
    productName: v.productName,
    body: html`<h1>Allow access?</h1>
<p class="lead"><strong>${v.clientName}</strong> is asking to:</p>
<ul class="scopes">${v.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`)}</ul>
<form method="post" action="${v.action}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="submit">Allow</button>
</form>
<form method="post" action="${v.abortAction}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="submit" class="secondary">Deny</button>
</form>`,
  });
}

export function messagePage(productName: string, title: string, message: string, next?: { href: string; label: string }): string {
  return layout({
    title,
    productName,
    body: html`<h1>${title}</h1><p>${message}</p>${next ? html`<a class="button" href="${next.href}">${next.label}</a>` : ''}`,
  });
}

/** A refused sign-in (blocked pair, throttled network, locked account): what happened and what the person can do. */
export function refusedPage(v: { productName: string; message: string; backUrl: string }): string {
  return layout({
    title: 'Sign-in paused',
    productName: v.productName,
    body: html`<h1>Sign-in paused</h1>
<div class="alert error" role="alert">${v.message}</div>
<p class="links"><a href="/password/forgot">Reset your password</a> · <a href="${v.backUrl}">Back to sign in</a></p>`,
  });
}

export function errorPage(productName: string, status: number, message: string): string {
  const title = status === 404 ? 'Page not found' : status === 429 ? 'Too many attempts' : status === 503 ? 'Temporarily unavailable' : status >= 500 ? 'Something went wrong' : 'We could not do that';
  return layout({ title, productName, body: html`<h1>${title}</h1><div class="alert error" role="alert">${message}</div>` });
}

export function logoutConfirmPage(productName: string, formMarkup: string, host: string): string {
  return layout({
    title: 'Sign out',
    productName,
    body: html`<h1>Sign out?</h1>
<p class="lead">Do you want to sign out of ${productName} at ${host}?</p>
${trusted(formMarkup)}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  });
}

export interface SetupView {
  productName: string;
  action: string;
  csrfToken: string;
  error?: string | null;
  email?: string;
  org?: string;
}

export function setupPage(v: SetupView): string {
  return layout({
    title: 'Create the first admin',
    productName: v.productName,
    body: html`<h1>Welcome to ${v.productName}</h1>
<p class="lead">Create the first administrator account. This link works once.</p>
${alert(v.error)}
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="org">Organization name</label>
  <input id="org" name="org" type="text" required maxlength="100" value="${v.org ?? ''}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${v.email ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">8 to 128 characters. A long passphrase is best.</p>
  <button type="submit">Create admin account</button>
</form>`,
  });
}

/** Where the session SDK sends the browser at the end: says the session ended; if it is still open, offers to sign out. */
export function sessionEndedPage(v: { productName: string; stillActive: boolean; csrfToken: string | null; loginHref: string }): string {
  return layout({
    title: v.stillActive ? 'Sign in again' : 'Your session has ended',
    productName: v.productName,
    body: v.stillActive
      ? html`<h1>Sign in again</h1>
<p>Your session is about to reach its time limit. Sign out now and sign in again to continue.</p>
<form method="post" action="/logout">
  <input type="hidden" name="csrf" value="${v.csrfToken ?? ''}">
  <button type="submit">Sign out and sign in again</button>
</form>
<a class="button secondary" href="/account">Back to your account</a>`
      : html`<h1>Your session has ended</h1>
<p>For your security you were signed out: sessions end after a period without activity, and after a maximum time whatever the activity.</p>
<a class="button" href="${v.loginHref}">Sign in again</a>`,
  });
}

/** Signed out, with each app's front-channel logout page loaded in a hidden iframe; `continueTo` follows after 2 s. */
export function signedOutPage(v: { productName: string; frames: string[]; continueTo?: { href: string; label: string } | null; message?: string }): string {
  return layout({
    title: 'Signed out',
    productName: v.productName,
    head: v.continueTo && v.frames.length > 0 ? html`<meta http-equiv="refresh" content="2;url=${v.continueTo.href}">` : html``,
    body: html`<h1>Signed out</h1>
<p>${v.message ?? 'You have signed out.'}${v.frames.length > 0 ? ' Signing you out of your apps too…' : ''}</p>
${v.frames.map((src) => html`<iframe class="logout-frame" src="${src}" title="Signing out of an app" aria-hidden="true" tabindex="-1"></iframe>`)}
${v.continueTo ? html`<a class="button" href="${v.continueTo.href}">${v.continueTo.label}</a>` : ''}`,
  });
}
