// Builds the OpenAPI 3.1 document from the route table (the same entries api-routes.ts registers).
import { z } from 'zod';
import { ADMIN_SCOPES } from '../../admin/principal.js';
import { errorSchema, stripDialect } from './api-schemas.js';
import type { ApiRoute } from './api-table.js';

type Json = Record<string, unknown>;

const SCOPE_DESCRIPTIONS: Record<(typeof ADMIN_SCOPES)[number], string> = {
  'users:read': 'List, search and read users.',
  'users:write': 'Create, change, disable, enable and delete users.',
  'security:read': 'Read blocks, throttled IPs, passkeys, sessions, the event log and (operators) the settings.',
  'security:write': 'Lift blocks, release IPs, reset 2FA, remove passkeys, end sessions and (operators) change the settings.',
};

const ERROR_RESPONSES: Record<string, { status: number; description: string; headers?: Json }> = {
  BadRequest: { status: 400, description: 'The request is not valid (`invalid_input`): unknown or malformed fields, parameters or JSON; the message names the field.' },
  Unauthorized: {
    status: 401,
    description: 'No valid access token (`unauthorized`).',
    headers: { 'WWW-Authenticate': { description: 'Always `Bearer …`.', schema: { type: 'string' } } },
  },
  Forbidden: { status: 403, description: 'The token lacks the scope, or the route is for operators only (`forbidden`).' },
  NotFound: { status: 404, description: 'No such record, or it belongs to another organization (`not_found`).' },
  Conflict: { status: 409, description: 'It already exists, or the settings changed concurrently (`conflict`).' },
  UnsupportedMediaType: { status: 415, description: 'The body is not `application/json` (`unsupported_media_type`).' },
};

/** Converts a zod schema to JSON Schema, moving named schemas (meta `id`) into `components.schemas`. */
function converter(components: Json) {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/\$defs\//, '#/components/schemas/');
        // zod's bounds for a plain int are JavaScript's safe-integer range: noise in a document.
        else if ((k === 'minimum' && v === Number.MIN_SAFE_INTEGER) || (k === 'maximum' && v === Number.MAX_SAFE_INTEGER)) continue;
        else out[k] = rewrite(v);
      }
      return out;
    }
    return value;
  };
  return (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const converted = stripDialect(z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json);
    const { $defs, ...rest } = converted as Json & { $defs?: Record<string, Json> };
    for (const [name, def] of Object.entries($defs ?? {})) components[name] = rewrite(def);
    const id = (rest as { id?: unknown }).id;
    if (typeof id === 'string') {
      const { id: _id, ...named } = rest;
      components[id] = rewrite(named);
      return { $ref: `#/components/schemas/${id}` };
    }
    return rewrite(rest) as Json;
  };
}

/** `/users/:id` → `/users/{id}`. */
export function openApiPath(prefix: string, path: string): string {
  return `${prefix}${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  if (!schema) return {};
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodType>;
  throw new Error('API parameters must be described by a zod object');
}

function parameters(route: ApiRoute, convert: ReturnType<typeof converter>): Json[] {
  const out: Json[] = [];
  for (const [location, schema] of [['path', route.params], ['query', route.query]] as const) {
    for (const [name, field] of Object.entries(objectShape(schema))) {
      const { description, ...json } = convert(field, 'input') as Json & { description?: string };
      const required = location === 'path' || !field.safeParse(undefined).success;
      const multi = JSON.stringify(json).includes('"type":"array"');
      out.push({ name, in: location, required, ...(description ? { description } : {}), schema: json, ...(multi ? { style: 'form', explode: true } : {}) });
    }
  }
  return out;
}

const ref = (name: string): Json => ({ $ref: `#/components/responses/${name}` });

export function buildOpenApi(routes: readonly ApiRoute[], options: { prefix: string; issuer: string; publicUrl: string }): Json {
  const schemas: Json = {};
  const convert = converter(schemas);
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const responses: Json = {};
    const success: Json = { description: route.response.description };
    if (route.response.status !== 204 && route.response.schema) success.content = { 'application/json': { schema: convert(route.response.schema, 'output') } };
    responses[String(route.response.status)] = success;
    if (route.errors.includes(400) || route.query || route.body) responses['400'] = ref('BadRequest');
    if (route.scope !== null) {
      responses['401'] = ref('Unauthorized');
      responses['403'] = ref('Forbidden');
    }
    if (route.errors.includes(404) || route.params) responses['404'] = ref('NotFound');
    if (route.errors.includes(409)) responses['409'] = ref('Conflict');
    if (route.body) responses['415'] = ref('UnsupportedMediaType');
    const params = parameters(route, convert);
    const operation: Json = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: [
        route.description,
        route.scope ? `Needs the \`${route.scope}\` scope${route.operatorOnly ? ' and an operator client (not bound to an organization)' : ''}.` : 'Public: no token needed.',
      ]
        .filter(Boolean)
        .join('\n\n'),
      security: route.scope ? [{ oauth2: [route.scope] }, { bearer: [] }] : [],
      ...(params.length ? { parameters: params } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.bodyDocument ? route.bodyDocument() : convert(route.body, 'input') } } } }
        : {}),
      responses,
      ...(route.operatorOnly ? { 'x-operator-only': true } : {}),
    };
    const path = openApiPath(options.prefix, route.path);
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  const errorRef = convert(errorSchema, 'output');
  const responses: Json = {};
  for (const [name, spec] of Object.entries(ERROR_RESPONSES)) {
    responses[name] = { description: spec.description, ...(spec.headers ? { headers: spec.headers } : {}), content: { 'application/json': { schema: errorRef } } };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis management API',
      version: '1',
      description:
        'Manage users, attack protection, sessions, the security event log and runtime settings. ' +
        'Authenticate with an access token from the OAuth 2.0 client-credentials grant: register a client with ' +
        '`portcullis client add-api --id ID --scopes …`, POST `grant_type=client_credentials&scope=…` to the token URL with HTTP Basic ' +
        'client authentication, and send `Authorization: Bearer <access_token>`. A client registered with `--org` acts as that ' +
        'organization\'s admin: it sees only its organization\'s users and events (others answer 404) and cannot use operator-only routes. ' +
        'JSON in and out; times are ISO 8601 strings; errors are `{ "error": code, "message": sentence }`; responses are never cached.',
    },
    servers: [{ url: options.publicUrl }],
    tags: [
      { name: 'users', description: 'User accounts.' },
      { name: 'security', description: 'Brute-force blocks, throttled IPs, two-factor, passkeys and sessions.' },
      { name: 'events', description: 'The security event log.' },
      { name: 'settings', description: 'Attack-protection settings that change at runtime (operators only).' },
      { name: 'meta', description: 'This document.' },
    ],
    paths,
    components: {
      schemas,
      responses,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token from the client-credentials grant (opaque).' },
        oauth2: {
          type: 'oauth2',
          description: 'Client credentials: HTTP Basic client authentication at the token URL.',
          flows: { clientCredentials: { tokenUrl: `${options.issuer}/token`, scopes: Object.fromEntries(ADMIN_SCOPES.map((s) => [s, SCOPE_DESCRIPTIONS[s]])) } },
        },
      },
    },
  };
}
