// The admin console's shell (a nav bar instead of the centred card), its error and no-access pages, the confirmation
// step of destructive actions and the pieces every console page shares. No inline script or style; every value goes
// through html`` escaping.
import { formatUtc } from '../../domain/format-time.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

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

export const csrfInput = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;
export const when = (ms: number | null | undefined): string => (ms ? formatUtc(ms) : '—');

export function actorLink(actor: unknown, actors: ActorNames): SafeHtml | string {
  if (typeof actor !== 'string') return '—';
  const match = /^user:([A-Za-z0-9_-]{1,64})$/.exec(actor);
  if (!match) return actor;
  const email = actors.get(actor);
  return html`<a href="/admin/users/${match[1]}">${email ?? actor}</a>`;
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
