// The admin console (/admin): server-rendered like the account pages, no page script. Operators see everything,
// organization admins their organization (consolePrincipal); every read and action goes through the AdminService,
// which enforces that and records each action with the actor. Every POST carries a CSRF token of scope 'admin';
// destructive actions go through a confirmation page (see admin-users.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { SUSPICIOUS_CODES, type AdminService } from '../../admin/admin-service.js';
import type { Clock } from '../../domain/clock.js';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import { EVENT_CODES, type EventCode } from '../../events/event-codes.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { EventQuery, UserStore } from '../../store/store.js';
import type { Csrf } from '../csrf.js';
import { UID_PATTERN } from '../form.js';
import { sendHtml } from '../link-pages.js';
import { consoleErrorPage } from '../views/admin-layout.js';
import { dashboardPage, type ChartWindowView } from '../views/admin-dashboard-page.js';
import { eventsPage } from '../views/admin-event-pages.js';
import { webhooksPage } from '../views/admin-webhooks-page.js';
import { bodyField, consoleKit, doneUrl, noticeFrom, queryParam, type ConsoleContext } from './admin-common.js';
import { adminUserRoutes } from './admin-users.js';
import { adminSettingsRoutes } from './admin-settings.js';

export interface ConsoleDeps {
  admin: AdminService;
  sessions: SessionService;
  users: UserStore;
  csrf: Csrf;
  clock: Clock;
  productName: string;
  /** Webhook management for operators (list, add, remove, delivery log); null until webhooks are wired. */
  webhooks: ConsoleWebhooks | null;
}

export interface ConsoleWebhooks {
  list(): Promise<{ id: string; url: string; codes: string[]; disabled: boolean; description: string | null; createdAt: number }[]>;
  deliveries(options: { webhookId?: string; limit: number }): Promise<{ id: string; webhookId: string; eventCode: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; createdAt: number; deliveredAt: number | null }[]>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ALL_CODES = Object.keys(EVENT_CODES) as EventCode[];

/** The dashboard's series: each sums several event codes. */
export const CHART_SERIES: readonly { key: string; label: string; codes: readonly EventCode[] }[] = [
  { key: 'logins', label: 'Logins', codes: ['login_success', 'login_passkey_success', 'login_link_used'] },
  { key: 'failures', label: 'Failed logins', codes: ALL_CODES.filter((c) => c.startsWith('login_failed_')) },
  { key: 'blocks', label: 'Blocks and throttles', codes: ['login_block_started', 'login_blocked', 'ip_throttled'] },
  { key: 'captcha', label: 'CAPTCHA challenges', codes: ['captcha_required', 'captcha_failed'] },
  { key: 'breached', label: 'Breached-password logins', codes: ['pwd_leak'] },
  { key: 'risk', label: 'Risk blocks', codes: ['risk_blocked'] },
];

/** Groups offered by the events filter, besides the single codes. */
export const CODE_GROUPS: readonly { value: string; label: string; codes: readonly EventCode[] }[] = [
  { value: 'group:suspicious', label: 'Suspicious (as on the dashboard)', codes: SUSPICIOUS_CODES },
  ...CHART_SERIES.map((s) => ({ value: `group:${s.key}`, label: s.label, codes: s.codes })),
  { value: 'group:risk_all', label: 'Every risk decision (block, second factor, logged)', codes: ['risk_blocked', 'risk_mfa', 'risk_logged'] as EventCode[] },
  {
    value: 'group:admin',
    label: 'Administrator actions',
    codes: ['user_updated', 'user_disabled', 'user_enabled', 'user_deleted', 'admin_sessions_revoked', 'admin_passkey_removed', 'mfa_reset', 'login_unblocked', 'ip_released', 'settings_changed'] as EventCode[],
  },
];

const hourLabel = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const dayLabel = (ms: number): string => new Date(ms).toISOString().slice(5, 10);
const dayFull = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const hourFull = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: string, label: string): number {
  const ms = DATE_PATTERN.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms)) throw new PortcullisError('invalid_input', { message: `${label} must be a date like 2024-05-01.` });
  return ms;
}

