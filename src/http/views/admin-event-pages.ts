// The admin console's events: the filterable events page and the events table (with each decision and why) that the
// dashboard and user pages show too.
import { formatUtc } from '../../domain/format-time.js';
import { EVENT_CODES, type SecurityEvent } from '../../events/event-codes.js';
import { html, type SafeHtml } from './html.js';
import { alert } from './layout.js';
import { actorLink, consoleLayout, type ActorNames, type ConsoleFrame } from './admin-layout.js';

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
