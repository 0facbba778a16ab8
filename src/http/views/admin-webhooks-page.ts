// The admin console's webhooks page: the endpoints and the delivery log (read-only; the CLI manages webhooks).
import { html } from './html.js';
import { consoleLayout, when, type ConsoleFrame } from './admin-layout.js';

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
