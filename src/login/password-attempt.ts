// The password attempt pipeline as explicit steps (DESIGN.md §3). Cheap checks and the atomic slot reservation run before any hashing.
import type { Clock } from '../domain/clock.js';
import type { User } from '../domain/types.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { EventStore, UserStore } from '../store/store.js';
import type { EventCode } from '../events/event-codes.js';
import type { BlockReason, Decision } from '../protection/decision.js';
import { normaliseEmail } from '../store/sql/sql-users.js';
import { ipKey as toIpKey } from '../protection/ip/ip-key.js';
import { decideReservation, failureStartsBlock } from '../protection/brute-force/brute-force-policy.js';
import { decideThrottle } from '../protection/throttle/throttle-policy.js';
import type { ProtectionDeps } from '../protection/protection-deps.js';
import type { BotGuard } from '../protection/bot/bot-guard.js';
import type { RiskAssessment, RiskFacts, RiskGuard } from '../protection/risk/risk-guard.js';

export interface AttemptInput {
  email: string;
  password: string;
  ip: string;
  userAgent: string | null;
  clientId: string | null;
  /** The login transaction: CAPTCHA solutions and the browser proof are bound to it. */
  transactionId: string;
  /** Submitted CAPTCHA fields (captcha_id, captcha_answer, altcha, provider tokens) and the browser proof. */
  captcha: Record<string, string | undefined>;
  proof: unknown;
  /** The browser's device cookie, for the new-device assessor. */
  deviceToken: string | null;
}

export type AttemptVerdict =
  /** `stepUp`: risk assessment asks for a second factor before the login may finish. */
  /** `captchaRequired`: the attempt had to pass a CAPTCHA (kept for the event the finished sign-in records). */
  | { outcome: 'success'; user: User; stepUp: boolean; riskFacts?: RiskFacts; captchaRequired: boolean }
  /** Correct password, but the attempt looked risky: this attempt is refused; the user is not locked out. */
  | { outcome: 'risk_blocked'; user: User; assessment: RiskAssessment }
  | { outcome: 'failure'; reason: 'invalid_credentials' }
  /** Correct password, but the email is not verified yet: safe to say, since only the owner knows the password. */
  | { outcome: 'failure'; reason: 'email_unverified'; user: User }
  /** Correct password that appears in a breach corpus: no session until it is changed through the emailed link. */
  | { outcome: 'failure'; reason: 'password_breached'; user: User }
  /** The pattern looks automated: a CAPTCHA must be solved before any password is checked. */
  | { outcome: 'challenge'; reasons: string[]; failed: boolean }
  /** Refused before the password was checked. Identical for known and unknown identifiers. */
  | { outcome: 'blocked'; reason: BlockReason; until: number | null };

export interface AttemptDeps {
  users: UserStore;
  events: EventStore;
  hasher: PasswordHasher;
  clock: Clock;
  protection: ProtectionDeps;
  breach: { check(password: string): Promise<{ breached: boolean; source: string }>; blockLogin: boolean };
  bot: BotGuard | null;
  risk: RiskPort | null;
}

export interface RiskPort {
  guard: RiskGuard;
  /** Read per attempt: assessment can be switched on and off at runtime. */
  enabled(): boolean;
  /** Alerts the organization's admins about a blocked or stepped-up attempt (rate-limited by the implementation). */
  onRisky(args: { user: User; ip: string; assessment: RiskAssessment }): Promise<void>;
}

interface AttemptContext {
  input: AttemptInput;
  identifier: string;
  ipKey: string;
  allowlisted: boolean;
  throttleTokenTaken: boolean;
  reservedCount: number;
  captchaRequired: boolean;
  user: User | null;
  passwordOk: boolean;
  failureCode: EventCode | null;
  stepUp: boolean;
  riskFacts: RiskFacts | undefined;
  verdict: AttemptVerdict | null;
}

type Step = (deps: AttemptDeps, ctx: AttemptContext) => Promise<void>;

const throttleKey = (ip: string): string => `login-fail:${ip}`;

function event(deps: AttemptDeps, ctx: AttemptContext, code: EventCode, outcome: 'success' | 'failure' | 'info', reason: string | null, details: Record<string, unknown> = {}) {
  return deps.events.append(
    { code, outcome, reason, userId: ctx.user?.id ?? null, identifier: ctx.input.email, ip: ctx.input.ip, userAgent: ctx.input.userAgent, clientId: ctx.input.clientId, details },
    deps.clock.now(),
  );
}

