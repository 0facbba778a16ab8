// A protection decision is data: allow, or block with a reason, an end time and the numbers behind it.
export type Decision =
  | { action: 'allow'; signals: Record<string, number | string> }
  | { action: 'block'; reason: BlockReason; until: number | null; signals: Record<string, number | string> };

export type BlockReason = 'ip_throttled' | 'account_ip_blocked' | 'account_locked';
