// The vocabulary of risk assessment: what each assessor reports and what the policy can decide.

export const RISK_CONDITIONS = ['new_device', 'impossible_travel', 'untrusted_ip', 'new_country'] as const;
export type RiskCondition = (typeof RISK_CONDITIONS)[number];

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export const RISK_ACTIONS = ['log', 'require_mfa', 'block'] as const;
export type RiskAction = (typeof RISK_ACTIONS)[number];

/** One assessor's verdict. Every assessor reports, fired or not, so a stored event shows the whole picture. */
export interface Finding {
  code: RiskCondition;
  fired: boolean;
  /** How sure the assessor is; meaningful when fired (a quiet assessor reports `low`). */
  confidence: Confidence;
  /** What the verdict rests on, in plain values (stored with the event and shown to admins). */
  evidence: Record<string, string | number | boolean | null | string[]>;
}

/** A policy rule: when every listed condition fired (at `minConfidence` or above), take `action`. */
export interface RiskRule {
  when: RiskCondition[];
  action: RiskAction;
  minConfidence?: Confidence;
}

export interface RiskDecision {
  /** `allow` when no rule matched. */
  action: RiskAction | 'allow';
  /** The rules that matched, in policy order, as "new_device+untrusted_ip → block". */
  matched: string[];
}

export const confidenceRank = (c: Confidence): number => CONFIDENCES.indexOf(c);
