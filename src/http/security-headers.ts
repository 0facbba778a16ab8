// The security headers of every response, Fastify's and oidc-provider's alike: computed once at start, set per
// request. They are the headers helmet produced with our options; helmet re-parsed the CSP on every request (ADR 0012).
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface SecurityHeaderOptions {
  /** Extra origins an external CAPTCHA widget needs for its script, frame and calls. */
  captchaOrigins?: readonly string[];
  /** Strict-Transport-Security, when the public URL is https. */
  hsts: boolean;
}

export function contentSecurityPolicy(captchaOrigins: readonly string[] = []): string {
  const withCaptcha = (sources: string[]): string => [...sources, ...captchaOrigins].join(' ');
  return [
    "default-src 'self'",
    `script-src ${withCaptcha(["'self'"])}`,
    `frame-src ${withCaptcha(["'self'"])}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${withCaptcha(["'self'"])}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    // form-action is deliberately absent: the login POST redirects to the app's own origin (STACK.md).
  ].join(';');
}

export function securityHeaders(options: SecurityHeaderOptions): ReadonlyArray<readonly [string, string]> {
  return [
    ['content-security-policy', contentSecurityPolicy(options.captchaOrigins)],
    ['cross-origin-opener-policy', 'same-origin'],
    ['cross-origin-resource-policy', 'same-origin'],
    ['origin-agent-cluster', '?1'],
    ['referrer-policy', 'no-referrer'],
    ...(options.hsts ? ([['strict-transport-security', 'max-age=31536000; includeSubDomains']] as const) : []),
    ['x-content-type-options', 'nosniff'],
    ['x-dns-prefetch-control', 'off'],
    ['x-download-options', 'noopen'],
    ['x-frame-options', 'SAMEORIGIN'],
    ['x-permitted-cross-domain-policies', 'none'],
    ['x-xss-protection', '0'],
  ];
}

export function setSecurityHeaders(res: ServerResponse, headers: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}

/** Sets the headers on the raw response first thing, so every response carries them, error pages included. */
export function installSecurityHeaders(app: FastifyInstance, headers: ReadonlyArray<readonly [string, string]>): void {
  app.addHook('onRequest', (_request, reply, done) => {
    setSecurityHeaders(reply.raw, headers);
    done();
  });
}
