// The session status the browser SDK reads (GET: never extends anything) and reports activity to (POST with the
// X-Portcullis-Activity header), plus the SDK itself at /sdk/session.js. Registered apps may call it over CORS.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../domain/clock.js';
import { PortcullisError } from '../../domain/errors.js';
import type { ClientStore } from '../../store/store.js';
import type { ResolvedSession, SessionService } from '../../sessions/session-service.js';
import { SESSION_COOKIE } from '../auth-session.js';

export interface SessionStatusDeps {
  sessions: SessionService;
  clients: ClientStore;
  clock: Clock;
  publicUrl: string;
}

export const SESSION_STATUS_PATH = '/session/status';
export const ACTIVITY_HEADER = 'x-portcullis-activity';
const SDK_FILE = new URL('../../../packages/session-sdk/session.js', import.meta.url);
const ORIGIN_CACHE_MS = 30_000;

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The JSON of the SDK contract (packages/session-sdk/README.md); times are epoch seconds. */
export function statusBody(found: ResolvedSession | null, now: number): Record<string, unknown> {
  const server_time = seconds(now);
  if (!found) return { active: false, server_time, reason: 'none' };
  const { session, state } = found;
  if (!state.active) {
    const ended = state.reason === 'revoked' ? session.endReason : state.reason;
    const reason = ended === 'idle' ? 'expired_idle' : ended === 'absolute' ? 'expired_absolute' : 'logged_out';
    return { active: false, server_time, reason };
  }
  const { idleExpiresAt, absoluteExpiresAt, expiresAt } = state.expiry;
  // Ends round up and the server time down, so the SDK's zero never comes before the server's end.
  const end = (ms: number): number => Math.ceil(ms / 1000);
  return {
    active: true,
    server_time,
    idle_expires_at: end(idleExpiresAt),
    absolute_expires_at: end(absoluteExpiresAt),
    expires_at: end(expiresAt),
    ends_by: absoluteExpiresAt <= idleExpiresAt ? 'absolute' : 'idle',
  };
}

/** Origins of the registered apps' redirect URIs, re-read at most every 30 s. */
function appOrigins(deps: SessionStatusDeps) {
  let cached: { at: number; origins: Set<string> } | null = null;
  return async (): Promise<Set<string>> => {
    const now = deps.clock.now();
    if (cached && now - cached.at < ORIGIN_CACHE_MS && now >= cached.at) return cached.origins;
    const origins = new Set<string>([new URL(deps.publicUrl).origin]);
    for (const client of await deps.clients.list()) {
      const uris = [...((client.metadata.redirect_uris as unknown[]) ?? []), ...((client.metadata.post_logout_redirect_uris as unknown[]) ?? [])];
      for (const uri of uris) {
        try {
          // Only web origins: a native app's custom scheme has the origin "null", which must never be allowed.
          const url = typeof uri === 'string' ? new URL(uri) : null;
          if (url && (url.protocol === 'https:' || url.protocol === 'http:')) origins.add(url.origin);
        } catch {
          // A malformed URI was refused at registration; nothing to allow.
        }
      }
    }
    cached = { at: now, origins };
    return origins;
  };
}

export function sessionStatusRoutes(deps: SessionStatusDeps) {
  const origins = appOrigins(deps);
  const sdk = readFileSync(SDK_FILE, 'utf8');

  async function cors(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin;
    reply.header('vary', 'Origin');
    if (!origin || !(await origins()).has(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.options(SESSION_STATUS_PATH, async (request, reply) => {
      await cors(request, reply);
      return reply
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'X-Portcullis-Activity')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    });

    app.get(SESSION_STATUS_PATH, async (request, reply) => {
      await cors(request, reply);
      const found = await deps.sessions.peek(request.cookies[SESSION_COOKIE]);
      return reply.header('cache-control', 'no-store').header('cross-origin-resource-policy', 'same-site').send(statusBody(found, deps.clock.now()));
    });

    app.post(SESSION_STATUS_PATH, async (request, reply) => {
      await cors(request, reply);
      // The custom header cannot be sent cross-site without a CORS preflight this route only grants to registered
      // apps: that is the CSRF protection (a form post cannot set it).
      if (request.headers[ACTIVITY_HEADER] !== '1') {
        throw new PortcullisError('invalid_input', { message: 'Send the X-Portcullis-Activity: 1 header to report activity.' });
      }
      const found = await deps.sessions.recordActivity(request.cookies[SESSION_COOKIE]);
      return reply.header('cache-control', 'no-store').header('cross-origin-resource-policy', 'same-site').send(statusBody(found, deps.clock.now()));
    });

    app.get('/sdk/session.js', async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        // Public code that apps load as a module script from their own origin.
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .send(sdk),
    );
  };
}
