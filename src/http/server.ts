// Builds the Fastify server: security headers, cookies, forms, the OIDC mount and one plugin per surface.
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import helmet from '@fastify/helmet';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import middie from '@fastify/middie';
import type Provider from 'oidc-provider';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { installErrorHandling, sendError } from './errors.js';
import { forwardedHeaderGuard } from './forwarded-headers.js';
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
  // Helmet first so its headers also reach oidc-provider's responses (mounted through middie below).
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...(options.captchaOrigins ?? [])],
        frameSrc: ["'self'", ...(options.captchaOrigins ?? [])],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", ...(options.captchaOrigins ?? [])],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // form-action is deliberately absent: the login POST redirects to the app's own origin (STACK.md).
      },
    },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: options.secureCookies ? { maxAge: 31536000, includeSubDomains: true } : false,
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(middie);
  const guard = forwardedHeaderGuard(options.publicUrl, options.trustProxy);
  app.use('/oidc', (req: IncomingMessage, _res: ServerResponse, next: () => void) => {
    guard(req);
    next();
  });
  app.use('/oidc', options.provider.callback());
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}
