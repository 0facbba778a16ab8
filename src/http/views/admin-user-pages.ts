// The admin console's user pages: the searchable user list with its create form, and one user's detail page.
import type { UserDetail, UserSummary } from '../../admin/admin-service.js';
import type { BlockedPair } from '../../admin/protection.js';
import { html, type SafeHtml } from './html.js';
import { alert } from './layout.js';
import { describeDevice } from '../describe-device.js';
import { consoleLayout, csrfInput, when, type ActorNames, type ConsoleFrame } from './admin-layout.js';
import { eventsTable } from './admin-event-pages.js';

export interface UsersView {
  csrfToken: string;
  notice: string | null;
  error: string | null;
  query: string;
  users: UserSummary[];
  total: number;
  offset: number;
  limit: number;
  orgNames: ReadonlyMap<string, string>;
  operator: boolean;
  orgName: string | null;
  form: { email: string; name: string; role: string; orgId: string };
}

export function userBadges(u: Pick<UserSummary, 'operator' | 'disabled' | 'emailVerified' | 'role' | 'orgId'>): SafeHtml {
  return html`${u.operator ? html` <span class="badge">operator</span>` : ''}${u.role === 'admin' && u.orgId ? html` <span class="badge">org admin</span>` : ''}${
    u.disabled ? html` <span class="badge badge-danger">disabled</span>` : ''
  }${u.emailVerified ? '' : html` <span class="badge badge-warn">email not verified</span>`}`;
}

function usersHref(query: string, offset: number): string {
  const params = new URLSearchParams();
  if (query) params.set('q', query);
  if (offset > 0) params.set('offset', String(offset));
  const s = params.toString();
  return s ? `/admin/users?${s}` : '/admin/users';
}

export function usersPage(frame: ConsoleFrame, v: UsersView): string {
  const from = v.total === 0 ? 0 : v.offset + 1;
  const to = Math.min(v.offset + v.users.length, v.total);
  const f = v.form;
  return consoleLayout(
    frame,
    'Users',
    html`<h1>Users</h1>
${alert(v.error)}${alert(v.notice, 'info')}
<form method="get" action="/admin/users" class="filters" role="search">
  <div class="field grow"><label for="q">Search by email or name</label><input id="q" name="q" type="search" maxlength="200" value="${v.query}"></div>
  <div class="field actions"><button type="submit">Search</button>${v.query ? html` <a href="/admin/users">Clear</a>` : ''}</div>
</form>
<p class="results-count" role="status">${v.total === 0 ? (v.query ? `No users match "${v.query}".` : 'No users yet.') : `Showing ${from}–${to} of ${v.total} user${v.total === 1 ? '' : 's'}${v.query ? ` matching "${v.query}"` : ''}.`}</p>
${
  v.users.length
    ? html`<div class="table-scroll"><table class="list" id="users">
<caption class="visually-hidden">Users</caption>
<thead><tr><th scope="col">Email</th><th scope="col">Name</th>${v.operator ? html`<th scope="col">Organization</th>` : ''}<th scope="col">Role</th><th scope="col">Created</th></tr></thead>
<tbody>
${v.users.map(
  (u) => html`<tr><th scope="row"><a href="/admin/users/${u.id}">${u.email}</a>${userBadges(u)}</th><td>${u.name ?? html`<span class="muted">—</span>`}</td>${
    v.operator ? html`<td>${u.orgId ? (v.orgNames.get(u.orgId) ?? html`<code>${u.orgId}</code>`) : html`<span class="muted">none</span>`}</td>` : ''
  }<td>${u.role}</td><td>${when(u.createdAt)}</td></tr>`,
)}
</tbody></table></div>`
    : ''
}
${
  v.total > v.limit
    ? html`<nav class="pager" aria-label="Pages of users">${v.offset > 0 ? html`<a href="${usersHref(v.query, Math.max(v.offset - v.limit, 0))}" rel="prev">← Previous page</a>` : html`<span></span>`}${
        v.offset + v.limit < v.total ? html`<a href="${usersHref(v.query, v.offset + v.limit)}" rel="next">Next page →</a>` : ''
      }</nav>`
    : ''
}
<section aria-labelledby="create-h" class="console-section">
<h2 id="create-h">Create a user</h2>
${v.orgName ? html`<p class="muted">New users join your organization, ${v.orgName}.</p>` : ''}
<form method="post" action="/admin/users" class="stacked" novalidate>${csrfInput(v.csrfToken)}
  <label for="new-email">Email</label>
  <input id="new-email" name="email" type="email" autocomplete="off" required maxlength="320" value="${f.email}">
  <label for="new-name">Name <span class="muted">(optional)</span></label>
  <input id="new-name" name="name" type="text" autocomplete="off" maxlength="100" value="${f.name}">
  <label for="new-password">Password <span class="muted">(optional)</span></label>
  <input id="new-password" name="password" type="password" autocomplete="new-password" maxlength="128" aria-describedby="new-password-hint">
  <p class="hint" id="new-password-hint">8 to 128 characters. Leave it empty and the user sets one with "Forgot your password?". The email counts as verified.</p>
  ${
    v.operator
      ? html`<label for="new-org">Organization ID <span class="muted">(optional)</span></label>
  <input id="new-org" name="orgId" type="text" autocomplete="off" maxlength="64" value="${f.orgId}" aria-describedby="new-org-hint">
  <p class="hint" id="new-org-hint">Empty: the user belongs to no organization. The ID is shown on the page of any member.</p>`
      : ''
  }
  <label for="new-role">Role</label>
  <select id="new-role" name="role" aria-describedby="new-role-hint">
    <option value="member"${f.role !== 'admin' ? html` selected` : ''}>Member</option>
    <option value="admin"${f.role === 'admin' ? html` selected` : ''}>Organization admin</option>
  </select>
  <p class="hint" id="new-role-hint">Organization admins can use this console for their organization.</p>
  <button type="submit">Create user</button>
</form>
</section>`,
  );
}

