// The hosted login as a persisted state machine: explicit states, a transition table, an expiry, and step deadlines.
export const LOGIN_STATES = ['credentials', 'second_factor', 'passkey_offer', 'authenticated', 'completed', 'aborted'] as const;
export type LoginState = (typeof LOGIN_STATES)[number];

export type LoginEvent =
  | 'password_failed'
  | 'password_verified'
  | 'login_link_used'
  | 'passkey_verified'
  | 'session_reused'
  | 'second_factor_not_enrolled'
  | 'email_code_sent'
  | 'second_factor_failed'
  | 'second_factor_passed'
  | 'second_factor_exhausted'
  | 'offer_not_needed'
  | 'offer_accepted'
  | 'offer_declined'
  | 'finished'
  | 'aborted';

/** The transition table; docs/flows.md shows the diagram generated from it. */
export const TRANSITIONS: Readonly<Record<LoginState, Partial<Record<LoginEvent, LoginState>>>> = {
  credentials: {
    password_failed: 'credentials',
    password_verified: 'second_factor',
    // A one-time login link (sent after an unblock) stands in for the password only: the second factor still follows.
    login_link_used: 'second_factor',
    // A passkey proves possession and user verification: it satisfies MFA and skips the offer.
    passkey_verified: 'authenticated',
    session_reused: 'authenticated',
    aborted: 'aborted',
  },
  second_factor: {
    second_factor_not_enrolled: 'passkey_offer',
    // Risk asked for a second factor and the user has no TOTP: a one-time code goes to their email.
    email_code_sent: 'second_factor',
    second_factor_failed: 'second_factor',
    second_factor_passed: 'passkey_offer',
    second_factor_exhausted: 'aborted',
    aborted: 'aborted',
  },
  passkey_offer: { offer_not_needed: 'authenticated', offer_accepted: 'authenticated', offer_declined: 'authenticated', aborted: 'aborted' },
  authenticated: { finished: 'completed', aborted: 'aborted' },
  completed: {},
  aborted: {},
};

export interface LoginFlow {
  state: LoginState;
  expiresAt: number;
  accountId: string | null;
  /** Authentication methods so far (RFC 8176 values: pwd, otp, hwk, user, mfa). */
  amr: string[];
  failedAttempts: number;
  secondFactorAttempts: number;
  /** The second factor must follow the password within this deadline. */
  stepDeadline: number | null;
  /** Risk assessment asked for a second factor: it cannot be skipped even without TOTP (a passkey or an emailed code then). */
  stepUp: boolean;
  /** The emailed step-up code: only its keyed hash is kept. */
  emailCode: EmailCode | null;
  /** The password step had to pass a CAPTCHA (noted on the sign-in's login_success); absent in older stored flows. */
  captchaRequired?: boolean;
}

export interface EmailCode {
  hash: string;
  expiresAt: number;
  sentAt: number;
  /** How many codes this sign-in has sent (capped). */
  sends: number;
}

export interface FlowLimits {
  secondFactorWindowMs: number;
  secondFactorMaxAttempts: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = { secondFactorWindowMs: 5 * 60_000, secondFactorMaxAttempts: 5 };

export type TransitionResult = { ok: true; flow: LoginFlow } | { ok: false; reason: 'expired' | 'invalid_transition' | 'step_deadline' };

export function startFlow(now: number, ttlMs: number): LoginFlow {
  return { state: 'credentials', expiresAt: now + ttlMs, accountId: null, amr: [], failedAttempts: 0, secondFactorAttempts: 0, stepDeadline: null, stepUp: false, emailCode: null };
}

export function transition(
  flow: LoginFlow,
  event: LoginEvent,
  now: number,
  data: { accountId?: string; amr?: string[]; stepUp?: boolean; emailCode?: EmailCode; captchaRequired?: boolean } = {},
  limits: FlowLimits = DEFAULT_FLOW_LIMITS,
): TransitionResult {
  if (now >= flow.expiresAt) return { ok: false, reason: 'expired' };
  const next = TRANSITIONS[flow.state][event];
  if (!next) return { ok: false, reason: 'invalid_transition' };
  if (flow.state === 'second_factor' && flow.stepDeadline !== null && now > flow.stepDeadline && event !== 'aborted') {
    return { ok: false, reason: 'step_deadline' };
  }
  const amr = [...new Set([...flow.amr, ...(data.amr ?? [])])];
  if (amr.length > 1 && !amr.includes('mfa') && (amr.includes('otp') || amr.includes('hwk'))) amr.push('mfa');
  const secondFactorAttempts = flow.secondFactorAttempts + (event === 'second_factor_failed' ? 1 : 0);
  return {
    ok: true,
    flow: {
      ...flow,
      state: next === 'second_factor' && secondFactorAttempts >= limits.secondFactorMaxAttempts ? 'aborted' : next,
      accountId: data.accountId ?? flow.accountId,
      amr,
      failedAttempts: flow.failedAttempts + (event === 'password_failed' ? 1 : 0),
      secondFactorAttempts,
      stepDeadline:
        event === 'password_verified' || event === 'login_link_used'
          ? now + limits.secondFactorWindowMs
          : // An emailed code keeps the step open for as long as the email says the code is valid.
            event === 'email_code_sent' && data.emailCode
            ? Math.max(flow.stepDeadline ?? 0, data.emailCode.expiresAt)
            : flow.stepDeadline,
      stepUp: (flow.stepUp ?? false) || (data.stepUp ?? false),
      emailCode: event === 'email_code_sent' ? (data.emailCode ?? null) : (flow.emailCode ?? null),
      ...(data.captchaRequired !== undefined ? { captchaRequired: data.captchaRequired } : {}),
    },
  };
}

export function mermaidDiagram(): string {
  const lines = ['stateDiagram-v2', '  [*] --> credentials'];
  for (const [from, edges] of Object.entries(TRANSITIONS)) {
    for (const [event, to] of Object.entries(edges)) lines.push(`  ${from} --> ${to}: ${event}`);
  }
  lines.push('  completed --> [*]', '  aborted --> [*]');
  return lines.join('\n');
}
