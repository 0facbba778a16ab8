// The hosted login as a state machine: explicit states, allowed transitions, an expiry. Later steps (MFA, passkey offer) slot in here.
export const LOGIN_STATES = ['credentials', 'authenticated', 'completed', 'aborted'] as const;
export type LoginState = (typeof LOGIN_STATES)[number];

export type LoginEvent = 'password_failed' | 'password_verified' | 'session_reused' | 'consent_given' | 'finished' | 'aborted';

/** The transition table; the diagram in docs/flows.md is generated from it. */
export const TRANSITIONS: Readonly<Record<LoginState, Partial<Record<LoginEvent, LoginState>>>> = {
  credentials: { password_failed: 'credentials', password_verified: 'authenticated', session_reused: 'authenticated', aborted: 'aborted' },
  authenticated: { finished: 'completed', consent_given: 'completed', aborted: 'aborted' },
  completed: {},
  aborted: {},
};

export interface LoginFlow {
  state: LoginState;
  failedAttempts: number;
  expiresAt: number;
  accountId: string | null;
}

export type TransitionResult = { ok: true; flow: LoginFlow } | { ok: false; reason: 'expired' | 'invalid_transition' };

export function startFlow(now: number, ttlMs: number): LoginFlow {
  return { state: 'credentials', failedAttempts: 0, expiresAt: now + ttlMs, accountId: null };
}

export function transition(flow: LoginFlow, event: LoginEvent, now: number, accountId?: string): TransitionResult {
  if (now >= flow.expiresAt) return { ok: false, reason: 'expired' };
  const next = TRANSITIONS[flow.state][event];
  if (!next) return { ok: false, reason: 'invalid_transition' };
  return {
    ok: true,
    flow: {
      ...flow,
      state: next,
      failedAttempts: flow.failedAttempts + (event === 'password_failed' ? 1 : 0),
      accountId: accountId ?? flow.accountId,
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