/** Allowlisted IPs skip throttling and brute-force counting (operator's choice). */
const checkAllowlist: Step = async (deps, ctx) => {
  ctx.allowlisted = deps.protection.allowlist.has(ctx.input.ip);
};

/** Suspicious IP throttling: takes one failed-login token up front (refunded on success). No hashing when refused. */
const takeThrottleToken: Step = async (deps, ctx) => {
  if (ctx.allowlisted) return;
  const now = deps.clock.now();
  const policy = deps.protection.throttle;
  const decision = decideThrottle(await deps.protection.buckets.take(throttleKey(ctx.ipKey), policy.capacity, policy.refillMs, now), policy, now);
  if (decision.action === 'allow') {
    ctx.throttleTokenTaken = true;
    return;
  }
  const repeated = deps.protection.refusals.remember({ ipKey: ctx.ipKey }, { reason: decision.reason, until: decision.until }, now);
  ctx.user = await deps.users.findByEmail(ctx.input.email);
  await event(deps, ctx, 'ip_throttled', 'failure', decision.reason, { ...decision.signals, until: decision.until, ...repeatedDetail(repeated) });
  ctx.verdict = { outcome: 'blocked', reason: decision.reason, until: decision.until };
  await deps.protection.onThrottled({ user: ctx.user, ip: ctx.input.ip, ipKey: ctx.ipKey }).catch(() => undefined);
};

/** Refusals remembered from the last moments: answered from memory, before any store is touched (ADR 0012). */
const refuseFromMemory: Step = async (deps, ctx) => {
  if (ctx.allowlisted) return;
  const refusal = deps.protection.refusals.check(ctx.identifier, ctx.ipKey, deps.clock.now());
  if (refusal) ctx.verdict = { outcome: 'blocked', reason: refusal.reason, until: refusal.until };
};

/** Refuses a blocked pair and remembers it; the event counts the attempts refused from memory since the last one. */
async function refuseBlocked(deps: AttemptDeps, ctx: AttemptContext, decision: Extract<Decision, { action: 'block' }>, ipKey: string): Promise<void> {
  const now = deps.clock.now();
  const repeated = deps.protection.refusals.remember({ identifier: ctx.identifier, ipKey }, { reason: decision.reason, until: decision.until }, now);
  // A refused attempt checked no password, so it does not spend the IP's throttle budget.
  if (ctx.throttleTokenTaken) await deps.protection.buckets.refund(throttleKey(ctx.ipKey), deps.protection.throttle.capacity);
  ctx.user = await deps.users.findByEmail(ctx.input.email);
  await event(deps, ctx, 'login_blocked', 'failure', decision.reason, { ...decision.signals, until: decision.until, ...repeatedDetail(repeated) });
  ctx.verdict = { outcome: 'blocked', reason: decision.reason, until: decision.until };
}

const repeatedDetail = (repeated: number): Record<string, number> => (repeated > 0 ? { refused_from_memory: repeated } : {});

/**
 * Before a CAPTCHA is asked for, a blocked pair is told about the block instead (solving it would not help). Without a
 * challenge the reservation finds the block anyway, so ordinary logins skip this read.
 */
async function refuseIfBlocked(deps: AttemptDeps, ctx: AttemptContext): Promise<void> {
  const { attempts, bruteForce } = deps.protection;
  const record = await attempts.get(ctx.identifier, ctx.ipKey);
  if (!record || record.count < bruteForce.threshold || record.lastAt <= deps.clock.now() - bruteForce.blockDurationMs) return;
  const decision = decideReservation({ allowed: false, count: record.count }, record.lastAt, bruteForce);
  if (decision.action === 'block') await refuseBlocked(deps, ctx, decision, ctx.ipKey);
}

