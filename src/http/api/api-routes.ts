// The management API (/api/v1): JSON only, stable error codes, client-credentials bearer tokens. Every route comes from
// the table in api-table.ts, which also produces the OpenAPI document served at /api/v1/openapi.json.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AdminService } from '../../admin/admin-service.js';
import type { Principal } from '../../admin/principal.js';
import type { Clock } from '../../domain/clock.js';
import { ERROR_CODES, isPortcullisError, PortcullisError, type ErrorCode } from '../../domain/errors.js';
import { API_PREFIX, API_ROUTES, type ApiRoute } from './api-table.js';
import { buildOpenApi } from './openapi.js';

export interface ApiDeps {
  admin: AdminService;
  /** The principal for a bearer token (client credentials issued by this Portcullis), or null. */
  authenticate(token: string): Promise<Principal | null>;
  clock: Clock;
  issuer: string;
  publicUrl: string;
}

/** The principal of the one public route (the OpenAPI document): no scopes, confined to no organization's data. */
const ANONYMOUS: Principal = { kind: 'org_admin', orgId: '-', scopes: new Set(), actor: 'anonymous' };

const MESSAGES = {
  missingToken: 'Send an access token: Authorization: Bearer <token> (client credentials from POST /oidc/token).',
  invalidToken: 'The access token is invalid or expired. Get a new one from POST /oidc/token.',
  notJson: 'Send the body as JSON (Content-Type: application/json).',
  badJson: 'The request body is not valid JSON.',
  noBody: 'This request takes no body.',
  needBody: 'Send a JSON object as the body.',
} as const;

function sendJson(reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: code, message });
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  return 'invalid_input';
}

/** Zod issues as one sentence that names each offending field. */
function describeIssues(error: z.ZodError, where: string): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `Invalid ${where}: ${parts.join('; ')}${error.issues.length > 5 ? '; …' : ''}.`;
}

function parseWith(schema: z.ZodType, value: unknown, where: string): unknown {
  const result = schema.safeParse(value);
  if (!result.success) throw new PortcullisError('invalid_input', { message: describeIssues(result.error, where) });
  return result.data;
}

const isJsonContentType = (request: FastifyRequest): boolean => /^application\/json\s*(;|$)/i.test(String(request.headers['content-type'] ?? ''));
const isEmptyObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/**
 * Why a decoded input cannot reach the store: PostgreSQL refuses NUL characters in text (a 500, not the caller's 400),
 * and nothing in this API nests deeper than a few levels. Null when it is fine.
 */
function unsafeInput(value: unknown, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? 'Text must not contain NUL characters.' : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= 32) return 'The JSON nests too deeply.';
  for (const item of Object.values(value)) {
    const problem = unsafeInput(item, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** JSON.parse that refuses `__proto__` keys (prototype poisoning through later merges). */
function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__') throw new SyntaxError('__proto__ is not allowed');
    return value;
  });
}

export function apiRoutes(deps: ApiDeps) {
  let document: Record<string, unknown> | null = null;
  const openapi = () => (document ??= buildOpenApi(API_ROUTES, { prefix: API_PREFIX, issuer: deps.issuer, publicUrl: deps.publicUrl }));
  const principals = new WeakMap<FastifyRequest, Principal>();

  return async (app: FastifyInstance): Promise<void> => {
    await app.register(
      async (api) => {
        // JSON is the only body this API reads: no forms, no text/plain (Fastify answers other types with 415).
        api.removeAllContentTypeParsers();
        api.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
          try {
            done(null, parseJsonBody(String(body)));
          } catch {
            done(new PortcullisError('invalid_input', { message: MESSAGES.badJson }), undefined);
          }
        });

        // Always JSON, whatever the Accept header says: this is no browser surface.
        api.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
          if (isPortcullisError(error) && error.status < 500) {
            if (error.code === 'unauthorized') {
              reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="portcullis", error="invalid_token"' : 'Bearer realm="portcullis"');
            }
            return sendJson(reply, error.status, error.code, error.publicMessage);
          }
          const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
          if (status >= 400 && status < 500) {
            const code = codeForStatus(status);
            return sendJson(reply, status, code, code === 'unsupported_media_type' ? MESSAGES.notJson : ERROR_CODES[code].message);
          }
          request.log.error({ err: error }, 'unhandled API error');
          return sendJson(reply, 500, 'internal', ERROR_CODES.internal.message);
        });
        api.setNotFoundHandler((_request, reply) => sendJson(reply, 404, 'not_found', 'No such API route. The routes are listed at /api/v1/openapi.json.'));

        api.addHook('onSend', async (_request, reply, payload) => {
          reply.header('cache-control', 'no-store');
          return payload;
        });

        // Authentication and the scope check come before the body is read: a caller without the right token learns nothing else.
        api.addHook('onRequest', async (request) => {
          const route = (request.routeOptions.config as { api?: ApiRoute }).api;
          if (!route || route.scope === null) return;
          const header = request.headers.authorization;
          const token = /^Bearer +([^\s]+)\s*$/i.exec(header ?? '')?.[1];
          const principal = token ? await deps.authenticate(token) : null;
          if (!principal) throw new PortcullisError('unauthorized', { message: header ? MESSAGES.invalidToken : MESSAGES.missingToken });
          if (!principal.scopes.has(route.scope)) throw new PortcullisError('forbidden', { message: `This needs the "${route.scope}" scope.` });
          if (route.operatorOnly && principal.kind !== 'operator') throw new PortcullisError('forbidden', { message: 'Only operator clients (not bound to an organization) can do this.' });
          principals.set(request, principal);
        });

        for (const route of API_ROUTES) {
          api.route({
            method: route.method,
            url: route.path,
            exposeHeadRoute: false,
            config: { api: route } as never,
            handler: async (request, reply) => {
              const params = route.params ? route.params.safeParse(request.params) : null;
              if (params && !params.success) throw new PortcullisError('not_found', { message: route.notFoundMessage ?? ERROR_CODES.not_found.message });
              const problem = unsafeInput(request.query) ?? unsafeInput(request.body);
              if (problem) throw new PortcullisError('invalid_input', { message: problem });
              const query = route.query ? parseWith(route.query, { ...(request.query as object) }, 'query') : {};
              if (!route.query && Object.keys(request.query as object).length > 0) throw new PortcullisError('invalid_input', { message: 'This request takes no query parameters.' });
              let body: unknown;
              if (route.body) {
                if (!isJsonContentType(request)) throw new PortcullisError('unsupported_media_type', { message: MESSAGES.notJson });
                if (request.body === undefined) throw new PortcullisError('invalid_input', { message: MESSAGES.needBody });
                body = parseWith(route.body, request.body, 'body');
              } else if (request.body !== undefined && !isEmptyObject(request.body)) {
                throw new PortcullisError('invalid_input', { message: MESSAGES.noBody });
              }
              const result = await route.handle({ principal: principals.get(request) ?? ANONYMOUS, params: params?.data ?? {}, query, body, admin: deps.admin, openapi });
              reply.code(route.response.status);
              if (route.response.status === 204) return reply.send();
              return reply.type('application/json; charset=utf-8').send(result);
            },
          });
        }
      },
      { prefix: API_PREFIX },
    );
  };
}
