// Pages for sign-up, email links, password reset and the account page.
import { alert, layout } from './layout.js';
import { html, trusted, type SafeHtml } from './html.js';

interface FormPage {
  productName: string;
  csrfToken: string;
  error?: string | null;
}

const page = (productName: string, title: string, body: SafeHtml, wide = false, scripts: string[] = []): string => layout({ title, productName, body, wide, scripts });

interface Protected {
  proof?: { nonce: string; transactionId: string } | null;
  challenge?: SafeHtml | null;
}

const proofAttrs = (v: Protected) => (v.proof ? html`data-proof-nonce="${v.proof.nonce}" data-proof-tx="${v.proof.transactionId}"` : '');
const proofInput = (v: Protected) => (v.proof ? html`<input type="hidden" name="proof" value="">` : '');
const scriptsFor = (v: Protected) => (v.proof || v.challenge ? ['/assets/captcha.js'] : []);

export function signupPage(v: FormPage & Protected & { email?: string; name?: string; notice?: string | null }): string {
  return page(
    v.productName,
    'Create an account',
    html`<h1>Create an account</h1>
${alert(v.error)}${alert(v.notice, 'info')}
<form method="post" action="/signup" novalidate ${proofAttrs(v)}>
  <input type="hidden" name="csrf" value="${v.csrfToken}">${proofInput(v)}
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${v.name ?? ''}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${v.email ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">8 to 128 characters. A long passphrase is best; no special characters needed.</p>
  ${v.challenge ?? ''}
  <button type="submit">Create account</button>
</form>
<p class="links">Already have an account? <a href="/account">Sign in</a></p>`,
    false,
    scriptsFor(v),
  );
}

export function checkEmailPage(productName: string, message: string): string {
  return page(productName, 'Check your email', html`<h1>Check your email</h1><div class="alert info" role="status">${message}</div><p class="muted">The email can take a minute to arrive. Look in your spam folder too.</p>`);
}

export function forgotPage(v: FormPage & Protected & { email?: string; notice?: string | null }): string {
  return page(
    v.productName,
    'Reset your password',
    html`<h1>Reset your password</h1>
<p class="lead">Enter your account's email address and we will send you a link to choose a new password.</p>
${alert(v.error)}${alert(v.notice, 'info')}
<form method="post" action="/password/forgot" novalidate ${proofAttrs(v)}>
  <input type="hidden" name="csrf" value="${v.csrfToken}">${proofInput(v)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${v.email ?? ''}">
  ${v.challenge ?? ''}
  <button type="submit">Send reset link</button>
</form>`,
    false,
    scriptsFor(v),
  );
}

export function resetPage(v: FormPage & { action: string }): string {
  return page(
    v.productName,
    'Choose a new password',
    html`<h1>Choose a new password</h1>
${alert(v.error)}
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="pw-hint" autofocus>
  <p class="hint" id="pw-hint">8 to 128 characters. Saving it signs you out everywhere.</p>
  <button type="submit">Save new password</button>
</form>`,
  );
}

/** The page an email link's GET shows: nothing happens until the person clicks the button (mail scanners do not). */
export function confirmLinkPage(v: FormPage & { action: string; title: string; explanation: string; button: string }): string {
  return page(
    v.productName,
    v.title,
    html`<h1>${v.title}</h1><p>${v.explanation}</p>
<form method="post" action="${v.action}">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="submit">${v.button}</button>
</form>`,
  );
}

export interface AccountView {
  productName: string;
  csrfToken: string;
  notice?: string | null;
  error?: string | null;
  user: { email: string; name: string | null; emailVerified: boolean; org: string | null; role: string };
  sessions: { id: string; device: string; ip: string; location: string; lastSeen: string; created: string; current: boolean }[];
  events: { at: string; description: string; ip: string; location: string; outcome: string }[];
  passkeys: { id: string; name: string; created: string; lastUsed: string; synced: boolean }[] | null;
  twoFactor: { enrolled: boolean; recoveryCodesLeft: number };
  /** Devices signed in from within the remember window, most recent first; `name` reads "Chrome on Windows". */
  devices: { id: string; name: string; lastSeen: string; ip: string; location: string; current: boolean }[];
}

