// Admin use-cases for users and organizations, shared by the CLI, the setup page and (later) the admin API.
import type { Clock } from '../domain/clock.js';
import { PortcullisError } from '../domain/errors.js';
import type { Org, Role, User } from '../domain/types.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import { checkNewPassword, isPlausibleEmail } from '../authn/password-policy.js';
import type { Store } from '../store/store.js';

export interface AdminDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  /** When present, new passwords found in breach data are refused. */
  breach?: { check(password: string): Promise<{ breached: boolean; source: string }> };
}

export interface CreateUserInput {
  email: string;
  password?: string | null;
  name?: string | null;
  orgName?: string | null;
  role?: Role;
  emailVerified?: boolean;
}

export async function createOrg(deps: AdminDeps, name: string): Promise<Org> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100) throw new PortcullisError('invalid_input', { message: 'An organization name needs 1 to 100 characters.' });
  const org = await deps.store.orgs.create(trimmed, deps.clock.now());
  return org;
}

export async function createUser(deps: AdminDeps, input: CreateUserInput): Promise<User> {
  const email = input.email.trim();
  if (!isPlausibleEmail(email)) throw new PortcullisError('invalid_input', { message: `"${email}" is not a valid email address.` });
  let passwordHash: string | null = null;
  if (input.password !== undefined && input.password !== null) {
    const problem = checkNewPassword(input.password);
    if (problem) throw new PortcullisError('invalid_input', { message: `Password rejected: ${problem.message}` });
    if (deps.breach && (await deps.breach.check(input.password)).breached) {
      throw new PortcullisError('invalid_input', { message: 'Password rejected: it appears in a list of passwords exposed in data breaches. Choose a different one.' });
    }
    passwordHash = await deps.hasher.hash(input.password);
  }
  let orgId: string | null = null;
  if (input.orgName) {
    const org = await deps.store.orgs.findByName(input.orgName);
    if (!org) throw new PortcullisError('invalid_input', { message: `No organization named "${input.orgName}". Create it first with: portcullis org create --name "${input.orgName}"` });
    orgId = org.id;
  }
  const now = deps.clock.now();
  const user = await deps.store.users.create(
    { email, name: input.name ?? null, passwordHash, orgId, role: input.role ?? 'member', emailVerified: input.emailVerified ?? true },
    now,
  );
  await deps.store.events.append({ code: 'user_created', outcome: 'info', userId: user.id, identifier: user.email }, now);
  return user;
}

/** Public view of a user: never includes the password hash. */
export function describeUser(user: User, org: Org | null): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    name: user.name,
    org: org?.name ?? null,
    role: user.role,
    operator: user.operator,
    disabled: user.disabled,
    hasPassword: user.passwordHash !== null,
    createdAt: new Date(user.createdAt).toISOString(),
  };
}

async function findUserOrFail(deps: AdminDeps, key: string): Promise<User> {
  const user = (await deps.store.users.findByEmail(key)) ?? (await deps.store.users.findById(key));
  if (!user) throw new PortcullisError('not_found', { message: `No user "${key}". List users with: portcullis user list` });
  return user;
}

/** Puts a user in an organization (or takes them out with null) with a role. */
export async function setMembership(deps: AdminDeps, userKey: string, orgName: string | null, role: Role): Promise<User> {
  const user = await findUserOrFail(deps, userKey);
  let orgId: string | null = null;
  if (orgName) {
    const org = await deps.store.orgs.findByName(orgName);
    if (!org) throw new PortcullisError('invalid_input', { message: `No organization named "${orgName}". Create it first with: portcullis org create --name "${orgName}"` });
    orgId = org.id;
  }
  const now = deps.clock.now();
  await deps.store.users.setMembership(user.id, orgId, role, now);
  await deps.store.events.append({ code: 'membership_changed', outcome: 'info', userId: user.id, details: { org: orgName, role } }, now);
  return { ...user, orgId, role };
}

/** Changes only the role, keeping the organization. */
export async function setRole(deps: AdminDeps, userKey: string, role: Role): Promise<User> {
  const user = await findUserOrFail(deps, userKey);
  const org = user.orgId ? await deps.store.orgs.findById(user.orgId) : null;
  if (!org && role === 'admin') throw new PortcullisError('invalid_input', { message: 'Only a member of an organization can be its admin. Add the user first with: portcullis org add-user' });
  return setMembership(deps, user.id, org?.name ?? null, role);
}

/** Admins of an organization: they receive its security alerts. */
export async function orgAdmins(deps: Pick<AdminDeps, 'store'>, orgId: string): Promise<User[]> {
  return (await deps.store.users.list({ limit: 1000, offset: 0, orgId })).filter((u) => u.role === 'admin' && !u.disabled);
}

/** Grants or removes the installation-wide operator role; recorded in the event log. */
export async function setOperator(deps: AdminDeps, userKey: string, operator: boolean, actor = 'cli'): Promise<User> {
  const user = await findUserOrFail(deps, userKey);
  const now = deps.clock.now();
  await deps.store.users.setOperator(user.id, operator, now);
  await deps.store.events.append({ code: 'membership_changed', outcome: 'info', userId: user.id, identifier: user.email, reason: operator ? 'operator_granted' : 'operator_removed', details: { actor } }, now);
  return { ...user, operator };
}