/** Bot detection: when the pattern looks automated, a valid CAPTCHA solution is required before anything else happens. */
const requireHumanProof: Step = async (deps, ctx) => {
  if (ctx.allowlisted || !deps.bot) return;
  const now = deps.clock.now();
  const { input } = ctx;
  const assessment = await deps.bot.assess('login', { ip: input.ip, ipKey: ctx.ipKey, identifier: ctx.identifier, userAgent: input.userAgent, transactionId: input.transactionId, proof: input.proof }, now);
  if (assessment.action === 'allow') return;
  const signals = Object.fromEntries(assessment.findings.map((f) => [f.reason, f.detail]));
  if (assessment.monitorOnly) {
    await event(deps, ctx, 'captcha_would_challenge', 'info', assessment.reasons.join(','), { signals });
    return;
  }
  await refuseIfBlocked(deps, ctx);
  if (ctx.verdict) return;
  ctx.captchaRequired = true;
  const verdict = await deps.bot.verify(input.transactionId, input.captcha, input.ip, now);
  if (verdict.ok) {
    await event(deps, ctx, 'captcha_passed', 'success', assessment.reasons.join(','), { signals, degraded: verdict.degraded ?? false });
    return;
  }
  if (ctx.throttleTokenTaken) await deps.protection.buckets.refund(throttleKey(ctx.ipKey), deps.protection.throttle.capacity);
  const failed = verdict.reason !== 'missing';
  await event(deps, ctx, failed ? 'captcha_failed' : 'captcha_required', 'failure', failed ? verdict.reason : assessment.reasons.join(','), {
    signals,
    reasons: assessment.reasons,
    ...(verdict.errorCodes ? { provider_error_codes: verdict.errorCodes } : {}),
  });
  ctx.verdict = { outcome: 'challenge', reasons: assessment.reasons, failed };
};

/** Brute-force protection: atomically reserves a slot for (identifier, IP) before verifying, so parallel guesses cannot overshoot. */
const reserveAttemptSlot: Step = async (deps, ctx) => {
  if (ctx.allowlisted) return;
  const now = deps.clock.now();
  const { attempts, bruteForce } = deps.protection;
  const reservation = await attempts.reserve(ctx.identifier, ctx.ipKey, bruteForce.threshold, now, bruteForce.blockDurationMs);
  let decision = decideReservation(reservation, reservation.allowed ? now : ((await attempts.get(ctx.identifier, ctx.ipKey))?.lastAt ?? now), bruteForce);
  if (decision.action === 'allow' && bruteForce.accountLockout) {
    const lockout = { threshold: bruteForce.accountLockoutThreshold, blockDurationMs: bruteForce.blockDurationMs };
    const whole = await attempts.reserve(ctx.identifier, '*', lockout.threshold, now, lockout.blockDurationMs);
    if (!whole.allowed) {
      await attempts.clear(ctx.identifier, ctx.ipKey).catch(() => undefined);
      decision = decideReservation(whole, (await attempts.get(ctx.identifier, '*'))?.lastAt ?? now, lockout, 'account_locked');
    }
  }
  if (decision.action === 'allow') {
    ctx.reservedCount = reservation.count;
    return;
  }
  await refuseBlocked(deps, ctx, decision, decision.reason === 'account_locked' ? '*' : ctx.ipKey);
};

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

/** Records a failure; the failure that fills the last slot starts a block and tells the account owner. */
const recordFailure: Step = async (deps, ctx) => {
  if (ctx.passwordOk || !ctx.failureCode) return;
  await event(deps, ctx, ctx.failureCode, 'failure', ctx.failureCode.replace('login_failed_', ''), { count: ctx.reservedCount, threshold: deps.protection.bruteForce.threshold });
  await deps.bot?.recordFailure(ctx.ipKey, deps.clock.now());
  if (!ctx.allowlisted && failureStartsBlock(ctx.reservedCount, deps.protection.bruteForce)) {
    const until = deps.clock.now() + deps.protection.bruteForce.blockDurationMs;
    await event(deps, ctx, 'login_block_started', 'info', 'account_ip_blocked', { count: ctx.reservedCount, threshold: deps.protection.bruteForce.threshold, until, ip_key: ctx.ipKey });
    await deps.protection.onBlockStarted({ user: ctx.user, identifier: ctx.identifier, ip: ctx.input.ip, ipKey: ctx.ipKey });
  }
  ctx.verdict = { outcome: 'failure', reason: 'invalid_credentials' };
};

/** A correct password clears this IP's count for the account and returns its throttle token. */
const clearCounters: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || ctx.allowlisted) return;
  await deps.protection.attempts.clear(ctx.identifier, ctx.ipKey);
  if (deps.protection.bruteForce.accountLockout) await deps.protection.attempts.clear(ctx.identifier, '*');
  if (ctx.throttleTokenTaken) await deps.protection.buckets.refund(throttleKey(ctx.ipKey), deps.protection.throttle.capacity);
};

