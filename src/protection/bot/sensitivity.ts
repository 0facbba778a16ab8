// Bot-detection sensitivity: low, medium (default) and high mapped to documented signal thresholds.

export type BotSensitivity = 'low' | 'medium' | 'high';

/** Each count-type limit is the highest value still considered normal: a signal fires above it. */
export interface BotThresholds {
  maxAttemptsPerMinute: number;
  maxDistinctIdentifiersPerHour: number;
  maxFailureRatio: number;
  failureRatioMinAttempts: number;
  globalSpikeFactor: number;
  globalSpikeMinFailures: number;
  minFormFillMs: number;
  /** How long a browser proof (the login page's token) stays valid; pass it to verifyProof(). */
  proofMaxAgeMs: number;
}

export const BOT_THRESHOLD_DESCRIPTIONS: Readonly<Record<keyof BotThresholds, string>> = Object.freeze({
  maxAttemptsPerMinute: 'Login attempts per IP per minute; more is flagged `login_velocity`',
  maxDistinctIdentifiersPerHour: 'Different identifiers tried per IP per hour; more is flagged `credential_stuffing`',
  maxFailureRatio: 'Share of failed attempts per IP per hour; more is flagged `failure_ratio`',
  failureRatioMinAttempts: 'Attempts per IP per hour before the failure ratio is judged at all',
  globalSpikeFactor: 'Site-wide failures per window above this multiple of the recent baseline are flagged `global_failure_spike`',
  globalSpikeMinFailures: 'Site-wide failures per window that never count as a spike, however low the baseline',
  minFormFillMs: 'Milliseconds between serving the login page and the submit; faster is flagged `submitted_too_fast`',
  proofMaxAgeMs: 'Milliseconds a browser proof stays valid; older is flagged `browser_proof_invalid`',
});

// Medium is tuned so that a person mistyping a password, an office behind one NAT address and a
// password manager's autofill stay unflagged, while 20 identifiers from one IP are flagged.
export const BOT_SENSITIVITY: Readonly<Record<BotSensitivity, Readonly<BotThresholds>>> = Object.freeze({
  low: Object.freeze({
    maxAttemptsPerMinute: 30,
    maxDistinctIdentifiersPerHour: 15,
    maxFailureRatio: 0.9,
    failureRatioMinAttempts: 20,
    globalSpikeFactor: 10,
    globalSpikeMinFailures: 200,
    minFormFillMs: 300,
    proofMaxAgeMs: 4 * 60 * 60_000,
  }),
  medium: Object.freeze({
    maxAttemptsPerMinute: 10,
    maxDistinctIdentifiersPerHour: 5,
    maxFailureRatio: 0.8,
    failureRatioMinAttempts: 10,
    globalSpikeFactor: 5,
    globalSpikeMinFailures: 50,
    minFormFillMs: 800,
    proofMaxAgeMs: 60 * 60_000,
  }),
  high: Object.freeze({
    maxAttemptsPerMinute: 5,
    maxDistinctIdentifiersPerHour: 3,
    maxFailureRatio: 0.6,
    failureRatioMinAttempts: 5,
    globalSpikeFactor: 3,
    globalSpikeMinFailures: 20,
    minFormFillMs: 1500,
    proofMaxAgeMs: 30 * 60_000,
  }),
});

export function botThresholds(sensitivity: BotSensitivity): Readonly<BotThresholds> {
  return BOT_SENSITIVITY[sensitivity];
}

/** The thresholds as a Markdown table for the config reference. */
export function sensitivityTableMarkdown(): string {
  const keys = Object.keys(BOT_THRESHOLD_DESCRIPTIONS) as (keyof BotThresholds)[];
  const rows = keys.map(
    (key) => `| \`${key}\` | ${BOT_SENSITIVITY.low[key]} | ${BOT_SENSITIVITY.medium[key]} | ${BOT_SENSITIVITY.high[key]} | ${BOT_THRESHOLD_DESCRIPTIONS[key]} |`,
  );
  return ['| threshold | low | medium (default) | high | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
