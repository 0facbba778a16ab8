// Serves /oidc by handing the Node request straight to oidc-provider, beside Fastify rather than through it (ADR 0013).
// The provider is a Koa app with its own routing, body parsing and error handling; Fastify's routing, hooks, cookie
// parsing and middie's middleware engine added half again to a token grant and did nothing the provider used. What
// the mount still does for every request is here: the security headers, the forwarded-header guard, the path rewrite
// middie made, the request metric and log line, and 503 while the server closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { forwardedHeaderGuard } from './forwarded-headers.js';
import { setSecurityHeaders } from './security-headers.js';
import type { TrustProxySetting } from './client-ip.js';

export const OIDC_MOUNT = '/oidc';

/** True for `/oidc`, `/oidc/...` and `/oidc?...`: the provider's paths, matched exactly (not `/oidcx`, not `/OIDC`). */
export function isOidcPath(url: string | undefined): boolean {
  if (!url?.startsWith(OIDC_MOUNT)) return false;
  const next = url.charCodeAt(OIDC_MOUNT.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

export interface OidcMountOptions {
  handler: (req: IncomingMessage, res: ServerResponse) => unknown;
  publicUrl: string;
  trustProxy: TrustProxySetting;
  /** Set on every response before the provider writes anything. */
  headers: ReadonlyArray<readonly [string, string]>;
  logger: Pick<Logger, 'info' | 'isLevelEnabled'>;
  /** Feeds the HTTP latency histogram, labelled as the route 'oidc'. */
  observe?: (sample: { method: string; route: string; statusCode: number; seconds: number }) => void;
  /** While the server shuts down, new requests get 503 (as Fastify's return503OnClosing does for its routes). */
  isClosing: () => boolean;
}

/**
 * `observed` is false when Fastify already observes and logs the request: `inject` (tests) reaches the mount through
 * Fastify's catch-all /oidc routes (server.ts), while real connections reach it straight from the HTTP server.
 */
export function createOidcMount(options: OidcMountOptions): (req: IncomingMessage, res: ServerResponse, observed?: boolean) => void {
  const guard = forwardedHeaderGuard(options.publicUrl, options.trustProxy);
  const { headers, logger, observe } = options;
  return (req, res, observed = true) => {
    const started = performance.now();
    setSecurityHeaders(res, headers);
    const ip = guard(req);
    if (observed && (observe || logger.isLevelEnabled('info'))) {
      res.once('finish', () => {
        const ms = performance.now() - started;
        observe?.({ method: req.method ?? 'GET', route: 'oidc', statusCode: res.statusCode, seconds: ms / 1000 });
        if (logger.isLevelEnabled('info')) {
          // Through the logger's req serializer, which keeps the method, the redacted URL, the peer and the user agent.
          const logged = { method: req.method, url: (req as { originalUrl?: string }).originalUrl ?? req.url, ip, headers: req.headers };
          logger.info({ req: logged, res: { statusCode: res.statusCode }, responseTime: ms }, 'request completed');
        }
      });
    }
    if (options.isClosing()) {
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', connection: 'close', 'retry-after': '5' });
      res.end(JSON.stringify({ error: 'service_unavailable', error_description: 'This server is shutting down. Try again.' }));
      return;
    }
    // The provider works out its mount path from originalUrl minus url, as under Express or middie.
    const url = req.url!;
    (req as { originalUrl?: string }).originalUrl = url;
    const rest = url.slice(OIDC_MOUNT.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    options.handler(req, res);
  };
}
