// The admin console's pages: its own shell (a nav bar instead of the centred card), tables with row and column
// headers, and every chart backed by text. No inline script or style; every value goes through html`` escaping.
import { formatUtc } from '../../domain/format-time.js';
import { EVENT_CODES, type SecurityEvent } from '../../events/event-codes.js';
import type { UserDetail, UserSummary } from '../../admin/admin-service.js';
import type { BlockedPair, ThrottledIp } from '../../admin/protection.js';
import type { SettingsRecord } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { alert, layout } from './layout.js';
import { chartSvg, type Bucket } from './admin-charts.js';
import { describeDevice } from '../describe-device.js';

export type ConsoleSection = 'dashboard' | 'users' | 'events' | 'settings' | 'webhooks' | null;

/** What every console page shows around its content. */
export interface ConsoleFrame {
  productName: string;
  me: { id: string; email: string };
  kind: 'operator' | 'org_admin';
  /** The organization an organization admin is confined to. */
  org: { id: string; name: string } | null;
  showWebhooks: boolean;
  current: ConsoleSection;
  /** The /logout form's token (scope 'account'). */
  logoutCsrf: string;
}

/** Email addresses of "user:<id>" actors, for showing who did what. */
export type ActorNames = ReadonlyMap<string, string>;

const NAV: { key: Exclude<ConsoleSection, null>; href: string; label: string; show(frame: ConsoleFrame): boolean }[] = [
  { key: 'dashboard', href: '/admin', label: 'Dashboard', show: () => true },
  { key: 'users', href: '/admin/users', label: 'Users', show: () => true },
  { key: 'events', href: '/admin/events', label: 'Events', show: () => true },
  { key: 'settings', href: '/admin/settings', label: 'Settings', show: (f) => f.kind === 'operator' },
  { key: 'webhooks', href: '/admin/webhooks', label: 'Webhooks', show: (f) => f.showWebhooks },
];

