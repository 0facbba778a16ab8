// The management API's wire formats: zod schemas for what comes in (validated) and what goes out (documented, and
// checked by the tests), plus the serializers from the admin service's records (epoch ms) to JSON (ISO strings).
import { isIP } from 'node:net';
import { z } from 'zod';
import type { SessionSummary, UserSummary } from '../../admin/admin-service.js';
import type { BlockedPair, ThrottledIp } from '../../admin/protection.js';
import type { PasskeyView } from '../../account/passkeys.js';
import { EVENT_CODES, type EventCode, type SecurityEvent } from '../../events/event-codes.js';
import type { SettingsRecord } from '../../store/store.js';
import { configSchema } from '../../config/schema.js';
import { RUNTIME_KEYS, RUNTIME_SECTIONS } from '../../settings/runtime-settings.js';
import { ERROR_CODES } from '../../domain/errors.js';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

const time = (description: string) => z.string().meta({ format: 'date-time', description });

// ---- inputs ---------------------------------------------------------------------------------------------------------

/** Path ids are random base64url tokens; anything else cannot exist and is answered 404 (never a database error). */
const idParam = (description: string, max = 100) => z.string().regex(/^[A-Za-z0-9_-]+$/).min(1).max(max).meta({ description });

export const userIdParams = z.strictObject({ id: idParam('The user id.') });
export const passkeyParams = z.strictObject({ id: idParam('The user id.'), credentialId: idParam('The passkey credential id (base64url).', 1400) });
export const sessionParams = z.strictObject({ id: idParam('The user id.'), sessionId: idParam('The session id.') });

/** A whole number from the query string, clamped to [min, max] (out-of-range values are not an error). */
const clampedInt = (min: number, max: number, description: string) =>
  z.coerce
    .number()
    .refine((n) => Number.isInteger(n), 'must be a whole number')
    .transform((n) => Math.min(Math.max(n, min), max))
    .meta({ type: 'integer', description: `${description} Clamped to ${min}..${max}.` });

