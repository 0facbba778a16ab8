// Turns bot findings and the operator's mode into allow or challenge; the reasons feed the security event log.
import type { Finding } from './signals.js';

/** Set separately for password login, sign-up and password-reset requests. */
export type BotMode = 'never' | 'when_risky' | 'always';

export type BotDecision =
  | { action: 'allow' }
  /** With monitorOnly the caller logs the would-be challenge but lets the request through unchallenged. */
  | { action: 'challenge'; reasons: string[]; monitorOnly: boolean };

export interface BotDecisionContext {
  monitorOnly: boolean;
  /** The client IP is on the operator's allowlist: never challenged, whatever the mode. */
  allowlisted: boolean;
}

/** The reason recorded when `always` challenges a request that raised no finding. */
export const ALWAYS_REASON = 'mode_always';

interface Rule {
  when: (mode: BotMode, findings: readonly Finding[], context: BotDecisionContext) => boolean;
  decide: (findings: readonly Finding[], context: BotDecisionContext) => BotDecision;
}

const reasonsOf = (findings: readonly Finding[]): string[] => [...new Set(findings.map((finding) => finding.reason))];

// First matching rule wins; the order is the policy.
const RULES: readonly Rule[] = [
  { when: (_mode, _findings, context) => context.allowlisted, decide: () => ({ action: 'allow' }) },
  { when: (mode) => mode === 'never', decide: () => ({ action: 'allow' }) },
  {
    when: (mode) => mode === 'always',
    decide: (findings, context) => ({ action: 'challenge', reasons: [ALWAYS_REASON, ...reasonsOf(findings)], monitorOnly: context.monitorOnly }),
  },
  {
    when: (_mode, findings) => findings.length > 0,
    decide: (findings, context) => ({ action: 'challenge', reasons: reasonsOf(findings), monitorOnly: context.monitorOnly }),
  },
];

export function decideBot(findings: readonly Finding[], mode: BotMode, context: BotDecisionContext): BotDecision {
  const rule = RULES.find((candidate) => candidate.when(mode, findings, context));
  return rule ? rule.decide(findings, context) : { action: 'allow' };
}