export function consoleLayout(frame: ConsoleFrame, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Admin · ${frame.productName}</title>
<link rel="stylesheet" href="/assets/portcullis.css">
</head>
<body class="console">
<a class="skip" href="#main">Skip to content</a>
<header class="console-header" role="banner">
<div class="console-bar">
<a class="console-brand" href="/admin"><span class="logo" aria-hidden="true">▥</span> ${frame.productName} <span class="console-brand-sub">Admin</span></a>
<nav aria-label="Admin console"><ul class="console-nav">
${NAV.filter((item) => item.show(frame)).map(
  (item) => html`<li><a href="${item.href}"${item.key === frame.current ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
)}
</ul></nav>
<div class="console-who">
<span>Signed in as <strong>${frame.me.email}</strong> <span class="badge">${frame.kind === 'operator' ? 'Operator' : 'Organization admin'}</span></span>
<a href="/account">Your account</a>
<form method="post" action="/logout" class="inline-form"><input type="hidden" name="csrf" value="${frame.logoutCsrf}"><button type="submit" class="link-button">Sign out</button></form>
</div>
</div>
${
  frame.org
    ? html`<p class="console-scope" id="console-scope">Organization: <strong>${frame.org.name}</strong>. You see and manage only this organization's users and their events.</p>`
    : ''
}
</header>
<main id="main" class="console-main">
${body}
</main>
<footer class="foot">Protected by ${frame.productName}</footer>
</body>
</html>`.value;
}

/** For a signed-in user who is neither an operator nor an organization admin. */
export function noAccessPage(productName: string, email: string): string {
  return layout({
    title: 'No access',
    productName,
    body: html`<h1>No access to the admin console</h1>
<div class="alert error" role="alert">You are signed in as ${email}, which is not an administrator account. Only operators and organization admins can use the admin console.</div>
<a class="button secondary" href="/account">Go to your account</a>`,
  });
}

export function consoleErrorPage(frame: ConsoleFrame, status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 409 ? 'Conflict' : 'Could not do that';
  return consoleLayout(
    frame,
    title,
    html`<h1>${title}</h1>
<div class="alert error" role="alert">${message}</div>
${status === 403 && frame.current === 'settings' ? html`<p>Attack-protection settings apply to the whole installation, so only operators can see or change them. Ask an operator if a setting needs to change.</p>` : ''}
<p><a href="/admin">Back to the dashboard</a></p>`,
  );
}

// ---- Shared pieces -------------------------------------------------------------------------------------------------

const csrfInput = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;
const when = (ms: number | null | undefined): string => (ms ? formatUtc(ms) : '—');

/** Option docs use `backticks` for code; they become <code> (escaped like everything else). */
export function docText(text: string): SafeHtml {
  return html`${text.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part))}`;
}

export const describeCode = (code: string): string => (EVENT_CODES as Record<string, { description: string }>)[code]?.description ?? code;

function humanKey(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_.]/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function formatValue(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (/(until|At|_at)$/.test(key) && value > 1e12) return formatUtc(value);
    return value.toLocaleString('en-US');
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.length ? value.map(String).join(', ') : '—';
  return JSON.stringify(value);
}

function actorLink(actor: unknown, actors: ActorNames): SafeHtml | string {
  if (typeof actor !== 'string') return '—';
  const match = /^user:([A-Za-z0-9_-]{1,64})$/.exec(actor);
  if (!match) return actor;
  const email = actors.get(actor);
  return html`<a href="/admin/users/${match[1]}">${email ?? actor}</a>`;
}

/** details as a definition list: keys humanized, values formatted, everything escaped. */
function keyValues(details: Record<string, unknown>, skip: readonly string[], actors: ActorNames): SafeHtml {
  const entries = Object.entries(details).filter(([k]) => !skip.includes(k));
  if (entries.length === 0) return html``;
  return html`<dl class="kv">${entries.map(
    ([k, v]) => html`<dt>${humanKey(k)}</dt><dd>${k === 'actor' || k === 'adminUserId' ? actorLink(v, actors) : formatValue(k, v)}</dd>`,
  )}</dl>`;
}

const RISK_CODES = new Set(['risk_blocked', 'risk_mfa', 'risk_logged']);

interface FindingLike {
  code?: unknown;
  fired?: unknown;
  confidence?: unknown;
  evidence?: unknown;
}

/** The decision and why: risk verdicts as sentences and per-assessor findings, everything else as its signals. */
export function eventWhy(e: SecurityEvent, actors: ActorNames): SafeHtml {
  const d = e.details ?? {};
  if (RISK_CODES.has(e.code)) {
    const reasons = Array.isArray(d.reasons) ? d.reasons.filter((r): r is string => typeof r === 'string') : [];
    const matched = Array.isArray(d.matched) ? d.matched.map(String) : [];
    const findings = Array.isArray(d.findings) ? (d.findings as FindingLike[]) : [];
    return html`<p class="why-decision">Decision: <strong>${typeof d.action === 'string' ? d.action.replace('_', ' ') : e.code}</strong>${matched.length ? html` (rule ${matched.join('; ')})` : ''}</p>
${reasons.length ? html`<ul class="why-reasons">${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html`<p class="muted">No assessor fired.</p>`}
${
  findings.length
    ? html`<details class="why-more"><summary>Findings of each check</summary>
<table class="list compact"><thead><tr><th scope="col">Check</th><th scope="col">Fired</th><th scope="col">Confidence</th><th scope="col">Evidence</th></tr></thead><tbody>
${findings.map(
  (f) => html`<tr><th scope="row">${String(f.code ?? '?')}</th><td>${f.fired === true ? 'yes' : 'no'}</td><td>${String(f.confidence ?? '—')}</td><td>${
    f.evidence && typeof f.evidence === 'object' ? keyValues(f.evidence as Record<string, unknown>, [], actors) : '—'
  }</td></tr>`,
)}
</tbody></table>
${keyValues(d, ['reasons', 'matched', 'findings', 'action'], actors)}
</details>`
    : keyValues(d, ['reasons', 'matched', 'findings', 'action'], actors)
}`;
  }
  return html`${e.reason ? html`<p class="why-decision">Reason: <code>${e.reason}</code></p>` : ''}${keyValues(d, [], actors)}`;
}