/** A correct password for an unverified address does not sign in; the caller offers a new verification link. */
const requireVerifiedEmail: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user || ctx.user.emailVerified) return;
  await event(deps, ctx, 'login_failed_unverified', 'failure', 'email_unverified');
  ctx.verdict = { outcome: 'failure', reason: 'email_unverified', user: ctx.user };
};

/** Breached password detection, after the password proved correct: the login waits for a password change. */
const checkBreachedPassword: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user) return;
  const verdict = await deps.breach.check(ctx.input.password);
  if (!verdict.breached) return;
  await event(deps, ctx, 'pwd_leak', 'failure', 'password_breached', { source: verdict.source, blocked: deps.breach.blockLogin });
  if (deps.breach.blockLogin) ctx.verdict = { outcome: 'failure', reason: 'password_breached', user: ctx.user };
};

/** Risk assessment after a correct password: block this attempt, ask for a second factor, or note the signals. */
const assessRisk: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user || !deps.risk?.enabled()) return;
  const { input, user } = ctx;
  const assessment = await deps.risk.guard.assess({ userId: user.id, ip: input.ip, userAgent: input.userAgent, deviceToken: input.deviceToken }, deps.clock.now());
  ctx.riskFacts = assessment.facts;
  if (assessment.action === 'allow') return;
  const details = { action: assessment.action, matched: assessment.matched, findings: assessment.findings, location: assessment.location, device: assessment.device, reasons: assessment.reasons };
  if (assessment.action === 'log') {
    await event(deps, ctx, 'risk_logged', 'info', assessment.matched.join(','), details);
    return;
  }
  if (assessment.action === 'require_mfa') {
    await event(deps, ctx, 'risk_mfa', 'info', assessment.matched.join(','), details);
    ctx.stepUp = true;
  } else {
    await event(deps, ctx, 'risk_blocked', 'failure', assessment.matched.join(','), details);
    ctx.verdict = { outcome: 'risk_blocked', user, assessment };
  }
  await deps.risk.onRisky({ user, ip: input.ip, assessment }).catch(() => undefined);
};

/** Upgrades the stored hash when the configured argon2 parameters changed. */
const upgradeHash: Step = async (deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user?.passwordHash || !deps.hasher.needsRehash(ctx.user.passwordHash)) return;
  const now = deps.clock.now();
  await deps.users.setPasswordHash(ctx.user.id, await deps.hasher.hash(ctx.input.password), now);
  await deps.events.append({ code: 'password_rehashed', outcome: 'info', userId: ctx.user.id, ip: ctx.input.ip }, now);
};

/**
 * The password step passed. No event yet: `login_success` is recorded when the sign-in completes (after any second
 * factor) and `mfa_required` when it waits for one, by the login steps, which know what follows.
 */
const recordSuccess: Step = async (_deps, ctx) => {
  if (!ctx.passwordOk || !ctx.user) return;
  ctx.verdict = { outcome: 'success', user: ctx.user, stepUp: ctx.stepUp, riskFacts: ctx.riskFacts, captchaRequired: ctx.captchaRequired };
};

/** The order is the design: cheap checks, then the reservation, then hashing, then bookkeeping. */
export const PASSWORD_ATTEMPT_STEPS: readonly Step[] = [
  checkAllowlist,
  refuseFromMemory,
  takeThrottleToken,
  requireHumanProof,
  reserveAttemptSlot,
  loadAccount,
  verifyPassword,
  recordFailure,
  clearCounters,
  requireVerifiedEmail,
  assessRisk,
  checkBreachedPassword,
  upgradeHash,
  recordSuccess,
];

export async function attemptPasswordLogin(deps: AttemptDeps, input: AttemptInput): Promise<AttemptVerdict> {
  const ctx: AttemptContext = {
    input,
    identifier: normaliseEmail(input.email),
    ipKey: toIpKey(input.ip),
    allowlisted: false,
    throttleTokenTaken: false,
    reservedCount: 0,
    captchaRequired: false,
    user: null,
    passwordOk: false,
    failureCode: null,
    stepUp: false,
    riskFacts: undefined,
    verdict: null,
  };
  for (const step of PASSWORD_ATTEMPT_STEPS) {
    await step(deps, ctx);
    if (ctx.verdict && ctx.verdict.outcome !== 'success') break;
  }
  return ctx.verdict ?? { outcome: 'failure', reason: 'invalid_credentials' };
}
