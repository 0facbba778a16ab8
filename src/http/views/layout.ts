// The shared page shell: accessible landmarks, one stylesheet, no inline script or style (CSP-friendly).
import { html, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  productName: string;
  body: SafeHtml;
  scripts?: string[];
  wide?: boolean;
  /** Signed-in pages: the session SDK warns before the session ends (4 h, 5 min, and a final minute countdown). */
  sessionTimer?: boolean;
  /** Extra trusted head markup (e.g. a meta refresh). */
  head?: SafeHtml;
}

export function layout(options: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · ${options.productName}</title>
<link rel="stylesheet" href="/assets/portcullis.css">
${options.head ?? ''}
${(options.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`)}
${options.sessionTimer ? html`<script type="module" src="/sdk/session.js"></script>` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="brand" role="banner"><span class="logo" aria-hidden="true">▥</span> ${options.productName}</header>
<main id="main" class="${options.wide ? 'card wide' : 'card'}">
${options.body}
</main>
<footer class="foot">Protected by ${options.productName}</footer>
${options.sessionTimer ? html`<portcullis-session-timer status-url="/session/status" logout-url="/session/ended" login-url="/login?next=/account"></portcullis-session-timer>` : ''}
</body>
</html>`.value;
}

export function alert(message: string | null | undefined, kind: 'error' | 'info' = 'error'): SafeHtml {
  if (!message) return html``;
  return kind === 'error'
    ? html`<div class="alert error" role="alert" id="form-error">${message}</div>`
    : html`<div class="alert info" role="status">${message}</div>`;
}