function userCell(e: SecurityEvent): SafeHtml | string {
  const label = e.identifier ?? e.userId;
  if (!label) return html`<span class="muted">—</span>`;
  return e.userId ? html`<a href="/admin/users/${e.userId}">${label}</a>` : label;
}

const outcomeBadge = (outcome: string) => html`<span class="badge outcome-${outcome}">${outcome}</span>`;

export function eventsTable(events: readonly SecurityEvent[], actors: ActorNames, options: { caption: string; showUser?: boolean }): SafeHtml {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  const showUser = options.showUser ?? true;
  return html`<div class="table-scroll"><table class="list events">
<caption class="visually-hidden">${options.caption}</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th>${showUser ? html`<th scope="col">User</th>` : ''}<th scope="col">IP</th><th scope="col">Outcome</th><th scope="col">Decision and why</th></tr></thead>
<tbody>
${events.map(
  (e) => html`<tr id="event-${e.id}"><td class="nowrap">${formatUtc(e.at)}</td><th scope="row" class="event-name">${describeCode(e.code)}<br><code class="muted">${e.code}</code></th>${
    showUser ? html`<td>${userCell(e)}</td>` : ''
  }<td>${e.ip ? html`<a href="/admin/events?ip=${encodeURIComponent(e.ip)}">${e.ip}</a>` : html`<span class="muted">—</span>`}</td><td>${outcomeBadge(e.outcome)}</td><td class="why">${eventWhy(e, actors)}</td></tr>`,
)}
</tbody></table></div>`;
}

// ---- Dashboard -----------------------------------------------------------------------------------------------------

export interface ChartSeriesView {
  key: string;
  label: string;
  buckets: Bucket[];
  total: number;
}

export interface ChartWindowView {
  key: 'day' | 'month';
  heading: string;
  /** "in the last 24 hours" */
  span: string;
  kind: 'bar' | 'line';
  tickEvery: number;
  tickLabel(start: number): string;
  pointLabel(start: number): string;
  series: ChartSeriesView[];
}

export interface DashboardView {
  csrfToken: string;
  notice: string | null;
  error: string | null;
  windows: ChartWindowView[];
  blocks: BlockedPair[];
  throttled: ThrottledIp[];
  suspicious: SecurityEvent[];
  actors: ActorNames;
  operator: boolean;
}

function chartFigure(w: ChartWindowView, s: ChartSeriesView): SafeHtml {
  const peak = s.buckets.reduce<Bucket | null>((best, b) => (b.count > 0 && (!best || b.count > best.count) ? b : best), null);
  const summary = `${s.total.toLocaleString('en-US')} ${w.span}${peak ? `; the most, ${peak.count.toLocaleString('en-US')}, at ${w.pointLabel(peak.start)}` : ''}.`;
  const id = `chart-${w.key}-${s.key}`;
  return html`<figure class="chart-card" data-series="${s.key}" data-window="${w.key}" data-total="${s.total}">
<figcaption><span class="chart-name">${s.label}</span> <span class="chart-total">${s.total.toLocaleString('en-US')}</span></figcaption>
${chartSvg({ id, title: `${s.label} ${w.span}`, description: summary, buckets: s.buckets, kind: w.kind, tickEvery: w.tickEvery, tickLabel: w.tickLabel, pointLabel: w.pointLabel, seriesClass: `series-${s.key}` })}
</figure>`;
}

function chartTable(w: ChartWindowView): SafeHtml {
  const first = w.series[0];
  if (!first) return html``;
  return html`<details class="chart-data"><summary>${w.heading}: the numbers as a table</summary>
<div class="table-scroll"><table class="list compact">
<caption class="visually-hidden">Events per ${w.key === 'day' ? 'hour' : 'day'}, ${w.span}</caption>
<thead><tr><th scope="col">${w.key === 'day' ? 'Hour (UTC)' : 'Day (UTC)'}</th>${w.series.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}</tr></thead>
<tbody>${first.buckets.map(
    (b, i) => html`<tr><th scope="row">${w.pointLabel(b.start)}</th>${w.series.map((s) => html`<td class="num">${s.buckets[i]?.count ?? 0}</td>`)}</tr>`,
  )}</tbody>
<tfoot><tr><th scope="row">Total</th>${w.series.map((s) => html`<td class="num">${s.total}</td>`)}</tr></tfoot>
</table></div></details>`;
}