export function adminConsoleRoutes(deps: ConsoleDeps) {
  const { admin, clock } = deps;
  const kit = consoleKit(deps);

  async function chartWindows(ctx: ConsoleContext): Promise<ChartWindowView[]> {
    const now = clock.now();
    const codes = [...new Set(CHART_SERIES.flatMap((s) => s.codes))];
    const windows = [
      { key: 'day' as const, heading: 'Last 24 hours', span: 'in the last 24 hours', bucketMs: HOUR, count: 24, until: Math.floor(now / HOUR) * HOUR + HOUR, kind: 'bar' as const, tickEvery: 6, tickLabel: hourLabel, pointLabel: hourFull },
      { key: 'month' as const, heading: 'Last 30 days', span: 'in the last 30 days', bucketMs: DAY, count: 30, until: Math.floor(now / DAY) * DAY + DAY, kind: 'line' as const, tickEvery: 7, tickLabel: dayLabel, pointLabel: dayFull },
    ];
    const out: ChartWindowView[] = [];
    for (const w of windows) {
      const since = w.until - w.count * w.bucketMs;
      const rows = await admin.eventHistogram(ctx.principal, { codes, since, until: w.until, bucketMs: w.bucketMs });
      out.push({
        key: w.key,
        heading: w.heading,
        span: w.span,
        kind: w.kind,
        tickEvery: w.tickEvery,
        tickLabel: w.tickLabel,
        pointLabel: w.pointLabel,
        series: CHART_SERIES.map((s) => {
          const counts = new Array<number>(w.count).fill(0);
          for (const row of rows) {
            const index = Math.round((row.bucketStart - since) / w.bucketMs);
            if (s.codes.includes(row.code) && index >= 0 && index < w.count) counts[index] = (counts[index] ?? 0) + row.count;
          }
          return { key: s.key, label: s.label, buckets: counts.map((count, i) => ({ start: since + i * w.bucketMs, count })), total: counts.reduce((a, b) => a + b, 0) };
        }),
      });
    }
    return out;
  }

  async function renderDashboard(request: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext, status = 200, error: string | null = null): Promise<FastifyReply> {
    const { blocks, throttled } = await admin.listBlocks(ctx.principal);
    const suspicious = (await admin.queryEvents(ctx.principal, { codes: SUSPICIOUS_CODES, limit: 10 })).events;
    return sendHtml(
      reply,
      status,
      dashboardPage(ctx.frame, {
        csrfToken: ctx.csrfToken,
        notice: error ? null : noticeFrom(request),
        error,
        windows: await chartWindows(ctx),
        blocks,
        throttled,
        suspicious,
        actors: await kit.actorNames(ctx.principal, kit.eventActors(suspicious)),
        operator: ctx.principal.kind === 'operator',
      }),
    );
  }

  /** Dashboard forms re-render the dashboard with the service's message when it refuses. */
  function dashboardAction(run: (request: FastifyRequest, ctx: ConsoleContext) => Promise<string>) {
    return kit.action('dashboard', async (request, reply, ctx) => {
      try {
        return reply.redirect(await run(request, ctx), 303);
      } catch (error) {
        if (isPortcullisError(error) && error.status === 400) return renderDashboard(request, reply, ctx, 400, error.publicMessage);
        throw error;
      }
    });
  }

  interface EventFilters {
    user: string;
    ip: string;
    code: string;
    since: string;
    until: string;
  }

  function eventsHref(filters: EventFilters, before?: string): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    if (before) params.set('before', before);
    const s = params.toString();
    return s ? `/admin/events?${s}` : '/admin/events';
  }

  /** Turns the filter form into an EventQuery; a user given by email is looked up (within what the principal sees). */
  async function eventQuery(ctx: ConsoleContext, f: EventFilters, before: string): Promise<{ query: Omit<EventQuery, 'orgId'>; userLabel: string | null; empty: boolean }> {
    const query: Omit<EventQuery, 'orgId'> = { limit: 50, ...(before ? { before } : {}) };
    let userLabel: string | null = null;
    let empty = false;
    if (f.user) {
      if (f.user.includes('@')) {
        const wanted = f.user.toLowerCase();
        const match = (await admin.listUsers(ctx.principal, { query: f.user, limit: 50 })).users.find((u) => u.email.toLowerCase() === wanted);
        if (!match) throw new PortcullisError('invalid_input', { message: `No user has the email ${f.user}.` });
        query.userId = match.id;
        userLabel = `Events of ${match.email}.`;
      } else if (UID_PATTERN.test(f.user)) {
        query.userId = f.user;
        try {
          userLabel = `Events of ${(await admin.getUser(ctx.principal, f.user)).email}.`;
        } catch (error) {
          // A deleted user's events are still there (by id); another organization's user shows nothing.
          if (!isPortcullisError(error) || error.code !== 'not_found') throw error;
          userLabel = `Events of user ${f.user} (no such user now).`;
          if (ctx.principal.orgId) empty = true;
        }
      } else {
        throw new PortcullisError('invalid_input', { message: 'Enter a user ID or an email address.' });
      }
    }
    if (f.ip) {
      if (!isIP(f.ip) && !/^[0-9a-fA-F:]+::\/64$/.test(f.ip)) throw new PortcullisError('invalid_input', { message: `"${f.ip}" is not an IP address.` });
      query.ip = f.ip;
    }
    if (f.code) {
      const group = CODE_GROUPS.find((g) => g.value === f.code);
      if (group) query.codes = group.codes;
      else if (f.code in EVENT_CODES) query.codes = [f.code as EventCode];
      else throw new PortcullisError('invalid_input', { message: `"${f.code}" is not an event code.` });
    }
    if (f.since) query.since = parseDate(f.since, 'From');
    if (f.until) query.until = parseDate(f.until, 'To') + DAY;
    if (query.since !== undefined && query.until !== undefined && query.since >= query.until) throw new PortcullisError('invalid_input', { message: 'The "From" date must not be after the "To" date.' });
    return { query, userLabel, empty };
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/admin', kit.page('dashboard', async (request, reply, ctx) => renderDashboard(request, reply, ctx)));
    app.get('/admin/', async (_request, reply) => reply.redirect('/admin', 308));

    app.post(
      '/admin/blocks/unblock',
      dashboardAction(async (request, ctx) => {
        const identifier = bodyField(request, 'identifier', 320).trim();
        const ip = bodyField(request, 'ip', 64).trim();
        if (!identifier) throw new PortcullisError('invalid_input', { message: 'Which account should be unblocked?' });
        const cleared = await admin.unblock(ctx.principal, identifier, ip || null);
        return doneUrl('/admin', 'unblocked', cleared);
      }),
    );

    app.post(
      '/admin/ips/release',
      dashboardAction(async (request, ctx) => {
        const ip = bodyField(request, 'ip', 64).trim();
        if (!ip) throw new PortcullisError('invalid_input', { message: 'Which IP should be released?' });
        await admin.releaseIp(ctx.principal, ip);
        return doneUrl('/admin', 'released');
      }),
    );

    app.get(
      '/admin/events',
      kit.page('events', async (request, reply, ctx) => {
        const filters: EventFilters = { user: queryParam(request, 'user'), ip: queryParam(request, 'ip', 64), code: queryParam(request, 'code', 64), since: queryParam(request, 'since', 10), until: queryParam(request, 'until', 10) };
        const before = queryParam(request, 'before', 64);
        const view = { filters, codeGroups: CODE_GROUPS.map(({ value, label }) => ({ value, label })), firstHref: before ? eventsHref(filters) : null };
        try {
          const { query, userLabel, empty } = await eventQuery(ctx, filters, before);
          const page = empty ? { events: [], next: null } : await admin.queryEvents(ctx.principal, query);
          const actors = await kit.actorNames(ctx.principal, kit.eventActors(page.events));
          return sendHtml(reply, 200, eventsPage(ctx.frame, { ...view, error: null, events: page.events, nextHref: page.next ? eventsHref(filters, page.next) : null, actors, userLabel }));
        } catch (error) {
          if (isPortcullisError(error) && error.code === 'invalid_input') {
            return sendHtml(reply, 400, eventsPage(ctx.frame, { ...view, error: error.publicMessage, events: [], nextHref: null, actors: new Map(), userLabel: null }));
          }
          throw error;
        }
      }),
    );

    app.get(
      '/admin/webhooks',
      kit.page('webhooks', async (_request, reply, ctx) => {
        if (!deps.webhooks) return sendHtml(reply, 404, consoleErrorPage(ctx.frame, 404, 'Webhooks are not set up on this server.'));
        if (ctx.principal.kind !== 'operator') throw new PortcullisError('forbidden', { message: 'Only operators can see webhooks.' });
        const [webhooks, deliveries] = await Promise.all([deps.webhooks.list(), deps.webhooks.deliveries({ limit: 100 })]);
        return sendHtml(reply, 200, webhooksPage(ctx.frame, { webhooks, deliveries }));
      }),
    );

    await app.register(adminUserRoutes(deps, kit));
    await app.register(adminSettingsRoutes(deps, kit));
  };
}
