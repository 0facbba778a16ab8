// Renders any template to a subject plus matching plain-text and HTML bodies; every interpolation in the HTML is escaped.
import { COPY } from './copy.js';
import type { EmailContent } from './email-content.js';
import { renderHtml, renderText } from './email-content.js';
import type { MailBranding, TemplateData, TemplateName } from './template-types.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function renderTemplate<T extends TemplateName>(name: T, data: TemplateData[T], branding: MailBranding): RenderedMail {
  const build = COPY[name] as (data: TemplateData[T], branding: MailBranding) => EmailContent;
  if (typeof build !== 'function') throw new Error(`unknown mail template "${String(name)}"`);
  const content = build(data, branding);
  return { subject: content.subject, text: renderText(content, branding), html: renderHtml(content, branding) };
}