export function blocksTable(blocks: readonly BlockedPair[], csrfToken: string, options: { linkUsers: boolean }): SafeHtml {
  if (blocks.length === 0) return html`<p class="muted" id="no-blocks">No account is blocked from any IP right now.</p>`;
  return html`<div class="table-scroll"><table class="list" id="blocks">
<caption class="visually-hidden">Accounts blocked from an IP after repeated wrong passwords</caption>
<thead><tr><th scope="col">Account</th><th scope="col">From IP</th><th scope="col" class="num">Failures</th><th scope="col">Last failure</th><th scope="col">Blocked until</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${blocks.map(
  (b) => html`<tr><th scope="row">${options.linkUsers ? html`<a href="/admin/users?q=${encodeURIComponent(b.identifier)}">${b.identifier}</a>` : b.identifier}</th><td>${b.ipKey}</td><td class="num">${b.failures}</td><td>${when(b.lastFailureAt)}</td><td>${when(b.blockedUntil)}</td>
<td><form method="post" action="/admin/blocks/unblock" class="inline-form">${csrfInput(csrfToken)}<input type="hidden" name="identifier" value="${b.identifier}"><input type="hidden" name="ip" value="${b.ipKey}"><button type="submit" class="secondary small">Unblock<span class="visually-hidden"> ${b.identifier} from ${b.ipKey}</span></button></form></td></tr>`,
)}
</tbody></table></div>`;
}

export function dashboardPage(frame: ConsoleFrame, v: DashboardView): string {
  return consoleLayout(
    frame,
    'Dashboard',
    html`<h1>Dashboard</h1>
${alert(v.error)}${alert(v.notice, 'info')}
${v.windows.map(
  (w) => html`<section aria-labelledby="charts-${w.key}-h" class="console-section">
<h2 id="charts-${w.key}-h">${w.heading}</h2>
<div class="chart-grid">${w.series.map((s) => chartFigure(w, s))}</div>
${chartTable(w)}
</section>`,
)}
<section aria-labelledby="blocks-h" class="console-section">
<h2 id="blocks-h">Current blocks</h2>
<p class="muted">An account is blocked from one IP after too many wrong passwords from it. Unblocking lets that IP try again at once.</p>
${blocksTable(v.blocks, v.csrfToken, { linkUsers: true })}
${
  v.operator
    ? html`<h3>Throttled IPs</h3>
${
  v.throttled.length === 0
    ? html`<p class="muted">No IP is throttled right now.</p>`
    : html`<div class="table-scroll"><table class="list" id="throttled"><caption class="visually-hidden">IPs out of failed-login allowance</caption>
<thead><tr><th scope="col">IP</th><th scope="col">Next attempt allowed</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>
${v.throttled.map(
  (t) => html`<tr><th scope="row"><a href="/admin/events?ip=${encodeURIComponent(t.ipKey)}">${t.ipKey}</a></th><td>${when(t.nextAllowedAt)}</td>
<td><form method="post" action="/admin/ips/release" class="inline-form">${csrfInput(v.csrfToken)}<input type="hidden" name="ip" value="${t.ipKey}"><button type="submit" class="secondary small">Release<span class="visually-hidden"> ${t.ipKey}</span></button></form></td></tr>`,
)}
</tbody></table></div>`
}`
    : ''
}
</section>
<section aria-labelledby="suspicious-h" class="console-section">
<h2 id="suspicious-h">Recent suspicious events</h2>
${eventsTable(v.suspicious, v.actors, { caption: 'Most recent suspicious events' })}
<p><a href="/admin/events?code=group%3Asuspicious">All suspicious events</a></p>
</section>`,
  );
}

// ---- Users ---------------------------------------------------------------------------------------------------------

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

