// The one route table of the management API: api-routes.ts registers every entry with Fastify and openapi.ts
// describes every entry, so the routes and their documentation cannot drift apart.
import { z } from 'zod';
import type { AdminService } from '../../admin/admin-service.js';
import type { AdminScope, Principal } from '../../admin/principal.js';
import { PortcullisError } from '../../domain/errors.js';
import {
  blockOut,
  blocksSchema,
  createUserBody,
  eventOut,
  eventPageSchema,
  eventsQuery,
  historyQuery,
  listUsersQuery,
  passkeyOut,
  passkeyParams,
  passkeySchema,
  releaseBody,
  sessionOut,
  sessionParams,
  sessionSchema,
  settingsHistorySchema,
  settingsPatchBody,
  settingsPatchDocument,
  settingsRecordOut,
  settingsRecordSchema,
  settingsSchema,
  throttledOut,
  unblockBody,
  updateUserBody,
  userIdParams,
  userListSchema,
  userOut,
  userSchema,
} from './api-schemas.js';

export type ApiMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiContext<P, Q, B> {
  principal: Principal;
  params: P;
  query: Q;
  body: B;
  admin: AdminService;
  /** The OpenAPI document (for the one route that serves it). */
  openapi(): Record<string, unknown>;
}

/** Error statuses a route can answer besides 401/403 (which every authenticated route can). */
export type ApiErrorStatus = 400 | 404 | 409;

export interface ApiRoute {
  operationId: string;
  method: ApiMethod;
  /** Fastify syntax (`:id`), relative to /api/v1. */
  path: string;
  tag: 'users' | 'security' | 'events' | 'settings' | 'meta';
  summary: string;
  description?: string;
  /** The scope a token needs; null for the one public route (the OpenAPI document). */
  scope: AdminScope | null;
  /** Organization-bound clients get 403. */
  operatorOnly?: boolean;
  params?: z.ZodType;
  /** What a path parameter that fails `params` means (answered 404). */
  notFoundMessage?: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Overrides the documented request body schema (when `body` delegates validation to the use-case). */
  bodyDocument?: () => Record<string, unknown>;
  response: { status: 200 | 201 | 204; description: string; schema?: z.ZodType };
  errors: readonly ApiErrorStatus[];
  handle(ctx: ApiContext<any, any, any>): Promise<unknown>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** Types one entry: the handler sees the parsed params, query and body. */
function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: Omit<ApiRoute, 'params' | 'query' | 'body' | 'handle'> & { params?: P; query?: Q; body?: B; handle(ctx: ApiContext<Out<P>, Out<Q>, Out<B>>): Promise<unknown> },
): ApiRoute {
  return spec as ApiRoute;
}

const NO_USER = 'No user with this id.';

