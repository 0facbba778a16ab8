// `portcullis user create|list|show|set-role` and `org create|list|add-user|set-session-limits`.
import { PortcullisError } from '../domain/errors.js';
import type { Role } from '../domain/types.js';
import { createOrg, createUser, describeUser, setMembership, setRole, setOperator } from '../admin/users.js';
import { setOrgSessionLimits, type OrgSessionLimitsInput } from '../admin/org-session-limits.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';
import { printTable, readAllStdin, UsageError } from './io.js';

export const userCreateCommand: Command = {
  name: 'user create',
  summary: 'Create a user (prefer --password-stdin over --password)',
  usage:
    'portcullis user create --email E [--password-stdin | --password P] [--name N] [--org NAME] [--role admin|member]\n\n' +
    '  --password P       visible in shell history and process lists; for scripts only\n' +
    '  --password-stdin   read the password from standard input (safer)\n' +
    '  Without either, the user has no password yet.',
  options: {
    email: { type: 'string' },
    password: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    name: { type: 'string' },
    org: { type: 'string' },
    role: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    if (typeof values.email !== 'string') throw new UsageError('--email is required');
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('use either --password or --password-stdin, not both');
    const role = (values.role ?? 'member') as string;
    if (role !== 'admin' && role !== 'member') throw new UsageError('--role must be admin or member');
    let password = values.password as string | undefined;
    if (values['password-stdin']) password = (await readAllStdin(io.stdin)).replace(/\r?\n$/, '');
    await withStore(io, async (ctx) => {
      const user = await createUser(ctx, { email: values.email as string, password: password ?? null, name: (values.name as string) ?? null, orgName: (values.org as string) ?? null, role: role as Role });
      const org = user.orgId ? await ctx.store.orgs.findById(user.orgId) : null;
      io.stdout.write(values.json ? `${JSON.stringify(describeUser(user, org), null, 2)}\n` : `Created user ${user.email} (${user.id}).\n`);
    });
    return 0;
  },
};

export const userListCommand: Command = {
  name: 'user list',
  summary: 'List users',
  usage: 'portcullis user list [--org NAME] [--limit N] [--offset N] [--json]',
  options: { org: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const limit = Number(values.limit ?? 100);
    const offset = Number(values.offset ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new UsageError('--limit must be a whole number from 1 to 10000');
    if (!Number.isInteger(offset) || offset < 0) throw new UsageError('--offset must be a whole number of at least 0');
    await withStore(io, async ({ store }) => {
      let orgId: string | undefined;
      if (typeof values.org === 'string') {
        const org = await store.orgs.findByName(values.org);
        if (!org) throw new PortcullisError('invalid_input', { message: `No organization named "${values.org}".` });
        orgId = org.id;
      }
      const orgs = new Map((await store.orgs.list()).map((o) => [o.id, o]));
      const users = (await store.users.list({ limit, offset, orgId })).map((u) => describeUser(u, u.orgId ? (orgs.get(u.orgId) ?? null) : null));
      if (values.json) io.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
      else printTable(io.stdout, users, ['id', 'email', 'org', 'role', 'emailVerified', 'disabled', 'createdAt']);
    });
    return 0;
  },
};

export const userShowCommand: Command = {
  name: 'user show',
  summary: 'Show one user by email or id, with recent security events',
  usage: 'portcullis user show <email|id> [--json]',
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const key = positionals[0];
    if (!key) throw new UsageError('give the user email or id');
    await withStore(io, async ({ store }) => {
      const user = (await store.users.findByEmail(key)) ?? (await store.users.findById(key));
      if (!user) throw new PortcullisError('not_found', { message: `No user "${key}". List users with: portcullis user list` });
      const org = user.orgId ? await store.orgs.findById(user.orgId) : null;
      const events = (await store.events.list({ userId: user.id, limit: 10 })).map((e) => ({ at: new Date(e.at).toISOString(), code: e.code, outcome: e.outcome, ip: e.ip }));
      const sessions = (await store.sessions.listActiveForUser(user.id)).length;
      const view = { ...describeUser(user, org), activeSessions: sessions, recentEvents: events };
      if (values.json) {
        io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      for (const [k, v] of Object.entries(view)) if (k !== 'recentEvents') io.stdout.write(`${k.padEnd(16)} ${v ?? ''}\n`);
      io.stdout.write('\nRecent events:\n');
      printTable(io.stdout, events, ['at', 'code', 'outcome', 'ip']);
    });
    return 0;
  },
};

export const orgCreateCommand: Command = {
  name: 'org create',
  summary: 'Create an organization',
  usage: 'portcullis org create --name NAME [--json]',
  options: { name: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    if (typeof values.name !== 'string') throw new UsageError('--name is required');
    await withStore(io, async (ctx) => {
      const org = await createOrg(ctx, values.name as string);
      io.stdout.write(values.json ? `${JSON.stringify(org)}\n` : `Created organization "${org.name}" (${org.id}).\n`);
    });
    return 0;
  },
};

export const orgListCommand: Command = {
  name: 'org list',
  summary: 'List organizations',
  usage: 'portcullis org list [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async ({ store }) => {
      const orgs = await store.orgs.list();
      if (values.json) {
        // Milliseconds, null meaning the deployment's limit.
        const rows = orgs.map((o) => ({ id: o.id, name: o.name, createdAt: new Date(o.createdAt).toISOString(), sessionIdleMs: o.sessionIdleMs, sessionAbsoluteMs: o.sessionAbsoluteMs }));
        io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        const limit = (ms: number | null) => (ms === null ? 'deployment default' : formatDuration(ms));
        const rows = orgs.map((o) => ({ id: o.id, name: o.name, sessionIdle: limit(o.sessionIdleMs), sessionAbsolute: limit(o.sessionAbsoluteMs), createdAt: new Date(o.createdAt).toISOString() }));
        printTable(io.stdout, rows, ['id', 'name', 'sessionIdle', 'sessionAbsolute', 'createdAt']);
      }
    });
    return 0;
  },
};