export interface ConfirmView {
  csrfToken: string;
  title: string;
  /** Every consequence, one sentence each. */
  consequences: string[];
  action: string;
  button: string;
  hidden?: Record<string, string>;
  cancelHref: string;
  danger?: boolean;
}

/** The confirmation step of every destructive action: what will happen, then one POST button. */
export function confirmPage(frame: ConsoleFrame, v: ConfirmView): string {
  return consoleLayout(
    frame,
    v.title,
    html`<div class="confirm-box">
<h1>${v.title}</h1>
<ul class="consequences">${v.consequences.map((c) => html`<li>${c}</li>`)}</ul>
<form method="post" action="${v.action}" class="confirm-form">${csrfInput(v.csrfToken)}${Object.entries(v.hidden ?? {}).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}
  <button type="submit" name="confirm" value="yes" class="${v.danger ? 'danger' : ''}">${v.button}</button>
  <a class="button secondary" href="${v.cancelHref}">Cancel</a>
</form>
</div>`,
  );
}

// ---- Events --------------------------------------------------------------------------------------------------------

export interface EventsView {
  error: string | null;
  filters: { user: string; ip: string; code: string; since: string; until: string };
  codeGroups: { value: string; label: string }[];
  events: SecurityEvent[];
  /** Link to the next (older) page, or null. */
  nextHref: string | null;
  firstHref: string | null;
  actors: ActorNames;
  /** "Events of ada@example.test" when a user filter resolved. */
  userLabel: string | null;
}

export function eventsPage(frame: ConsoleFrame, v: EventsView): string {
  const f = v.filters;
  const codes = Object.entries(EVENT_CODES).sort(([a], [b]) => a.localeCompare(b));
  return consoleLayout(
    frame,
    'Events',
    html`<h1>Events</h1>
${alert(v.error)}
<form method="get" action="/admin/events" class="filters" aria-label="Filter events">
  <div class="field"><label for="f-user">User ID or email</label><input id="f-user" name="user" type="text" maxlength="320" value="${f.user}"></div>
  <div class="field"><label for="f-ip">IP</label><input id="f-ip" name="ip" type="text" maxlength="64" value="${f.ip}" inputmode="decimal"></div>
  <div class="field grow"><label for="f-code">Event</label><select id="f-code" name="code">
    <option value="">Any event</option>
    <optgroup label="Groups">${v.codeGroups.map((g) => html`<option value="${g.value}"${f.code === g.value ? html` selected` : ''}>${g.label}</option>`)}</optgroup>
    <optgroup label="Single events">${codes.map(([code, spec]) => html`<option value="${code}"${f.code === code ? html` selected` : ''}>${code}: ${spec.description}</option>`)}</optgroup>
  </select></div>
  <div class="field"><label for="f-since">From (UTC)</label><input id="f-since" name="since" type="date" value="${f.since}"></div>
  <div class="field"><label for="f-until">To (UTC, inclusive)</label><input id="f-until" name="until" type="date" value="${f.until}"></div>
  <div class="field actions"><button type="submit">Filter</button> <a href="/admin/events">Clear</a></div>
</form>
${v.userLabel ? html`<p class="muted">${v.userLabel}</p>` : ''}
${eventsTable(v.events, v.actors, { caption: 'Security events, newest first' })}
${
  v.nextHref || v.firstHref
    ? html`<nav class="pager" aria-label="Pages of events">${v.firstHref ? html`<a href="${v.firstHref}">← Newest events</a>` : html`<span></span>`}${v.nextHref ? html`<a href="${v.nextHref}" rel="next">Older events →</a>` : ''}</nav>`
    : ''
}`,
  );
}

// ---- Settings ------------------------------------------------------------------------------------------------------

export type SettingKind = 'int' | 'duration' | 'bool' | 'enum' | 'text' | 'json';

export interface SettingFieldView {
  /** The form field name ("threshold", "actions.block"). */
  name: string;
  /** The dotted option path ("bruteForce.threshold"). */
  path: string;
  kind: SettingKind;
  /** For text inputs and selects: the value to show; for checkboxes: whether checked. */
  value: string | boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
  help: string;
  /** Changed at runtime (so it differs from the deployment's configuration). */
  overridden: boolean;
}