export const API_ROUTES: readonly ApiRoute[] = [
  route({
    operationId: 'listUsers',
    method: 'GET',
    path: '/users',
    tag: 'users',
    summary: 'List and search users',
    description: 'Newest first. Organization-bound clients see only their organization\'s users.',
    scope: 'users:read',
    query: listUsersQuery,
    response: { status: 200, description: 'A page of users.', schema: userListSchema },
    errors: [400],
    async handle({ admin, principal, query }) {
      const page = await admin.listUsers(principal, { query: query.query, limit: query.limit, offset: query.offset });
      return { users: page.users.map(userOut), total: page.total, limit: page.limit, offset: page.offset };
    },
  }),
  route({
    operationId: 'createUser',
    method: 'POST',
    path: '/users',
    tag: 'users',
    summary: 'Create a user',
    description: 'The email counts as verified. An organization-bound client always creates users in its own organization.',
    scope: 'users:write',
    body: createUserBody,
    response: { status: 201, description: 'The new user.', schema: userSchema },
    errors: [400, 409],
    async handle({ admin, principal, body }) {
      return userOut(await admin.createUser(principal, body));
    },
  }),
  route({
    operationId: 'getUser',
    method: 'GET',
    path: '/users/:id',
    tag: 'users',
    summary: 'Get a user',
    scope: 'users:read',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'The user.', schema: userSchema },
    errors: [404],
    async handle({ admin, principal, params }) {
      return userOut(await admin.getUser(principal, params.id));
    },
  }),
  route({
    operationId: 'updateUser',
    method: 'PATCH',
    path: '/users/:id',
    tag: 'users',
    summary: 'Change a user',
    description: 'Only the fields sent change. `disabled: true` also ends every session of the user.',
    scope: 'users:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    body: updateUserBody,
    response: { status: 200, description: 'The user after the change.', schema: userSchema },
    errors: [400, 404, 409],
    async handle({ admin, principal, params, body }) {
      return userOut(await admin.updateUser(principal, params.id, body));
    },
  }),
  route({
    operationId: 'disableUser',
    method: 'POST',
    path: '/users/:id/disable',
    tag: 'users',
    summary: 'Disable a user',
    description: 'The user can no longer sign in and every session ends. Disabling a disabled user changes nothing.',
    scope: 'users:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'The user after the change.', schema: userSchema },
    errors: [400, 404],
    async handle({ admin, principal, params }) {
      return userOut(await admin.updateUser(principal, params.id, { disabled: true }));
    },
  }),
  route({
    operationId: 'enableUser',
    method: 'POST',
    path: '/users/:id/enable',
    tag: 'users',
    summary: 'Enable a disabled user',
    scope: 'users:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'The user after the change.', schema: userSchema },
    errors: [400, 404],
    async handle({ admin, principal, params }) {
      return userOut(await admin.updateUser(principal, params.id, { disabled: false }));
    },
  }),
  route({
    operationId: 'deleteUser',
    method: 'DELETE',
    path: '/users/:id',
    tag: 'users',
    summary: 'Delete a user',
    description: 'Deletes the account with its sessions, passkeys, 2FA and devices; its security events stay.',
    scope: 'users:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 204, description: 'Deleted.' },
    errors: [400, 404],
    async handle({ admin, principal, params }) {
      await admin.deleteUser(principal, params.id);
    },
  }),
  route({
    operationId: 'listBlocks',
    method: 'GET',
    path: '/blocks',
    tag: 'security',
    summary: 'List brute-force blocks and throttled IPs',
    description: 'Blocks are per (account, IP). Organization-bound clients see their organization\'s accounts only and no throttled IPs.',
    scope: 'security:read',
    response: { status: 200, description: 'Current blocks.', schema: blocksSchema },
    errors: [],
    async handle({ admin, principal }) {
      const { blocks, throttled } = await admin.listBlocks(principal);
      return { blocks: blocks.map(blockOut), throttled: throttled.map(throttledOut) };
    },
  }),
  route({
    operationId: 'unblock',
    method: 'POST',
    path: '/blocks/unblock',
    tag: 'security',
    summary: 'Lift brute-force blocks of an account',
    scope: 'security:write',
    body: unblockBody,
    response: { status: 200, description: 'How many (account, IP) blocks were lifted.', schema: z.object({ cleared: z.number().int() }) },
    errors: [400, 404],
    async handle({ admin, principal, body }) {
      return { cleared: await admin.unblock(principal, body.identifier, body.ip ?? null) };
    },
  }),
  route({
    operationId: 'releaseIp',
    method: 'POST',
    path: '/throttled/release',
    tag: 'security',
    summary: 'Release a throttled IP',
    description: 'Refills the IP\'s failed-login tokens. Operators only: throttling spans every account.',
    scope: 'security:write',
    operatorOnly: true,
    body: releaseBody,
    response: { status: 200, description: 'Whether the IP was throttled.', schema: z.object({ released: z.boolean() }) },
    errors: [400],
    async handle({ admin, principal, body }) {
      return { released: await admin.releaseIp(principal, body.ip) };
    },
  }),
  route({
    operationId: 'resetTwoFactor',
    method: 'POST',
    path: '/users/:id/reset-2fa',
    tag: 'security',
    summary: 'Reset a user\'s two-factor authentication',
    description: 'Removes TOTP and recovery codes (passkeys stay); the user is emailed.',
    scope: 'security:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'Whether anything was removed.', schema: z.object({ removed: z.boolean() }) },
    errors: [404],
    async handle({ admin, principal, params }) {
      return await admin.resetTwoFactor(principal, params.id);
    },
  }),
  route({
    operationId: 'listPasskeys',
    method: 'GET',
    path: '/users/:id/passkeys',
    tag: 'security',
    summary: 'List a user\'s passkeys',
    scope: 'security:read',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'The passkeys.', schema: z.object({ passkeys: z.array(passkeySchema) }) },
    errors: [404],
    async handle({ admin, principal, params }) {
      return { passkeys: (await admin.listPasskeys(principal, params.id)).map(passkeyOut) };
    },
  }),
  route({
    operationId: 'deletePasskey',
    method: 'DELETE',
    path: '/users/:id/passkeys/:credentialId',
    tag: 'security',
    summary: 'Remove a user\'s passkey',
    scope: 'security:write',
    params: passkeyParams,
    notFoundMessage: 'No passkey with this id for this user.',
    response: { status: 204, description: 'Removed.' },
    errors: [404],
    async handle({ admin, principal, params }) {
      if (!(await admin.deletePasskey(principal, params.id, params.credentialId))) {
        throw new PortcullisError('not_found', { message: 'No passkey with this id for this user.' });
      }
    },
  }),
  route({
    operationId: 'listSessions',
    method: 'GET',
    path: '/users/:id/sessions',
    tag: 'security',
    summary: 'List a user\'s active sessions',
    scope: 'security:read',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'The active sessions.', schema: z.object({ sessions: z.array(sessionSchema) }) },
    errors: [404],
    async handle({ admin, principal, params }) {
      return { sessions: (await admin.listSessions(principal, params.id)).map(sessionOut) };
    },
  }),
  route({
    operationId: 'revokeSession',
    method: 'DELETE',
    path: '/users/:id/sessions/:sessionId',
    tag: 'security',
    summary: 'End one session of a user',
    description: 'The apps signed in through it are told at the next session sweep.',
    scope: 'security:write',
    params: sessionParams,
    notFoundMessage: 'No session with this id for this user.',
    response: { status: 204, description: 'Ended.' },
    errors: [404],
    async handle({ admin, principal, params }) {
      await admin.revokeSessions(principal, params.id, params.sessionId);
    },
  }),
  route({
    operationId: 'revokeSessions',
    method: 'DELETE',
    path: '/users/:id/sessions',
    tag: 'security',
    summary: 'End every session of a user',
    description: 'Also revokes the user\'s app tokens; apps are told at the next session sweep.',
    scope: 'security:write',
    params: userIdParams,
    notFoundMessage: NO_USER,
    response: { status: 200, description: 'How many sessions ended.', schema: z.object({ revoked: z.number().int() }) },
    errors: [404],
    async handle({ admin, principal, params }) {
      return { revoked: await admin.revokeSessions(principal, params.id, null) };
    },
  }),
  route({
    operationId: 'queryEvents',
    method: 'GET',
    path: '/events',
    tag: 'events',
    summary: 'Search the security event log',
    description: 'Newest first, paged by cursor. Organization-bound clients see only events of their organization\'s users.',
    scope: 'security:read',
    query: eventsQuery,
    response: { status: 200, description: 'A page of events.', schema: eventPageSchema },
    errors: [400],
    async handle({ admin, principal, query }) {
      const page = await admin.queryEvents(principal, {
        userId: query.userId,
        ip: query.ip,
        codes: query.code,
        since: query.since,
        until: query.until,
        before: query.cursor ?? null,
        limit: query.limit ?? 50,
      });
      return { events: page.events.map(eventOut), next: page.next };
    },
  }),
  route({
    operationId: 'getSettings',
    method: 'GET',
    path: '/settings',
    tag: 'settings',
    summary: 'Read the attack-protection settings',
    scope: 'security:read',
    operatorOnly: true,
    response: { status: 200, description: 'The effective settings and the runtime overlay.', schema: settingsSchema },
    errors: [],
    async handle({ admin, principal }) {
      const { effective, overlay } = await admin.getSettings(principal);
      return { effective, overlay: overlay ? settingsRecordOut(overlay) : null };
    },
  }),
  route({
    operationId: 'updateSettings',
    method: 'PATCH',
    path: '/settings',
    tag: 'settings',
    summary: 'Change attack-protection settings at runtime',
    description: 'Validated like the configuration file; every node applies it within its poll interval. Recorded as a `settings_changed` event.',
    scope: 'security:write',
    operatorOnly: true,
    body: settingsPatchBody,
    bodyDocument: settingsPatchDocument,
    response: { status: 200, description: 'The new version of the overlay.', schema: settingsRecordSchema },
    errors: [400, 409],
    async handle({ admin, principal, body }) {
      return settingsRecordOut(await admin.updateSettings(principal, body));
    },
  }),
  route({
    operationId: 'settingsHistory',
    method: 'GET',
    path: '/settings/history',
    tag: 'settings',
    summary: 'Past versions of the runtime settings',
    scope: 'security:read',
    operatorOnly: true,
    query: historyQuery,
    response: { status: 200, description: 'Versions, newest first.', schema: settingsHistorySchema },
    errors: [400],
    async handle({ admin, principal, query }) {
      return { history: (await admin.settingsHistory(principal, query.limit ?? 20)).map(settingsRecordOut) };
    },
  }),
  route({
    operationId: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This API\'s OpenAPI 3.1 document',
    scope: null,
    response: { status: 200, description: 'The OpenAPI document.', schema: z.record(z.string(), z.unknown()) },
    errors: [],
    async handle({ openapi }) {
      return openapi();
    },
  }),
];

export const API_PREFIX = '/api/v1';
