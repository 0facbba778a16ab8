// Bot signals: each a small pure function of pre-counted numbers, `now` and thresholds, returning an explainable finding or null.
import type { BotThresholds } from './sensitivity.js';

/** Machine reason codes; they feed the security event log, the admin console and the config docs. */
export type BotReason =
  | 'login_velocity'
  | 'credential_stuffing'
  | 'failure_ratio'
  | 'global_failure_spike'
  | 'browser_proof_missing'
  | 'browser_proof_invalid'
  | 'submitted_too_fast'
  | 'scripted_user_agent'
  | 'ip_reputation';

/** One human sentence per reason (admin console, docs); never shown to the person logging in. */
export const BOT_REASONS: Readonly<Record<BotReason, string>> = Object.freeze({
  login_velocity: 'Too many login attempts from this IP in the last minute',
  credential_stuffing: 'Many different accounts tried from this IP in the last hour',
  failure_ratio: 'Most login attempts from this IP in the last hour failed',
  global_failure_spike: 'Failed logins across the whole site spiked above the recent baseline',
  browser_proof_missing: "The login form arrived without the login page script's browser proof",
  browser_proof_invalid: 'The browser proof was forged, expired or made for another login',
  submitted_too_fast: 'The form was submitted faster than a person can fill it in',
  scripted_user_agent: 'The user agent is a headless browser or an HTTP library',
  ip_reputation: 'The IP is on a configured reputation list',
});

export interface Finding {
  reason: BotReason;
  /** The numbers behind the finding, for events and the admin console. */
  detail: Record<string, number | string>;
}

/**
 * What the login pipeline counts before asking the signals. Per-IP counts include the current
 * attempt; the pipeline decides the IP grouping (see ip/ip-key.ts).
 */
export interface BotSignalInput {
  /** Login attempts from this IP in the last 60 s. */
  attemptsLastMinute: number;
  /** Distinct identifiers (emails) tried from this IP in the last hour. */
  distinctIdentifiersLastHour: number;
  /** Failed login attempts from this IP in the last hour. */
  failuresLastHour: number;
  /** All login attempts from this IP in the last hour. */
  attemptsLastHour: number;
  /** Failed logins site-wide in the current window (the window length is the pipeline's choice). */
  globalFailuresLastWindow: number;
  /** Average failed logins site-wide per window of the same length, over the recent past. */
  globalBaselinePerWindow: number;
  /** The result of verifyProof() (browser-proof.ts). */
  proof: 'valid' | 'missing' | 'invalid';
  /** When the login page was served (the signed time from verifyProof), or null when unknown. */
  pageServedAt: number | null;
  userAgent: string | null | undefined;
  /** The name of the reputation list holding the IP, or null when none does. */
  ipListedIn: string | null;
}

export type BotSignal = (input: BotSignalInput, now: number, thresholds: BotThresholds) => Finding | null;

export const loginVelocity: BotSignal = (input, _now, t) =>
  input.attemptsLastMinute > t.maxAttemptsPerMinute
    ? { reason: 'login_velocity', detail: { attempts_last_minute: input.attemptsLastMinute, limit: t.maxAttemptsPerMinute } }
    : null;

export const credentialStuffing: BotSignal = (input, _now, t) =>
  input.distinctIdentifiersLastHour > t.maxDistinctIdentifiersPerHour
    ? {
        reason: 'credential_stuffing',
        detail: { distinct_identifiers_last_hour: input.distinctIdentifiersLastHour, limit: t.maxDistinctIdentifiersPerHour },
      }
    : null;

export const failureRatio: BotSignal = (input, _now, t) => {
  // A ratio over two or three attempts says nothing: one typo is 100 % failure.
  if (input.attemptsLastHour < t.failureRatioMinAttempts || input.attemptsLastHour <= 0) return null;
  const ratio = input.failuresLastHour / input.attemptsLastHour;
  if (ratio <= t.maxFailureRatio) return null;
  return {
    reason: 'failure_ratio',
    detail: {
      failures_last_hour: input.failuresLastHour,
      attempts_last_hour: input.attemptsLastHour,
      ratio: Math.round(ratio * 1000) / 1000,
      limit: t.maxFailureRatio,
    },
  };
};

