// CSRF protection for every form: a signed double-submit cookie, with the token bound to the form's scope.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { PortcullisError } from '../domain/errors.js';
import { fixedLengthEqual } from '../crypto/constant-time.js';
import { hmac } from '../crypto/hmac.js';

export const CSRF_COOKIE = 'portcullis_csrf';

export interface Csrf {
  /** Returns the token to embed in a form for `scope`, setting the browser's CSRF cookie if needed. */
  issue(request: FastifyRequest, reply: FastifyReply, scope: string): string;
  /** Throws csrf_failed unless the submitted token matches this browser's cookie and the scope. */
  verify(request: FastifyRequest, scope: string): void;
}

export function createCsrf(key: Buffer, secureCookie: boolean): Csrf {
  const tokenFor = (cookie: string, scope: string): string => hmac(key, `${cookie}|${scope}`);
  return {
    issue(request, reply, scope) {
      let cookie = request.cookies[CSRF_COOKIE];
      if (!cookie || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
        cookie = randomBytes(32).toString('base64url');
        reply.setCookie(CSRF_COOKIE, cookie, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookie });
        request.cookies[CSRF_COOKIE] = cookie;
      }
      return tokenFor(cookie, scope);
    },
    verify(request, scope) {
      const cookie = request.cookies[CSRF_COOKIE];
      // Forms send the token as a field; the page scripts' JSON calls send it as a header.
      const header = request.headers['x-csrf-token'];
      const submitted = (request.body as Record<string, unknown> | undefined)?.csrf ?? (typeof header === 'string' ? header : undefined);
      // The expected token is an HMAC-SHA-256 in base64url: its length (43) is public, its content is compared in constant time.
      if (!cookie || typeof submitted !== 'string' || !fixedLengthEqual(submitted, tokenFor(cookie, scope))) {
        throw new PortcullisError('csrf_failed');
      }
    },
  };
}
