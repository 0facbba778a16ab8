// The shape every email shares (heading, paragraphs, one action, expiry) and its plain-text and HTML renderings.
import { html, type SafeHtml } from '../../http/views/html.js';
import type { MailBranding } from './template-types.js';

/** A piece of a paragraph: plain words, or a URL shown in full (and clickable in HTML). */
export type Inline = string | { url: string };
export type Paragraph = readonly Inline[];

export interface EmailContent {
  subject: string;
  heading: string;
  intro: readonly Paragraph[];
  action: { label: string; url: string };
  expiresInText?: string | null;
  outro: readonly Paragraph[];
}

/** Links in mail are built by us; anything but an absolute http(s) URL is a bug, never something to render. */
export function assertLinkUrl(url: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new Error('mail links must be absolute http(s) URLs');
  return url;
}

function textParagraph(paragraph: Paragraph): string {
  return paragraph.map((part) => (typeof part === 'string' ? part : assertLinkUrl(part.url))).join('');
}

export function renderText(content: EmailContent, branding: MailBranding): string {
  const blocks = [
    content.heading,
    ...content.intro.map(textParagraph),
    `${content.action.label}:\n${assertLinkUrl(content.action.url)}`,
    ...(content.expiresInText ? [`This link expires in ${content.expiresInText}.`] : []),
    ...content.outro.map(textParagraph),
    ['--', `${branding.productName} · ${branding.publicUrl}`, ...(branding.supportContact ? [`Need help? Contact ${branding.supportContact}.`] : [])].join('\n'),
  ];
  return `${blocks.join('\n\n')}\n`;
}

const FONT = 'font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif';
const STYLE = {
  body: 'margin:0;padding:0;background:#f4f5f7',
  wrap: `max-width:560px;margin:0 auto;padding:24px 16px;${FONT};color:#1f2328;font-size:16px;line-height:1.5`,
  brand: 'margin:0 0 16px;font-size:18px;font-weight:600',
  logo: 'display:block;max-height:48px;max-width:200px;margin:0 0 8px;border:0',
  card: 'background:#ffffff;border:1px solid #d8dee4;border-radius:8px;padding:24px',
  h1: 'margin:0 0 16px;font-size:22px;line-height:1.3',
  p: 'margin:0 0 16px',
  button: 'display:inline-block;background:#1f6feb;color:#ffffff;padding:12px 24px;border-radius:6px;text-decoration:none;font-weight:600',
  small: 'margin:0 0 16px;font-size:14px;color:#57606a',
  link: 'color:#0969da;word-break:break-all',
  foot: 'margin:16px 0 0;font-size:13px;color:#57606a',
};

function htmlParagraph(paragraph: Paragraph, style = STYLE.p): SafeHtml {
  const parts = paragraph.map((part) => (typeof part === 'string' ? part : html`<a href="${assertLinkUrl(part.url)}" style="${STYLE.link}">${part.url}</a>`));
  return html`<p style="${style}">${parts}</p>`;
}

function supportHtml(contact: string): SafeHtml {
  if (/^https?:\/\/\S+$/i.test(contact)) return html`<a href="${contact}" style="${STYLE.link}">${contact}</a>`;
  if (/^[^\s@]+@[^\s@]+$/.test(contact)) return html`<a href="mailto:${contact}" style="${STYLE.link}">${contact}</a>`;
  return html`${contact}`;
}

export function renderHtml(content: EmailContent, branding: MailBranding): string {
  const url = assertLinkUrl(content.action.url);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${content.subject}</title>
</head>
<body style="${STYLE.body}">
<div role="article" aria-label="${content.subject}" lang="en" style="${STYLE.wrap}">
<div style="${STYLE.brand}">${branding.logoUrl ? html`<img src="${branding.logoUrl}" alt="" height="48" style="${STYLE.logo}">` : ''}${branding.productName}</div>
<div style="${STYLE.card}">
<h1 style="${STYLE.h1}">${content.heading}</h1>
${content.intro.map((p) => htmlParagraph(p))}
<p style="margin:24px 0"><a href="${url}" style="${STYLE.button}">${content.action.label}</a></p>
<p style="${STYLE.small}">If the button does not work, copy this link into your browser:<br><a href="${url}" style="${STYLE.link}">${url}</a></p>
${content.expiresInText ? html`<p style="${STYLE.p}">This link expires in ${content.expiresInText}.</p>` : ''}
${content.outro.map((p) => htmlParagraph(p))}
</div>
<p style="${STYLE.foot}">Sent by ${branding.productName} · <a href="${branding.publicUrl}" style="${STYLE.link}">${branding.publicUrl}</a>${branding.supportContact ? html`<br>Need help? Contact ${supportHtml(branding.supportContact)}.` : ''}</p>
</div>
</body>
</html>
`.value;
}
