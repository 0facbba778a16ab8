// The GET side of every emailed link: check it without consuming it, then show one button that POSTs.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.js';
import type { LinkPurpose, LinkToken } from '../domain/types.js';
import type { LinkTokenStore } from '../store/store.js';
import { inspectLink, LINK_MESSAGES } from '../links/link-tokens.js';
import type { Csrf } from './csrf.js';
import { confirmLinkPage } from './views/account-pages.js';
import { messagePage } from './views/pages.js';

export function sendHtml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

export function linkProblemPage(productName: string, reason: keyof typeof LINK_MESSAGES, next: { href: string; label: string }): string {
  return messagePage(productName, reason === 'used' ? 'Link already used' : reason === 'expired' ? 'Link expired' : 'Link not valid', LINK_MESSAGES[reason], next);
}

export interface LinkConfirmation {
  purpose: LinkPurpose;
  /** The POST target for a token. */
  action: (token: string) => string;
  title: string;
  explain: (link: LinkToken) => string;
  button: string;
  /** Where to go when the link is unusable. */
  next: { href: string; label: string };
}

export function linkConfirmHandler(deps: { links: LinkTokenStore; clock: Clock; csrf: Csrf; productName: string }, page: LinkConfirmation) {
  return async (request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const check = await inspectLink(deps.links, request.params.token, page.purpose, deps.clock.now());
    if (!check.ok) return sendHtml(reply, 410, linkProblemPage(deps.productName, check.reason, page.next));
    return sendHtml(
      reply,
      200,
      confirmLinkPage({
        productName: deps.productName,
        csrfToken: deps.csrf.issue(request, reply, 'link'),
        action: page.action(request.params.token),
        title: page.title,
        explanation: page.explain(check.link),
        button: page.button,
      }),
    );
  };
}