function devicesSection(devices: AccountView['devices'], csrf: SafeHtml): SafeHtml {
  // Each button's accessible name says which device it forgets; two devices of the same kind also get their time.
  const forgetLabel = (d: AccountView['devices'][number]): string => {
    if (d.current) return `${d.name} (this device)`;
    return devices.filter((o) => o.name === d.name).length > 1 ? `${d.name}, last sign-in ${d.lastSeen}` : d.name;
  };
  return html`<section aria-labelledby="devices-h">
<h2 id="devices-h">Devices you have signed in from</h2>
${
  devices.length === 0
    ? html`<p>No devices are remembered for your account.</p>`
    : html`<p class="muted">Forgetting a device means the next sign-in from it is treated as a new device: you may get an email about it, and unusual sign-ins from it may be stopped.</p>
<table class="list"><thead><tr><th scope="col">Device</th><th scope="col">Last IP and location</th><th scope="col">Last sign-in</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${devices.map(
  (d) => html`<tr><td>${d.name}${d.current ? html` <span class="badge">This device</span>` : ''}</td><td>${d.ip}<br><span class="muted">${d.location}</span></td><td>${d.lastSeen}</td>
<td><form method="post" action="/account/devices/${d.id}/forget" class="inline-form">${csrf}<button type="submit" class="secondary">Forget<span class="visually-hidden"> ${forgetLabel(d)}</span></button></form></td></tr>`,
)}
</tbody></table>
${devices.length > 1 ? html`<form method="post" action="/account/devices/forget-all">${csrf}<button type="submit" class="secondary">Forget all devices</button></form>` : ''}`
}
</section>`;
}

export function totpEnrollPage(v: { productName: string; csrfToken: string; qrSvg: string; secret: string; error?: string | null }): string {
  return page(
    v.productName,
    'Set up two-step verification',
    html`<h1>Set up two-step verification</h1>
<ol>
  <li>Open your authenticator app (for example Google Authenticator, 1Password or Microsoft Authenticator) and scan this code.</li>
  <li>Enter the 6-digit code the app shows.</li>
</ol>
<div class="qr" role="img" aria-label="QR code for your authenticator app">${trusted(v.qrSvg)}</div>
<p>Cannot scan? Enter this key by hand: <code class="secret">${v.secret}</code></p>
${alert(v.error)}
<form method="post" action="/account/2fa/confirm" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="code">Code from the app</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10" autofocus>
  <button type="submit">Turn on two-step verification</button>
</form>`,
  );
}

export function recoveryCodesPage(v: { productName: string; codes: string[]; heading: string }): string {
  return page(
    v.productName,
    v.heading,
    html`<h1>${v.heading}</h1>
<div class="alert info" role="status">Save these recovery codes somewhere safe, such as your password manager. Each works once, if you lose your authenticator app. They are shown only now.</div>
<ul class="codes" aria-label="Recovery codes">${v.codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
<a class="button" href="/account">I have saved them</a>`,
  );
}

export function confirmDeletePasskeyPage(v: { productName: string; csrfToken: string; id: string; name: string }): string {
  return page(
    v.productName,
    'Delete passkey',
    html`<h1>Delete this passkey?</h1>
<p>You will no longer be able to sign in with <strong>${v.name}</strong>. Your other passkeys and your password keep working.</p>
<form method="post" action="/account/passkeys/${v.id}/delete">
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <button type="submit">Delete passkey</button>
</form>
<a class="button secondary" href="/account">Cancel</a>`,
  );
}

