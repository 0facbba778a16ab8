// The risk policy: configurable rules over the assessors' findings; the strongest matching action wins.
import { confidenceRank, RISK_ACTIONS, type Finding, type RiskDecision, type RiskRule } from './risk-types.js';

/**
 * Defaults mirroring the hosted services' predefined conditions: impossible travel and an untrusted IP on a new device
 * block; an untrusted IP alone or a new country on a new device asks for a second factor; a new device alone is logged.
 */
export const DEFAULT_RISK_RULES: RiskRule[] = [
  { when: ['impossible_travel'], action: 'block' },
  { when: ['untrusted_ip', 'new_device'], action: 'block' },
  { when: ['untrusted_ip'], action: 'require_mfa' },
  { when: ['new_country', 'new_device'], action: 'require_mfa' },
  { when: ['new_country'], action: 'log' },
  { when: ['new_device'], action: 'log' },
];

export const describeRule = (rule: RiskRule): string => `${[...rule.when].sort().join('+')} → ${rule.action}`;

export function decideRisk(findings: readonly Finding[], rules: readonly RiskRule[]): RiskDecision {
  const fired = new Map(findings.filter((f) => f.fired).map((f) => [f.code, f]));
  const matched = rules.filter((rule) =>
    rule.when.every((code) => {
      const finding = fired.get(code);
      return finding !== undefined && confidenceRank(finding.confidence) >= confidenceRank(rule.minConfidence ?? 'low');
    }),
  );
  if (matched.length === 0) return { action: 'allow', matched: [] };
  const strongest = matched.reduce((best, rule) => (RISK_ACTIONS.indexOf(rule.action) > RISK_ACTIONS.indexOf(best) ? rule.action : best), matched[0]!.action);
  return { action: strongest, matched: matched.map(describeRule) };
}
