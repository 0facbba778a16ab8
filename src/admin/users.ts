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
    disabled: user.disabled,
    hasPassword: user.passwordHash !== null,
    createdAt: new Date(user.createdAt).toISOString(),
  };
}
