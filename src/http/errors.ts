// Turns every error into a clear 4xx, a 503 with Retry-After while a dependency is down, or a logged 500, as HTML for browsers and JSON for APIs; never a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, isPortcullisError, type ErrorCode } from '../domain/errors.js';
import { errorPage } from './views/pages.js';

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  if (status === 403) return 'csrf_failed';
  return 'invalid_input';
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') || (!accept.includes('application/json') && request.method === 'POST' && String(request.headers['content-type'] ?? '').includes('form'));
}

export function sendError(request: FastifyRequest, reply: FastifyReply, productName: string, status: number, code: ErrorCode, message: string): FastifyReply {
  reply.code(status);
  if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').send(errorPage(productName, status, message));
  return reply.type('application/json; charset=utf-8').send({ error: code, message });
}

export function installErrorHandling(app: FastifyInstance, productName: string): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isPortcullisError(error) && error.status < 500) {
      return sendError(request, reply, productName, error.status, error.code, error.publicMessage);
    }
    if (isPortcullisError(error) && error.status === 503) {
      // A dependency (e.g. Redis) is down: an expected condition, so a warning with the detail, not an `unhandled error`.
      request.log.warn({ code: error.code, detail: error.detail }, 'service unavailable');
      reply.header('Retry-After', String(error.retryAfterSeconds ?? 60));
      return sendError(request, reply, productName, 503, error.code, error.publicMessage);
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = codeForStatus(status);
      return sendError(request, reply, productName, status, code, ERROR_CODES[code].message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, productName, 500, 'internal', ERROR_CODES.internal.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, productName, 404, 'not_found', ERROR_CODES.not_found.message));
}