export interface UserDetailView {
  csrfToken: string;
  notice: string | null;
  error: string | null;
  detail: UserDetail;
  /** Brute-force blocks on this user's email. */
  blocks: BlockedPair[];
  self: boolean;
  actors: ActorNames;
}

export function userDetailPage(frame: ConsoleFrame, v: UserDetailView): string {
  const { user, org, twoFactor, passkeys, sessions, devices, events } = v.detail;
  const base = `/admin/users/${user.id}`;
  const csrf = csrfInput(v.csrfToken);
  return consoleLayout(
    frame,
    user.email,
    html`<p class="breadcrumb"><a href="/admin/users">Users</a> ›</p>
<h1>${user.email}${userBadges(user)}</h1>
${alert(v.error)}${alert(v.notice, 'info')}
<section aria-labelledby="profile-h" class="console-section">
<h2 id="profile-h">Profile</h2>
<dl class="claims">
  <dt>Name</dt><dd>${user.name ?? html`<span class="muted">not set</span>`}</dd>
  <dt>Email</dt><dd>${user.email} ${user.emailVerified ? html`<span class="badge">verified</span>` : html`<span class="badge badge-warn">not verified</span>`}</dd>
  <dt>Organization</dt><dd>${org ? html`${org.name} <span class="muted">(ID <code>${org.id}</code>)</span>` : html`<span class="muted">none</span>`}</dd>
  <dt>Role</dt><dd>${user.role === 'admin' ? 'Organization admin' : 'Member'}</dd>
  <dt>Operator</dt><dd>${user.operator ? 'Yes: can administer the whole installation' : 'No'}</dd>
  <dt>Status</dt><dd>${user.disabled ? html`<strong>Disabled</strong>: cannot sign in` : 'Active'}</dd>
  <dt>Created</dt><dd>${when(user.createdAt)}</dd>
  <dt>Last changed</dt><dd>${when(user.updatedAt)}</dd>
  <dt>User ID</dt><dd><code>${user.id}</code></dd>
</dl>
</section>
<section aria-labelledby="actions-h" class="console-section">
<h2 id="actions-h">Actions</h2>
${v.self ? html`<p class="muted">This is your own account: you cannot disable or delete it here.</p>` : ''}
<div class="action-list">
<div class="action">
  <h3>Sign-in blocks</h3>
  ${
    v.blocks.length
      ? html`<p>Blocked after wrong passwords from: ${v.blocks.map((b, i) => html`${i ? ', ' : ''}<strong>${b.ipKey}</strong> (${b.failures} failures, until ${when(b.blockedUntil)})`)}.</p>`
      : html`<p class="muted">No block right now.</p>`
  }
  <form method="post" action="${base}/unblock">${csrf}<button type="submit" class="secondary">Unblock from all IPs</button></form>
  <p class="hint">Lifts every brute-force block on ${user.email}, from every IP.</p>
</div>
<div class="action">
  <h3>Two-step verification</h3>
  <p>${twoFactor.totp ? html`<span class="badge">on</span> Authenticator app, ${twoFactor.recoveryCodesLeft} recovery code${twoFactor.recoveryCodesLeft === 1 ? '' : 's'} left.` : html`<span class="badge badge-muted">off</span> No authenticator app${twoFactor.recoveryCodesLeft ? html`, ${twoFactor.recoveryCodesLeft} recovery codes left` : ''}.`}</p>
  ${twoFactor.totp || twoFactor.recoveryCodesLeft > 0 ? html`<a class="button secondary small" href="${base}/reset-2fa">Reset two-step verification…</a><p class="hint">Removes the authenticator app and recovery codes. Passkeys are kept.</p>` : ''}
</div>
<div class="action">
  <h3>Account status</h3>
  ${
    user.disabled
      ? html`<form method="post" action="${base}/enable">${csrf}<button type="submit" class="secondary">Enable account</button></form>`
      : v.self
        ? html`<p class="muted">Active.</p>`
        : html`<a class="button secondary small" href="${base}/disable">Disable account…</a><p class="hint">Ends every session and refuses sign-ins until enabled again.</p>`
  }
</div>
${
  v.self
    ? ''
    : html`<div class="action">
  <h3>Delete</h3>
  <a class="button danger small" href="${base}/delete">Delete user…</a>
  <p class="hint">Permanent. Security events are kept.</p>
</div>`
}
</div>
</section>
<section aria-labelledby="sessions-h" class="console-section">
<h2 id="sessions-h">Active sessions</h2>
${
  sessions.length === 0
    ? html`<p class="muted">No active sessions.</p>`
    : html`<div class="table-scroll"><table class="list" id="sessions"><caption class="visually-hidden">Active sessions of ${user.email}</caption>
<thead><tr><th scope="col">Device</th><th scope="col">IP and location</th><th scope="col">Started</th><th scope="col">Last seen</th><th scope="col">Ends</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>
${sessions.map(
  (s) => html`<tr><th scope="row">${describeDevice(s.userAgent)}</th><td>${s.ip ?? 'unknown'}<br><span class="muted">${s.location}</span></td><td>${when(s.createdAt)}</td><td>${when(s.lastSeenAt)}</td><td>${when(s.expiresAt)}</td>
<td><a class="button secondary small" href="${base}/sessions/${s.id}/revoke">End<span class="visually-hidden"> the session on ${describeDevice(s.userAgent)} from ${s.ip ?? 'unknown IP'}</span>…</a></td></tr>`,
)}
</tbody></table></div>
<p><a class="button secondary small" href="${base}/sessions/revoke-all">End all sessions…</a></p>`
}
</section>
<section aria-labelledby="passkeys-h" class="console-section">
<h2 id="passkeys-h">Passkeys</h2>
${
  passkeys.length === 0
    ? html`<p class="muted">No passkeys.</p>`
    : html`<div class="table-scroll"><table class="list" id="passkeys"><caption class="visually-hidden">Passkeys of ${user.email}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>
${passkeys.map(
  (p) => html`<tr><th scope="row">${p.name} ${p.synced ? html`<span class="badge">synced</span>` : html`<span class="badge badge-muted">this device only</span>`}</th><td>${when(p.createdAt)}</td><td>${p.lastUsedAt ? when(p.lastUsedAt) : 'never'}</td>
<td><a class="button secondary small" href="${base}/passkeys/remove?credential=${encodeURIComponent(p.credentialId)}">Remove<span class="visually-hidden"> passkey ${p.name}</span>…</a></td></tr>`,
)}
</tbody></table></div>`
}
</section>
<section aria-labelledby="devices-h" class="console-section">
<h2 id="devices-h">Known devices</h2>
${
  devices.length === 0
    ? html`<p class="muted">No remembered devices.</p>`
    : html`<div class="table-scroll"><table class="list" id="devices"><caption class="visually-hidden">Devices ${user.email} signed in from</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Last IP and location</th><th scope="col">First seen</th><th scope="col">Last sign-in</th></tr></thead><tbody>
${devices.map(
  (d) => html`<tr><th scope="row">${d.browser ?? 'Unknown browser'}${d.os ? ` on ${d.os}` : ''}</th><td>${d.lastIp ?? 'unknown'}<br><span class="muted">${d.lastLocation ?? 'Unknown location'}</span></td><td>${when(d.firstSeenAt)}</td><td>${when(d.lastSeenAt)}</td></tr>`,
)}
</tbody></table></div>`
}
</section>
<section aria-labelledby="events-h" class="console-section">
<h2 id="events-h">Recent events</h2>
${eventsTable(events, v.actors, { caption: `Recent events of ${user.email}`, showUser: false })}
<p><a href="/admin/events?user=${encodeURIComponent(user.id)}">All events of this user</a></p>
</section>`,
  );
}
