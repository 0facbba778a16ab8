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

const OIDC_ROUTES = new Set(['/oidc', '/oidc/*']);

/**
 * The route label: Fastify's route pattern, 'oidc' for the provider's mount, or 'unmatched'. Never the raw URL, so the
 * number of series stays bounded. Real connections to the mount bypass Fastify and are labelled 'oidc' by
 * oidc-mount.ts; requests injected through Fastify reach it by the catch-all routes here.
 */
export function routeLabel(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  if (!pattern || request.is404) return 'unmatched';
  return OIDC_ROUTES.has(pattern) ? 'oidc' : pattern;
}

/** Adds an onResponse hook observing every Fastify response (routes and 404s). Call on the root instance before ready. */
export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  // A callback hook, not an async one: no promise per response.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.httpObserver({ method: request.method, route: routeLabel(request), statusCode: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    done();
  });
}