export interface SettingsSectionView {
  key: string;
  title: string;
  fields: SettingFieldView[];
  error: string | null;
}

export interface SettingsView {
  csrfToken: string;
  notice: string | null;
  overlay: SettingsRecord | null;
  sections: SettingsSectionView[];
  history: SettingsRecord[];
  actors: ActorNames;
}

function settingInput(section: string, f: SettingFieldView): SafeHtml {
  const id = `s-${section}-${f.name.replace(/\./g, '-')}`;
  const help = html`<p class="hint" id="${id}-help">${docText(f.help)}${f.kind === 'duration' ? ' Write it like 90s, 30m, 24h or 7d.' : ''}</p>`;
  const badge = f.overridden ? html` <span class="badge">changed at runtime</span>` : '';
  const label = html`<code>${f.path}</code>${badge}`;
  switch (f.kind) {
    case 'bool':
      return html`<div class="setting setting-bool"><input type="checkbox" id="${id}" name="${f.name}" value="true"${f.value === true ? html` checked` : ''} aria-describedby="${id}-help"> <label for="${id}" class="inline-label">${label}</label>${help}</div>`;
    case 'enum':
      return html`<div class="setting"><label for="${id}">${label}</label><select id="${id}" name="${f.name}" aria-describedby="${id}-help" class="short">${(f.options ?? []).map(
        (o) => html`<option value="${o}"${o === f.value ? html` selected` : ''}>${o}</option>`,
      )}</select>${help}</div>`;
    case 'int':
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="number" inputmode="numeric" step="1"${f.min !== undefined ? html` min="${f.min}"` : ''}${f.max !== undefined ? html` max="${f.max}"` : ''} value="${String(f.value)}" aria-describedby="${id}-help" class="short">${help}</div>`;
    case 'duration':
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="text" value="${String(f.value)}" maxlength="20" spellcheck="false" aria-describedby="${id}-help" class="short">${help}</div>`;
    case 'json':
      return html`<div class="setting"><label for="${id}">${label}</label><textarea id="${id}" name="${f.name}" rows="10" spellcheck="false" aria-describedby="${id}-help">${String(f.value)}</textarea>${help}</div>`;
    default:
      return html`<div class="setting"><label for="${id}">${label}</label><input id="${id}" name="${f.name}" type="text" value="${String(f.value)}" maxlength="320" aria-describedby="${id}-help">${help}</div>`;
  }
}

export function settingsPage(frame: ConsoleFrame, v: SettingsView): string {
  const o = v.overlay;
  return consoleLayout(
    frame,
    'Settings',
    html`<h1>Attack-protection settings</h1>
${alert(v.notice, 'info')}
<p class="lead">These settings apply to every node within seconds, without a restart. Values not changed here come from the deployment's configuration.</p>
<p id="settings-revision">${
      o
        ? html`Revision <strong>${o.revision}</strong>, changed ${when(o.updatedAt)} by ${actorLink(o.updatedBy, v.actors)}.`
        : html`Nothing has been changed at runtime: every value comes from the deployment's configuration.`
    }</p>
<nav aria-label="Settings sections" class="toc"><ul>${v.sections.map((s) => html`<li><a href="#section-${s.key}">${s.title}</a></li>`)}<li><a href="#history-h">History</a></li></ul></nav>
${v.sections.map(
  (s) => html`<section aria-labelledby="section-${s.key}" class="console-section settings-section">
<h2 id="section-${s.key}" tabindex="-1">${s.title}</h2>
${s.error ? html`<div class="alert error" role="alert" id="error-${s.key}">${s.error}</div>` : ''}
<form method="post" action="/admin/settings/${s.key}" novalidate${s.error ? html` aria-describedby="error-${s.key}"` : ''}>${csrfInput(v.csrfToken)}
${s.fields.map((f) => settingInput(s.key, f))}
<button type="submit">Save changes<span class="visually-hidden"> to ${s.title}</span></button>
</form>
${
  s.fields.some((f) => f.overridden)
    ? html`<form method="post" action="/admin/settings/${s.key}/reset" class="reset-form">${csrfInput(v.csrfToken)}<button type="submit" class="secondary">Reset to the deployment's values<span class="visually-hidden">: ${s.title}</span></button></form>`
    : ''
}
</section>`,
)}
<section aria-labelledby="history-h" class="console-section">
<h2 id="history-h">History</h2>
${
  v.history.length === 0
    ? html`<p class="muted">No runtime changes yet.</p>`
    : html`<div class="table-scroll"><table class="list" id="settings-history"><caption class="visually-hidden">Past versions of the runtime settings, newest first</caption>
<thead><tr><th scope="col">Revision</th><th scope="col">When</th><th scope="col">By</th><th scope="col">Values changed at runtime</th></tr></thead><tbody>
${v.history.map(
  (h) => html`<tr><th scope="row">${h.revision}</th><td>${when(h.updatedAt)}</td><td>${actorLink(h.updatedBy, v.actors)}</td><td><details><summary>${Object.keys(h.values).length ? Object.keys(h.values).join(', ') : 'none'}</summary><pre>${JSON.stringify(h.values, null, 2)}</pre></details></td></tr>`,
)}
</tbody></table></div>`
}
</section>`,
  );
}

