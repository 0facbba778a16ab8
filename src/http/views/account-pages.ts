// Pages for sign-up, email links, password reset and the account page.
import { alert, layout } from './layout.js';
import { html, type SafeHtml } from './html.js';

interface FormPage {
  productName: string;
  csrfToken: string;
  error?: string | null;
}

const page = (productName: string, title: string, body: SafeHtml, wide = false): string => layout({ title, productName, body, wide });

export function signupPage(v: FormPage & { email?: string; name?: string }): string {
  return page(
    v.productName,
    'Create an account',
    html`<h1>Create an account</h1>
${alert(v.error)}
<form method="post" action="/signup" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${v.name ?? ''}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${v.email ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">8 to 128 characters. A long passphrase is best; no special characters needed.</p>
  <button type="submit">Create account</button>
</form>
<p class="links">Already have an account? <a href="/account">Sign in</a></p>`,
  );
}

export function checkEmailPage(productName: string, message: string): string {
  return page(productName, 'Check your email', html`<h1>Check your email</h1><div class="alert info" role="status">${message}</div><p class="muted">The email can take a minute to arrive. Look in your spam folder too.</p>`);
}

export function forgotPage(v: FormPage & { email?: string }): string {
  return page(
    v.productName,
    'Reset your password',
    html`<h1>Reset your password</h1>
<p class="lead">Enter your account's email address and we will send you a link to choose a new password.</p>
${alert(v.error)}
<form method="post" action="/password/forgot" novalidate>
  <input type="hidden" name="csrf" value="${v.csrfToken}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${v.email ?? ''}">
  <button type="submit">Send reset link</button>
</form>`,
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
  events: { at: string; description: string; ip: string; outcome: string }[];
}

export function accountPage(v: AccountView): string {
  const csrf = html`<input type="hidden" name="csrf" value="${v.csrfToken}">`;
  return page(
    v.productName,
    'Your account',
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
<section aria-labelledby="activity-h">
<h2 id="activity-h">Recent security activity</h2>
<table class="list"><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">IP</th></tr></thead><tbody>
${v.events.map((e) => html`<tr><td>${e.at}</td><td>${e.description}</td><td>${e.ip}</td></tr>`)}
</tbody></table>
</section>
<form method="post" action="/logout">${csrf}<button type="submit" class="secondary">Sign out</button></form>`,
    true,
  );
}
