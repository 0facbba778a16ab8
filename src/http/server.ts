// Builds the HTTP server: oidc-provider under /oidc (oidc-mount.ts), and Fastify with security headers, cookies, forms
// and one plugin per surface for everything else.
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import http from 'node:http';
import type Provider from 'oidc-provider';
import type { FastifyBaseLogger } from 'fastify';
import { installErrorHandling, sendError } from './errors.js';
import { installSecurityHeaders, securityHeaders } from './security-headers.js';
import { PortcullisError } from '../domain/errors.js';
import { createOidcMount, isOidcPath, OIDC_MOUNT, type OidcMountOptions } from './oidc-mount.js';
import type { TrustProxySetting } from './client-ip.js';

export interface ServerOptions {
  logger: FastifyBaseLogger;
  trustProxy: TrustProxySetting;
  productName: string;
  secureCookies: boolean;
  publicUrl: string;
  /** Extra origins an external CAPTCHA widget needs for its script, frame and calls. */
  captchaOrigins?: readonly string[];
  provider: Provider;
  plugins: FastifyPluginAsync[];
  /** Observes the responses of the OIDC mount (Fastify's own are observed by installHttpMetrics). */
  httpObserver?: OidcMountOptions['observe'];
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const headers = securityHeaders({ captchaOrigins: options.captchaOrigins, hsts: options.secureCookies });
  let closing = false;
  const oidc = createOidcMount({
    handler: options.provider.callback(),
    publicUrl: options.publicUrl,
    trustProxy: options.trustProxy,
    headers,
    logger: options.logger as unknown as OidcMountOptions['logger'],
    observe: options.httpObserver,
    isClosing: () => closing,
  });
  const app: FastifyInstance = Fastify({
    // oidc-provider is answered beside Fastify, on the same server (oidc-mount.ts, ADR 0013); everything else goes to Fastify.
    // The timeouts are the ones Fastify gives the servers it creates itself.
    serverFactory: (handler) => {
      const server = http.createServer((req, res) => (isOidcPath(req.url) ? oidc(req, res) : handler(req, res)));
      server.keepAliveTimeout = 72_000;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
    loggerInstance: options.logger,
    trustProxy: options.trustProxy === false ? false : options.trustProxy,
    bodyLimit: 64 * 1024,
    // Passkey credential ids in API paths can exceed Fastify's default of 100 characters.
    routerOptions: { maxParamLength: 2048 },
    requestIdHeader: false,
    return503OnClosing: true,
    // Routing errors (overlong or undecodable URLs) get our error page, not Fastify's JSON echo of the URL.
    frameworkErrors: (error, request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 400;
      sendError(request, reply, options.productName, status, 'invalid_input', 'This address is not valid.');
    },
  });
  installErrorHandling(app, options.productName);
  installSecurityHeaders(app, headers);
  app.addHook('preClose', async () => {
    closing = true;
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // Requests that come through Fastify itself rather than the server (inject, in tests) reach the same mount through
  // catch-all routes. It takes over in onRequest, before Fastify would read the body the provider parses itself.
  await app.register(async (scope) => {
    const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
      // Fastify routes absolute-form targets (`GET http://host/oidc/...`) by their path; the provider would not.
      if (!isOidcPath(request.raw.url)) throw new PortcullisError('not_found');
      reply.hijack();
      oidc(request.raw, reply.raw, false);
    };
    const unreachable = async () => undefined;
    scope.all(OIDC_MOUNT, { onRequest: handOver }, unreachable);
    scope.all(`${OIDC_MOUNT}/*`, { onRequest: handOver }, unreachable);
  });
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}