// ---- Webhooks ------------------------------------------------------------------------------------------------------

export interface WebhooksView {
  webhooks: { id: string; url: string; codes: string[]; disabled: boolean; description: string | null; createdAt: number }[];
  deliveries: { id: string; webhookId: string; eventCode: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; createdAt: number; deliveredAt: number | null }[];
}

export function webhooksPage(frame: ConsoleFrame, v: WebhooksView): string {
  const urlOf = new Map(v.webhooks.map((w) => [w.id, w.url]));
  return consoleLayout(
    frame,
    'Webhooks',
    html`<h1>Webhooks</h1>
<section aria-labelledby="hooks-h" class="console-section">
<h2 id="hooks-h">Endpoints</h2>
${
  v.webhooks.length === 0
    ? html`<p class="muted">No webhooks. Add one with <code>portcullis webhooks add</code>.</p>`
    : html`<div class="table-scroll"><table class="list" id="webhooks"><caption class="visually-hidden">Webhook endpoints</caption>
<thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead><tbody>
${v.webhooks.map(
  (w) => html`<tr><th scope="row"><code>${w.url}</code>${w.description ? html`<br><span class="muted">${w.description}</span>` : ''}</th><td>${w.codes.length ? w.codes.join(', ') : 'every event'}</td><td>${w.disabled ? html`<span class="badge badge-muted">disabled</span>` : html`<span class="badge">active</span>`}</td><td>${when(w.createdAt)}</td></tr>`,
)}
</tbody></table></div>`
}
</section>
<section aria-labelledby="deliveries-h" class="console-section">
<h2 id="deliveries-h">Delivery log</h2>
${
  v.deliveries.length === 0
    ? html`<p class="muted">No deliveries yet.</p>`
    : html`<div class="table-scroll"><table class="list" id="deliveries"><caption class="visually-hidden">Recent webhook deliveries, newest first</caption>
<thead><tr><th scope="col">Queued</th><th scope="col">Event</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last response</th><th scope="col">Delivered</th></tr></thead><tbody>
${v.deliveries.map(
  (d) => html`<tr><td>${when(d.createdAt)}</td><th scope="row"><code>${d.eventCode}</code></th><td><code>${urlOf.get(d.webhookId) ?? d.webhookId}</code></td><td><span class="badge delivery-${d.status}">${d.status}</span></td><td class="num">${d.attempts}</td><td>${
    d.lastStatus !== null ? html`HTTP ${d.lastStatus}` : ''
  }${d.lastError ? html`${d.lastStatus !== null ? html`<br>` : ''}<span class="muted">${d.lastError}</span>` : ''}${d.lastStatus === null && !d.lastError ? '—' : ''}</td><td>${when(d.deliveredAt)}</td></tr>`,
)}
</tbody></table></div>`
}
</section>`,
  );
}
