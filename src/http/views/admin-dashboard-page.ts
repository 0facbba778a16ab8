// The admin console's dashboard: event charts (each backed by a table), current blocks, throttled IPs and recent
// suspicious events.
import type { SecurityEvent } from '../../events/event-codes.js';
import type { BlockedPair, ThrottledIp } from '../../admin/protection.js';
import { html, type SafeHtml } from './html.js';
import { alert } from './layout.js';
import { chartSvg, type Bucket } from './admin-charts.js';
import { consoleLayout, csrfInput, when, type ActorNames, type ConsoleFrame } from './admin-layout.js';
import { eventsTable } from './admin-event-pages.js';

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
