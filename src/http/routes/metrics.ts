// GET /metrics in Prometheus text format, behind an optional bearer token; and the hook feeding the HTTP latency histogram.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../../crypto/constant-time.js';
import type { Metrics } from '../../metrics/metrics.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** When non-empty, scrapes must send `Authorization: Bearer <token>`. */
  token: string;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

export function metricsRoutes(options: MetricsRouteOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/metrics', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (options.token) {
        const presented = bearerToken(request.headers.authorization);
        if (presented === null || !constantTimeEqual(presented, options.token)) {
          return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain; charset=utf-8').send('Unauthorized\n');
        }
      }
      const body = await options.metrics.metrics();
      return reply.type(PROMETHEUS_TEXT).send(body);
    });
  };
}

export interface HttpMetricsOptions {
  /** Path prefixes served by mounted (non-Fastify) handlers, and the route label each gets. Default: /oidc → 'oidc'. */
  mounts?: Record<string, string>;
}

/**
 * The route label: Fastify's route pattern, the mount's name for the OIDC provider (served through middie behind
 * its catch-all routes), or 'unmatched'. Never the raw URL, so the number of series stays bounded.
 */
export function routeLabel(request: FastifyRequest, mounts: Record<string, string>): string {
  const pattern = request.routeOptions.url;
  if (pattern && !request.is404 && !Object.hasOwn(mounts, pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern)) return pattern;
  // middie rewrites request.url to the part after the mount prefix; originalUrl keeps what the client sent.
  const raw = (request.raw as { originalUrl?: string }).originalUrl ?? request.url;
  const path = raw.split('?', 1)[0] ?? '';
  for (const [prefix, label] of Object.entries(mounts)) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return label;
  }
  return 'unmatched';
}

/** Adds an onResponse hook observing every response (routes, the OIDC mount and 404s). Call on the root instance before ready. */
export function installHttpMetrics(app: FastifyInstance, metrics: Metrics, options: HttpMetricsOptions = {}): void {
  const mounts = options.mounts ?? { '/oidc': 'oidc' };
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.httpObserver({ method: request.method, route: routeLabel(request, mounts), statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
  });
}