/** An instant as an ISO 8601 date-time or epoch milliseconds. */
const instant = (description: string) =>
  z
    .string()
    .max(40)
    .transform((value, ctx) => {
      const ms = /^\d{1,15}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
      if (!Number.isSafeInteger(ms)) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date-time or epoch milliseconds' });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: `${description} An ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z) or epoch milliseconds.` });

export const listUsersQuery = z.strictObject({
  query: z.string().max(200).optional().meta({ description: 'Case-insensitive substring of the email or name.' }),
  limit: clampedInt(1, 200, 'Page size (default 50).').optional(),
  offset: clampedInt(0, 1_000_000_000, 'How many matches to skip (default 0).').optional(),
});

const role = z.enum(['admin', 'member']).meta({ description: 'Role in the organization; `admin` needs an organization.' });

export const createUserBody = z.strictObject({
  email: z.string().min(3).max(320).meta({ description: 'The email address (unique, case-insensitive).' }),
  name: z.string().max(100).nullable().optional(),
  password: z.string().max(1000).nullable().optional().meta({ description: 'Initial password (checked against the password policy and breached passwords). Omit for a passwordless account.' }),
  role: role.optional(),
  orgId: z.string().max(100).nullable().optional().meta({ description: 'Organization id (operators only; an organization-bound client always creates in its own).' }),
});

export const updateUserBody = z.strictObject({
  name: z.string().max(100).nullable().optional(),
  email: z.string().min(3).max(320).optional(),
  role: role.optional(),
  disabled: z.boolean().optional().meta({ description: 'Disabling also ends every session of the user.' }),
});

export const unblockBody = z.strictObject({
  identifier: z.string().min(1).max(320).meta({ description: 'The blocked account (its email).' }),
  ip: z.string().min(1).max(64).nullable().optional().meta({ description: 'Lift only the block from this IP (or IPv6 /64 key); omit to lift every block of the account.' }),
});

export const releaseBody = z.strictObject({
  ip: z
    .string()
    .min(1)
    .max(64)
    .refine((ip) => isIP(ip) !== 0 || /^[0-9a-f:]+::\/64$/i.test(ip), 'must be an IP address or an IPv6 /64 key such as 2001:db8:1:2::/64')
    .meta({ description: 'The throttled IP, or an `ipKey` from GET /blocks (IPv6 as its /64).' }),
});

const eventCodeNames = Object.keys(EVENT_CODES) as EventCode[];

export const eventsQuery = z.strictObject({
  userId: z.string().max(100).optional().meta({ description: 'Only events of this user.' }),
  ip: z.string().max(64).optional().meta({ description: 'Only events from this IP.' }),
  code: z
    .union([z.string(), z.array(z.string()).max(100)])
    .transform((value, ctx) => {
      const codes = [...new Set((Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
      const unknown = codes.filter((c) => !(c in EVENT_CODES));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown event code ${unknown.map((c) => `"${c.slice(0, 60)}"`).join(', ')}` });
        return z.NEVER;
      }
      return codes as EventCode[];
    })
    .optional()
    .meta({ description: `Only these event codes: repeat the parameter or give a comma-separated list. Codes: ${eventCodeNames.join(', ')}.` }),
  since: instant('Only events at or after this instant.').optional(),
  until: instant('Only events before this instant.').optional(),
  limit: clampedInt(1, 200, 'Page size (default 50).').optional(),
  cursor: z.string().max(100).optional().meta({ description: 'The `next` value of the previous page.' }),
});

export const historyQuery = z.strictObject({ limit: clampedInt(1, 100, 'How many versions (default 20).').optional() });

/** Settings patches are checked by the runtime settings (known sections and keys, the configuration schema's rules). */
export const settingsPatchBody = z.record(z.string(), z.unknown());

/** The document form of a settings patch: every section and key that may change at runtime, each nullable (= reset). */
export function settingsPatchDocument(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const section of RUNTIME_SECTIONS) {
    const inner = unwrapObject(configSchema.shape[section]);
    const keys: Record<string, unknown> = {};
    for (const key of RUNTIME_KEYS[section]) {
      const field = inner?.shape[key];
      const schema = field ? stripDialect(z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' })) : {};
      delete schema.default;
      keys[key] = { anyOf: [schema, { type: 'null' }] };
    }
    properties[section] = { type: 'object', additionalProperties: false, properties: keys };
  }
  return {
    type: 'object',
    additionalProperties: false,
    description:
      'Sections of settings to change, as in the configuration file. Durations are strings such as "15m" or "30d" (or milliseconds). ' +
      'A `null` value resets that key to the deployment\'s configured value. Nested objects (e.g. `breach.actions`) are merged.',
    properties,
    example: { bruteForce: { threshold: 5, blockDuration: '1h' } },
  };
}

function unwrapObject(schema: z.ZodType): z.ZodObject | null {
  let current: unknown = schema;
  for (let i = 0; i < 5 && current; i++) {
    if (current instanceof z.ZodObject) return current;
    current = (current as { _zod?: { def?: { innerType?: unknown } } })._zod?.def?.innerType;
  }
  return null;
}

export function stripDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

// ---- outputs --------------------------------------------------------------------------------------------------------

export const errorSchema = z
  .object({
    error: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]).meta({ description: 'A stable machine-readable code.' }),
    message: z.string().meta({ description: 'A sentence safe to show to a person.' }),
  })
  .meta({ id: 'Error', description: 'Every error response.' });

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    emailVerified: z.boolean(),
    orgId: z.string().nullable(),
    role: z.enum(['admin', 'member']),
    operator: z.boolean().meta({ description: 'Installation-wide administrator.' }),
    disabled: z.boolean(),
    createdAt: time('When the account was created.'),
    updatedAt: time('When the account last changed.'),
  })
  .meta({ id: 'User' });

export const userListSchema = z.object({ users: z.array(userSchema), total: z.number().int().meta({ description: 'Every match, for paging.' }), limit: z.number().int(), offset: z.number().int() });

export const blockSchema = z
  .object({
    identifier: z.string().meta({ description: 'The account (normalised email).' }),
    ipKey: z.string().meta({ description: 'The blocked IP (IPv6 as its /64).' }),
    failures: z.number().int(),
    lastFailureAt: time('The last failed attempt.'),
    blockedUntil: time('When the block ends unless lifted sooner.'),
  })
  .meta({ id: 'Block' });

export const throttledSchema = z
  .object({ ipKey: z.string(), tokens: z.number().meta({ description: 'Failed-login tokens left (below 1: throttled).' }), nextAllowedAt: time('When one more failed login will be allowed.') })
  .meta({ id: 'ThrottledIp' });

export const blocksSchema = z.object({
  blocks: z.array(blockSchema),
  throttled: z.array(throttledSchema).meta({ description: 'IPs out of failed-login tokens (operators only; empty for organization clients).' }),
});

export const passkeySchema = z
  .object({ credentialId: z.string(), name: z.string(), createdAt: time('When it was registered.'), lastUsedAt: time('Its last use.').nullable(), synced: z.boolean() })
  .meta({ id: 'Passkey' });

export const sessionSchema = z
  .object({
    id: z.string(),
    createdAt: time('Sign-in time.'),
    lastSeenAt: time('Last activity.'),
    ip: z.string().nullable(),
    location: z.string(),
    userAgent: z.string().nullable(),
    expiresAt: time('When it ends at the latest.').nullable(),
  })
  .meta({ id: 'Session' });

export const eventSchema = z
  .object({
    id: z.string(),
    at: time('When it happened.'),
    code: z.enum(eventCodeNames as [EventCode, ...EventCode[]]),
    outcome: z.enum(['success', 'failure', 'info']),
    userId: z.string().nullable(),
    identifier: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    clientId: z.string().nullable(),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).meta({ description: 'Code-specific details; admin actions carry `actor` ("client:<id>" for the API).' }),
  })
  .meta({ id: 'Event' });

export const eventPageSchema = z.object({ events: z.array(eventSchema), next: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }) });

export const settingsRecordSchema = z
  .object({
    revision: z.number().int(),
    updatedBy: z.string().meta({ description: 'The actor: "user:<id>" (console) or "client:<id>" (API).' }),
    updatedAt: time('When this version was stored.'),
    values: z.record(z.string(), z.unknown()).meta({ description: 'The runtime overlay: only the settings changed at runtime.' }),
  })
  .meta({ id: 'SettingsRecord' });

export const settingsSchema = z.object({
  effective: z.record(z.string(), z.unknown()).meta({ description: 'The settings in force: the deployment\'s configuration with the overlay applied (durations in milliseconds).' }),
  overlay: settingsRecordSchema.nullable(),
});

export const settingsHistorySchema = z.object({ history: z.array(settingsRecordSchema).meta({ description: 'Newest first.' }) });

// ---- serializers ----------------------------------------------------------------------------------------------------

export const userOut = (u: UserSummary) => ({ ...u, createdAt: iso(u.createdAt), updatedAt: iso(u.updatedAt) });
export const blockOut = (b: BlockedPair) => ({ identifier: b.identifier, ipKey: b.ipKey, failures: b.failures, lastFailureAt: iso(b.lastFailureAt), blockedUntil: iso(b.blockedUntil) });
export const throttledOut = (t: ThrottledIp) => ({ ipKey: t.ipKey, tokens: t.tokens, nextAllowedAt: iso(t.nextAllowedAt) });
export const passkeyOut = (p: PasskeyView) => ({ credentialId: p.credentialId, name: p.name, createdAt: iso(p.createdAt), lastUsedAt: isoOrNull(p.lastUsedAt), synced: p.synced });
export const sessionOut = (s: SessionSummary) => ({ id: s.id, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), ip: s.ip, location: s.location, userAgent: s.userAgent, expiresAt: isoOrNull(s.expiresAt) });
export const eventOut = (e: SecurityEvent) => ({
  id: e.id,
  at: iso(e.at),
  code: e.code,
  outcome: e.outcome,
  userId: e.userId,
  identifier: e.identifier,
  ip: e.ip,
  userAgent: e.userAgent,
  clientId: e.clientId,
  reason: e.reason,
  details: e.details,
});
export const settingsRecordOut = (r: SettingsRecord) => ({ revision: r.revision, updatedBy: r.updatedBy, updatedAt: iso(r.updatedAt), values: r.values });
