// What every console route shares: who is signed in and what they may see (consolePrincipal), the page frame, CSRF
// (scope 'admin'), notices after a POST, and errors as console pages.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isPortcullisError } from '../../domain/errors.js';
import type { User } from '../../domain/types.js';
import type { SecurityEvent } from '../../events/event-codes.js';
import { consolePrincipal, type Principal } from '../../admin/principal.js';
import { currentUser } from '../auth-session.js';
import { sendHtml } from '../link-pages.js';
import { consoleErrorPage, noAccessPage, type ActorNames, type ConsoleFrame, type ConsoleSection } from '../views/admin-layout.js';
import type { ConsoleDeps } from './admin-console.js';

export const CSRF_SCOPE = 'admin';

export interface ConsoleContext {
  user: User;
  principal: Principal;
  frame: ConsoleFrame;
  /** The token of every console form (scope 'admin'). */
  csrfToken: string;
}

/** Notices shown after an action redirects back (`?done=<key>&n=<count>`). */
const NOTICES: Record<string, (n: number) => string> = {
  unblocked: (n) => `The block is lifted (${n} blocked IP${n === 1 ? '' : 's'} cleared). The next sign-in from there is allowed.`,
  released: () => 'The IP is released: it can try to sign in again.',
  created: () => 'The user is created.',
  enabled: () => 'The account is enabled: the user can sign in again.',
  disabled: () => 'The account is disabled and every session of it has ended.',
  deleted: () => 'The user is deleted. Their security events are kept.',
  mfa_reset: (n) => (n ? 'Two-step verification is reset: the authenticator app and recovery codes are removed. Passkeys are kept.' : 'There was no two-step verification to reset. Passkeys are kept.'),
  sessions_revoked: (n) => `${n} session${n === 1 ? '' : 's'} ended, with the app sign-ins of ${n === 1 ? 'it' : 'them'}.`,
  session_revoked: () => 'The session is ended.',
  passkey_removed: () => 'The passkey is removed.',
  settings_saved: () => 'The settings are saved and apply to every node within seconds.',
  settings_unchanged: () => 'Nothing was changed: the values are the same as before.',
  settings_reset: () => "That section is back to the deployment's values.",
};

export function noticeFrom(request: FastifyRequest): string | null {
  const query = request.query as { done?: unknown; n?: unknown };
  const notice = typeof query.done === 'string' ? NOTICES[query.done] : undefined;
  const n = Number(typeof query.n === 'string' ? query.n : 0);
  return notice ? notice(Number.isSafeInteger(n) && n >= 0 ? n : 0) : null;
}

export const doneUrl = (path: string, key: string, n?: number): string => `${path}${path.includes('?') ? '&' : '?'}done=${key}${n !== undefined ? `&n=${n}` : ''}`;

/** A query parameter as one string ('' when absent; the first when repeated). */
export function queryParam(request: FastifyRequest, name: string, max = 320): string {
  const raw = (request.query as Record<string, unknown> | undefined)?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value.trim().slice(0, max) : '';
}

/** A form field as one string ('' when absent or not a single string). */
export function bodyField(request: FastifyRequest, name: string, max = 1024): string {
  const raw = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof raw === 'string' ? raw.slice(0, max) : '';
}

export type PageHandler = (request: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext) => Promise<FastifyReply>;

export function consoleKit(deps: ConsoleDeps) {
  const { admin, csrf, productName } = deps;
  // Organization names never change (there is no rename), so the few there are can be cached for good.
  const orgNames = new Map<string, string>();

  /** The name of `orgId`, read (once) through the detail of one of its visible members. */
  async function orgName(principal: Principal, orgId: string, memberId: string): Promise<string | null> {
    const cached = orgNames.get(orgId);
    if (cached) return cached;
    try {
      const org = (await admin.userDetail(principal, memberId)).org;
      if (org) orgNames.set(org.id, org.name);
      return org?.name ?? null;
    } catch {
      return null;
    }
  }

  function rememberOrg(org: { id: string; name: string } | null): void {
    if (org) orgNames.set(org.id, org.name);
  }

  /** The signed-in console user, or the reply already sent: a login redirect, or a 403 page for non-admins. */
  async function resolve(request: FastifyRequest, reply: FastifyReply, section: ConsoleSection): Promise<ConsoleContext | FastifyReply> {
    const signedIn = await currentUser(request, deps.sessions, deps.users);
    if (!signedIn) {
      const next = request.method === 'GET' && request.url.length <= 200 ? request.url : '/admin';
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
    }
    const principal = consolePrincipal(signedIn.user);
    if (!principal) return sendHtml(reply, 403, noAccessPage(productName, signedIn.user.email));
    const org = principal.orgId ? { id: principal.orgId, name: (await orgName(principal, principal.orgId, signedIn.user.id)) ?? principal.orgId } : null;
    const frame: ConsoleFrame = {
      productName,
      me: { id: signedIn.user.id, email: signedIn.user.email },
      kind: principal.kind,
      org,
      showWebhooks: deps.webhooks !== null && principal.kind === 'operator',
      current: section,
      logoutCsrf: csrf.issue(request, reply, 'account'),
    };
    return { user: signedIn.user, principal, frame, csrfToken: csrf.issue(request, reply, CSRF_SCOPE) };
  }

  function errorReply(reply: FastifyReply, ctx: ConsoleContext, error: unknown): FastifyReply {
    if (isPortcullisError(error) && error.status < 500 && error.code !== 'csrf_failed') {
      return sendHtml(reply, error.status, consoleErrorPage(ctx.frame, error.status, error.publicMessage));
    }
    throw error;
  }

  /** A GET page: signed-in console users only; service refusals (403, 404, 400) become console error pages. */
  function page(section: ConsoleSection, handler: PageHandler) {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const ctx = await resolve(request, reply, section);
      if (!('principal' in ctx)) return ctx;
      try {
        return await handler(request, reply, ctx);
      } catch (error) {
        return errorReply(reply, ctx, error);
      }
    };
  }

  /** A form POST: as `page`, and the CSRF token (scope 'admin') must match before anything happens. */
  function action(section: ConsoleSection, handler: PageHandler) {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const ctx = await resolve(request, reply, section);
      if (!('principal' in ctx)) return ctx;
      csrf.verify(request, CSRF_SCOPE);
      try {
        return await handler(request, reply, ctx);
      } catch (error) {
        return errorReply(reply, ctx, error);
      }
    };
  }

  /** Emails of the "user:<id>" actors named in events or settings records (those the principal may see). */
  async function actorNames(principal: Principal, actors: Iterable<unknown>): Promise<ActorNames> {
    const out = new Map<string, string>();
    const ids = new Set<string>();
    for (const actor of actors) {
      if (typeof actor === 'string' && /^user:[A-Za-z0-9_-]{1,64}$/.test(actor)) ids.add(actor);
      if (ids.size >= 50) break;
    }
    for (const actor of ids) {
      try {
        out.set(actor, (await admin.getUser(principal, actor.slice('user:'.length))).email);
      } catch {
        // Deleted, or in another organization: shown as the bare actor.
      }
    }
    return out;
  }

  const eventActors = (events: readonly SecurityEvent[]): unknown[] => events.flatMap((e) => [e.details?.actor, e.details?.adminUserId]);

  return { resolve, page, action, errorReply, orgName, rememberOrg, actorNames, eventActors };
}

export type ConsoleKit = ReturnType<typeof consoleKit>;