export const globalFailureSpike: BotSignal = (input, _now, t) => {
  // The floor keeps a quiet site (baseline 0) from "spiking" on a handful of typos.
  const limit = Math.max(t.globalSpikeMinFailures, input.globalBaselinePerWindow * t.globalSpikeFactor);
  if (input.globalFailuresLastWindow <= limit) return null;
  return {
    reason: 'global_failure_spike',
    detail: {
      global_failures: input.globalFailuresLastWindow,
      baseline: Math.round(input.globalBaselinePerWindow * 1000) / 1000,
      factor: t.globalSpikeFactor,
      limit: Math.round(limit * 1000) / 1000,
    },
  };
};

export const browserProof: BotSignal = (input) => {
  if (input.proof === 'valid') return null;
  return { reason: input.proof === 'missing' ? 'browser_proof_missing' : 'browser_proof_invalid', detail: { proof: input.proof } };
};

export const submittedTooFast: BotSignal = (input, now, t) => {
  // Without a trustworthy served time there is nothing to measure; the proof signal covers that case.
  if (input.pageServedAt === null) return null;
  const elapsed = now - input.pageServedAt;
  return elapsed < t.minFormFillMs ? { reason: 'submitted_too_fast', detail: { ms_since_page_served: elapsed, limit_ms: t.minFormFillMs } } : null;
};

/** Headless browsers and HTTP libraries, by user-agent token. Real browsers never send these. */
export const SCRIPTED_USER_AGENTS: readonly { name: string; pattern: RegExp }[] = Object.freeze([
  { name: 'HeadlessChrome', pattern: /HeadlessChrome/i },
  { name: 'PhantomJS', pattern: /PhantomJS/i },
  { name: 'Puppeteer', pattern: /Puppeteer/i },
  { name: 'Playwright', pattern: /Playwright/i },
  { name: 'Selenium', pattern: /Selenium|webdriver/i },
  { name: 'curl', pattern: /(^|[\s(])curl\//i },
  { name: 'Wget', pattern: /(^|[\s(])Wget\//i },
  { name: 'python-requests', pattern: /python-requests/i },
  { name: 'python-urllib', pattern: /Python-urllib/i },
  { name: 'aiohttp', pattern: /aiohttp/i },
  { name: 'httpx', pattern: /python-httpx/i },
  { name: 'Scrapy', pattern: /Scrapy/i },
  { name: 'Go-http-client', pattern: /Go-http-client/i },
  { name: 'okhttp', pattern: /okhttp/i },
  { name: 'Apache-HttpClient', pattern: /Apache-HttpClient/i },
  { name: 'Java', pattern: /^Java\//i },
  { name: 'libwww-perl', pattern: /libwww-perl/i },
  { name: 'node-fetch', pattern: /node-fetch/i },
  { name: 'axios', pattern: /axios/i },
  { name: 'undici', pattern: /^(undici|node)$/i },
  { name: 'got', pattern: /^got\b/i },
  { name: 'PostmanRuntime', pattern: /PostmanRuntime/i },
  { name: 'insomnia', pattern: /^insomnia\//i },
  { name: 'HTTPie', pattern: /HTTPie/i },
  { name: 'Ruby', pattern: /^Ruby$|Faraday/i },
  { name: 'Guzzle', pattern: /GuzzleHttp/i },
]);

export const scriptedUserAgent: BotSignal = (input) => {
  const ua = (input.userAgent ?? '').trim();
  if (ua === '') return { reason: 'scripted_user_agent', detail: { matched: 'empty' } };
  const match = SCRIPTED_USER_AGENTS.find((entry) => entry.pattern.test(ua));
  return match ? { reason: 'scripted_user_agent', detail: { matched: match.name } } : null;
};

export const ipReputation: BotSignal = (input) =>
  input.ipListedIn !== null ? { reason: 'ip_reputation', detail: { list: input.ipListedIn } } : null;

/** Every signal, in the order their findings are reported. */
export const BOT_SIGNALS: readonly BotSignal[] = Object.freeze([
  loginVelocity,
  credentialStuffing,
  failureRatio,
  globalFailureSpike,
  browserProof,
  submittedTooFast,
  scriptedUserAgent,
  ipReputation,
]);

export function collectFindings(input: BotSignalInput, now: number, thresholds: BotThresholds): Finding[] {
  return BOT_SIGNALS.map((signal) => signal(input, now, thresholds)).filter((finding): finding is Finding => finding !== null);
}
