// Builds the Fastify server: security headers, cookies, forms, the OIDC mount and one plugin per surface.
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import middie from '@fastify/middie';
import type Provider from 'oidc-provider';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { installErrorHandling, sendError } from './errors.js';
import { PortcullisError } from '../domain/errors.js';
import { forwardedHeaderGuard } from './forwarded-headers.js';
import { installSecurityHeaders } from './security-headers.js';
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
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
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
  // Security headers first so they also reach oidc-provider's responses (mounted through middie below).
  installSecurityHeaders(app, { captchaOrigins: options.captchaOrigins, hsts: options.secureCookies });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // oidc-provider is mounted through middie in its own context, behind catch-all routes: middie's hook (which copies
  // the client address, host and query onto every request it sees) then runs for /oidc requests only.
  await app.register(async (oidc) => {
    await oidc.register(middie);
    const guard = forwardedHeaderGuard(options.publicUrl, options.trustProxy);
    oidc.use('/oidc', (req: IncomingMessage, _res: ServerResponse, next: () => void) => {
      guard(req);
      next();
    });
    oidc.use('/oidc', options.provider.callback());
    // Reached only if the provider passed a request on without answering it.
    const notFound = async () => {
      throw new PortcullisError('not_found');
    };
    oidc.all('/oidc', notFound);
    oidc.all('/oidc/*', notFound);
  });
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}