const parseLimit = (value: unknown, option: string): number | undefined => {
  if (value === undefined) return undefined;
  const ms = parseDuration(String(value));
  if (ms === null) throw new UsageError(`${option} must be a duration such as 30m, 8h or 3d`);
  return ms;
};

export const orgSetSessionLimitsCommand: Command = {
  name: 'org set-session-limits',
  summary: "Set an organization's own session limits (shorter than the deployment's); open sessions are shortened too",
  usage:
    'portcullis org set-session-limits <org> [--idle DURATION] [--absolute DURATION] [--clear] [--json]\n\n' +
    '  --idle 8h       log out after this long without activity (at least 1m)\n' +
    '  --absolute 3d   log out this long after login, whatever the activity\n' +
    '  --clear         go back to the deployment limits for both\n' +
    '  A limit left out keeps its current value. Neither may exceed the deployment maximum\n' +
    '  (PORTCULLIS_SESSION_IDLE_TIMEOUT, PORTCULLIS_SESSION_ABSOLUTE_TIMEOUT), and idle may not exceed absolute.\n' +
    "  Members' open sessions get the new limits at once; limits are never lengthened for them.",
  options: { idle: { type: 'string' }, absolute: { type: 'string' }, clear: { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const orgName = positionals[0];
    if (!orgName || positionals.length > 1) throw new UsageError('give the organization name (quote it if it has spaces)');
    const idleMs = parseLimit(values.idle, '--idle');
    const absoluteMs = parseLimit(values.absolute, '--absolute');
    if (values.clear && (idleMs !== undefined || absoluteMs !== undefined)) throw new UsageError('use either --clear or --idle/--absolute, not both');
    if (!values.clear && idleMs === undefined && absoluteMs === undefined) throw new UsageError('give --idle, --absolute or --clear');
    const input: OrgSessionLimitsInput = values.clear ? 'clear' : { idleMs, absoluteMs };
    await withStore(io, async (ctx) => {
      const deployment = { idleMs: ctx.config.sessionIdleTimeout, absoluteMs: ctx.config.sessionAbsoluteTimeout };
      const result = await setOrgSessionLimits(ctx, orgName, input, deployment);
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify({ org: result.org.name, sessionIdleMs: result.org.sessionIdleMs, sessionAbsoluteMs: result.org.sessionAbsoluteMs, effective: result.effective, sessionsCapped: result.sessionsCapped }, null, 2)}\n`,
        );
        return;
      }
      const describe = (own: number | null, effective: number) => (own === null ? `${formatDuration(effective)} (deployment default)` : formatDuration(own));
      io.stdout.write(
        `Session limits of "${result.org.name}": idle ${describe(result.org.sessionIdleMs, result.effective.idleMs)}, absolute ${describe(result.org.sessionAbsoluteMs, result.effective.absoluteMs)}.\n` +
          `${result.sessionsCapped} open session(s) shortened.\n`,
      );
    });
    return 0;
  },
};

const parseRole = (value: unknown, fallback: Role): Role => {
  const role = (value ?? fallback) as string;
  if (role !== 'admin' && role !== 'member') throw new UsageError('--role must be admin or member');
  return role;
};

export const orgAddUserCommand: Command = {
  name: 'org add-user',
  summary: 'Add an existing user to an organization (moving them from any other)',
  usage: 'portcullis org add-user --org NAME --email E [--role admin|member]',
  options: { org: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } },
  async run({ values }, io) {
    if (typeof values.org !== 'string' || typeof values.email !== 'string') throw new UsageError('--org and --email are required');
    const role = parseRole(values.role, 'member');
    await withStore(io, async (ctx) => {
      const user = await setMembership(ctx, values.email as string, values.org as string, role);
      io.stdout.write(`${user.email} is now ${role} of "${values.org}".\n`);
    });
    return 0;
  },
};

export const userSetRoleCommand: Command = {
  name: 'user set-role',
  summary: "Change a user's role in their organization",
  usage: 'portcullis user set-role <email|id> --role admin|member',
  options: { role: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const key = positionals[0];
    if (!key || typeof values.role !== 'string') throw new UsageError('give the user email or id and --role');
    const role = parseRole(values.role, 'member');
    await withStore(io, async (ctx) => {
      const user = await setRole(ctx, key, role);
      io.stdout.write(`${user.email} is now ${role}.\n`);
    });
    return 0;
  },
};

export const userSetOperatorCommand: Command = {
  name: 'user set-operator',
  summary: 'Make a user an operator (the whole admin console and API), or take it away with --off',
  usage: 'portcullis user set-operator <email|id> [--off]',
  options: { off: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const key = positionals[0];
    if (!key) throw new UsageError('give the user email or id');
    const on = values.off !== true;
    await withStore(io, async (ctx) => {
      const user = await setOperator(ctx, key, on);
      io.stdout.write(on ? `${user.email} is now an operator: they can use ${'/admin'} for every organization.\n` : `${user.email} is no longer an operator.\n`);
    });
    return 0;
  },
};
