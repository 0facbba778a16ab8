// Pages of the development mailbox: the list with the outbox state, and one message with clickable links.
import type { DevMailItem, OutboxMessage } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

/** Escapes the text and turns each http(s) URL into a link; the URL itself is escaped too, so no markup gets through. */
export function linkify(text: string): SafeHtml {
  const parts: (string | SafeHtml)[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    parts.push(text.slice(last, start), html`<a href="${url}">${url}</a>`);
    last = start + url.length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export interface DevMailListView {
  productName: string;
  items: DevMailItem[];
  pendingCount: string;
  failed: OutboxMessage[];
  failedCount: string;
}

export function devMailListPage(v: DevMailListView): string {
  return layout({
    title: 'Dev mailbox',
    productName: v.productName,
    wide: true,
    body: html`<h1>Dev mailbox</h1>
<p class="lead">No SMTP server is configured, so mail is delivered here. This page exists only outside production.</p>
<h2>Outbox</h2>
<p>${v.pendingCount} pending, ${v.failedCount} failed.</p>
${v.failed.length > 0
  ? html`<table><caption>Failed messages</caption><thead><tr><th scope="col">To</th><th scope="col">Template</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Created</th></tr></thead>
<tbody>${v.failed.map((m) => html`<tr><td>${m.to}</td><td>${m.template}</td><td>${m.attempts}</td><td>${m.lastError ?? ''}</td><td>${time(m.createdAt)}</td></tr>`)}</tbody></table>`
  : ''}
<h2>Delivered mail</h2>
${v.items.length === 0
  ? html`<p>No mail yet. Mail the server sends (for example a verification email) shows up here.</p>`
  : html`<table><caption>Newest first</caption><thead><tr><th scope="col">Subject</th><th scope="col">To</th><th scope="col">Received</th></tr></thead>
<tbody>${v.items.map((m) => html`<tr><td><a href="/dev/mail/${encodeURIComponent(m.id)}">${m.subject}</a></td><td>${m.to}</td><td>${time(m.receivedAt)}</td></tr>`)}</tbody></table>`}`,
  });
}

export function devMailItemPage(productName: string, item: DevMailItem): string {
  const id = encodeURIComponent(item.id);
  return layout({
    title: item.subject,
    productName,
    wide: true,
    body: html`<p><a href="/dev/mail">← Dev mailbox</a></p>
<h1>${item.subject}</h1>
<dl class="claims"><dt>To</dt><dd>${item.to}</dd><dt>Received</dt><dd>${time(item.receivedAt)}</dd></dl>
<p><a href="/dev/mail/${id}/html">View the HTML version</a></p>
<h2>Plain text</h2>
<pre>${linkify(item.text)}</pre>`,
  });
}
