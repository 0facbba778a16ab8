// The password attempt pipeline as explicit steps (DESIGN.md §3). Cheap checks run before hashing; later issues add theirs to the list.
import type { Clock } from '../domain/clock.js';
import type { User } from '../domain/types.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { EventStore, UserStore } from '../store/store.js';
import type { EventCode } from '../events/event-codes.js';

export interface AttemptInput {
  email: string;
  password: string;
  ip: string;
  userAgent: string | null;
  clientId: string | null;
}

export type AttemptVerdict =
  | { outcome: 'success'; user: User }
  | { outcome: 'failure'; reason: 'invalid_credentials' }
  /** Correct password, but the email is not verified yet: safe to say, since only the owner knows the password. */
  | { outcome: 'failure'; reason: 'email_unverified'; user: User };

export interface AttemptDeps {
  users: UserStore;
  events: EventStore;
  hasher: PasswordHasher;
  clock: Clock;
}

interface AttemptContext {
  input: AttemptInput;
  user: User | null;
  passwordOk: boolean;
  failureCode: EventCode | null;
  verdict: AttemptVerdict | null;
}

type Step = (deps: AttemptDeps, ctx: AttemptContext) => Promise<void>;

/** Loads the account, if any. Unknown identifiers continue down the same path. */
const loadAccount: Step = async (deps, ctx) => {
  ctx.user = await deps.users.findByEmail(ctx.input.email);
};

/** Verifies with argon2id; unknown or password-less accounts get a dummy verify so timing does not reveal them. */
const verifyPassword: Step = async (deps, ctx) => {
  const hash = ctx.user?.passwordHash;
  if (!hash) {
    await deps.hasher.dummyVerify(ctx.input.password);
    ctx.failureCode = 'login_failed_unknown_user';
    return;
  }
  ctx.passwordOk = await deps.hasher.verify(hash, ctx.input.password);
  if (!ctx.passwordOk) ctx.failureCode = 'login_failed_password';
  else if (ctx.user?.disabled) {
    ctx.passwordOk = false;
    ctx.failureCode = 'login_failed_disabled';
  }
};

/** Records a failure with its reason; the user sees only the generic message. */
const recordFailure: Step = async (deps, ctx) => {
  if (ctx.passwordOk || !ctx.failureCode) return;
  await deps.events.append(
    {
      code: ctx.failureCode,
      outcome: 'failure',
      reason: ctx.failureCode.replace('login_failed_', ''),
      userId: ctx.user?.id ?? null,
      identifier: ctx.input.email,
      ip: ctx.input.ip,
      userAgent: ctx.input.userAgent,
      clientId: ctx.input.clientId,
    },
    deps.clock.now(),
  );
  ctx.verdict = { outcome: 'failure', reason: 'invalid_credentials' };
};

/** A correct password for an unverified address does not sign in; the caller offers a new verification link. */
const requireVerifiedEmail: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user || ctx.user.emailVerified) return;
  await deps.events.append(
    { code: 'login_failed_unverified', outcome: 'failure', reason: 'email_unverified', userId: ctx.user.id, identifier: ctx.input.email, ip: ctx.input.ip, userAgent: ctx.input.userAgent, clientId: ctx.input.clientId },
    deps.clock.now(),
  );
  ctx.verdict = { outcome: 'failure', reason: 'email_unverified', user: ctx.user };
};

/** Upgrades the stored hash when the configured argon2 parameters changed. */
const upgradeHash: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user?.passwordHash || !deps.hasher.needsRehash(ctx.user.passwordHash)) return;
  const now = deps.clock.now();
  await deps.users.setPasswordHash(ctx.user.id, await deps.hasher.hash(ctx.input.password), now);
  await deps.events.append({ code: 'password_rehashed', outcome: 'info', userId: ctx.user.id, ip: ctx.input.ip }, now);
};

/** Records the successful login. */
const recordSuccess: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user) return;
  await deps.events.append(
    {
      code: 'login_success',
      outcome: 'success',
      reason: 'password',
      userId: ctx.user.id,
      identifier: ctx.input.email,
      ip: ctx.input.ip,
      userAgent: ctx.input.userAgent,
      clientId: ctx.input.clientId,
    },
    deps.clock.now(),
  );
  ctx.verdict = { outcome: 'success', user: ctx.user };
};

export const PASSWORD_ATTEMPT_STEPS: readonly Step[] = [loadAccount, verifyPassword, recordFailure, requireVerifiedEmail, upgradeHash, recordSuccess];

export async function attemptPasswordLogin(deps: AttemptDeps, input: AttemptInput): Promise<AttemptVerdict> {
  const ctx: AttemptContext = { input, user: null, passwordOk: false, failureCode: null, verdict: null };
  for (const step of PASSWORD_ATTEMPT_STEPS) {
    await step(deps, ctx);
    if (ctx.verdict?.outcome === 'failure') break;
  }
  return ctx.verdict ?? { outcome: 'failure', reason: 'invalid_credentials' };
}