export function accountPage(v: AccountView): string {
  const csrf = html`<input type="hidden" name="csrf" value="${v.csrfToken}">`;
  return layout({
    productName: v.productName,
    title: 'Your account',
    wide: true,
    sessionTimer: true,
    scripts: v.passkeys ? ['/assets/passkeys.js'] : [],
    body: 
    html`<h1>Your account</h1>
${alert(v.error)}${alert(v.notice, 'info')}
<section aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
<dl class="claims">
  <dt>Email</dt><dd>${v.user.email} ${v.user.emailVerified ? html`<span class="badge">verified</span>` : html`<span class="badge">not verified</span>`}</dd>
  ${v.user.org ? html`<dt>Organization</dt><dd>${v.user.org} (${v.user.role})</dd>` : ''}
</dl>
<form method="post" action="/account/profile">${csrf}
  <label for="name">Name</label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${v.user.name ?? ''}">
  <button type="submit" class="secondary">Save name</button>
</form>
</section>
<section aria-labelledby="password-h">
<h2 id="password-h">Change password</h2>
<form method="post" action="/account/password" novalidate>${csrf}
  <label for="current-password">Current password</label>
  <input id="current-password" name="current" type="password" autocomplete="current-password" required maxlength="1024">
  <label for="new-password">New password</label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="new-pw-hint">
  <p class="hint" id="new-pw-hint">8 to 128 characters. Your other sessions will be signed out.</p>
  <button type="submit">Change password</button>
</form>
</section>
<section aria-labelledby="email-h">
<h2 id="email-h">Change email</h2>
<form method="post" action="/account/email" novalidate>${csrf}
  <label for="new-email">New email</label>
  <input id="new-email" name="email" type="email" autocomplete="email" required maxlength="320">
  <label for="email-password">Current password</label>
  <input id="email-password" name="current" type="password" autocomplete="current-password" required maxlength="1024">
  <p class="hint">We send a confirmation link to the new address; nothing changes until you use it.</p>
  <button type="submit" class="secondary">Send confirmation link</button>
</form>
</section>
${
  v.passkeys
    ? html`<section aria-labelledby="passkeys-h">
<h2 id="passkeys-h">Passkeys</h2>
<p class="muted">Sign in with your fingerprint, face or screen lock instead of a password. Synced passkeys are copied to your other devices by your passkey provider.</p>
${
  v.passkeys.length === 0
    ? html`<p>You have no passkeys yet.</p>`
    : html`<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${v.passkeys.map(
  (p) => html`<tr><td><form method="post" action="/account/passkeys/${p.id}/rename" class="inline-form">${csrf}<label class="visually-hidden" for="pk-${p.id}">Name of passkey ${p.name}</label><input id="pk-${p.id}" name="name" type="text" maxlength="64" value="${p.name}" class="inline"> <button type="submit" class="secondary">Rename</button></form>
${p.synced ? html` <span class="badge">synced</span>` : html` <span class="badge">this device only</span>`}</td><td>${p.created}</td><td>${p.lastUsed}</td>
<td><a class="button secondary small" href="/account/passkeys/${p.id}/delete">Delete</a></td></tr>`,
)}
</tbody></table>`
}
<button type="button" id="create-passkey" data-options-url="/account/passkeys/options" data-verify-url="/account/passkeys/verify" data-csrf="${v.csrfToken}">Add a passkey</button>
<div id="passkey-status" role="status" aria-live="polite"></div>
</section>`
    : ''
}
<section aria-labelledby="mfa-h">
<h2 id="mfa-h">Two-step verification</h2>
${
  v.twoFactor.enrolled
    ? html`<p><span class="badge">on</span> Signing in with your password also asks for a code from your authenticator app. ${v.twoFactor.recoveryCodesLeft} recovery code${v.twoFactor.recoveryCodesLeft === 1 ? '' : 's'} left.</p>
<form method="post" action="/account/2fa/recovery-codes" novalidate>${csrf}
  <label for="regen-code">Code from your authenticator app</label>
  <input id="regen-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10">
  <button type="submit" class="secondary">Make new recovery codes</button>
</form>`
    : html`<p>Add a second step to password sign-ins: a 6-digit code from an authenticator app. Passkeys already include it.</p>
<form method="post" action="/account/2fa/start" novalidate>${csrf}
  <label for="mfa-password">Current password</label>
  <input id="mfa-password" name="current" type="password" autocomplete="current-password" maxlength="1024">
  <button type="submit">Set up an authenticator app</button>
</form>`
}
</section>
<section aria-labelledby="sessions-h">
<h2 id="sessions-h">Active sessions</h2>
<table class="list"><thead><tr><th scope="col">Device</th><th scope="col">IP and location</th><th scope="col">Last seen</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>
${v.sessions.map(
  (s) => html`<tr><td>${s.device}${s.current ? html` <span class="badge">this browser</span>` : ''}</td><td>${s.ip}<br><span class="muted">${s.location}</span></td><td>${s.lastSeen}</td>
<td><form method="post" action="/account/sessions/${s.id}/revoke" class="inline-form">${csrf}<button type="submit" class="secondary">Log out</button></form></td></tr>`,
)}
</tbody></table>
<form method="post" action="/account/sessions/revoke-all">${csrf}<button type="submit" class="secondary">Log out everywhere</button></form>
</section>
${devicesSection(v.devices, csrf)}
<section aria-labelledby="activity-h">
<h2 id="activity-h">Recent security activity</h2>
<table class="list"><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">IP and location</th></tr></thead><tbody>
${v.events.map((e) => html`<tr><td>${e.at}</td><td>${e.description}</td><td>${e.ip}${e.location ? html`<br><span class="muted">${e.location}</span>` : ''}</td></tr>`)}
</tbody></table>
</section>
<form method="post" action="/logout">${csrf}<button type="submit" class="secondary">Sign out</button></form>`,
  });
}
