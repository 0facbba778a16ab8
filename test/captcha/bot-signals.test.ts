// Bot signals: each stays quiet exactly at its threshold and fires just above it, with the numbers behind it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOT_REASONS,
  BOT_SIGNALS,
  browserProof,
  collectFindings,
  credentialStuffing,
  failureRatio,
  globalFailureSpike,
  ipReputation,
  loginVelocity,
  scriptedUserAgent,
  submittedTooFast,
  type BotSignalInput,
} from '../../src/protection/bot/signals.js';
import { BOT_SENSITIVITY, BOT_THRESHOLD_DESCRIPTIONS, botThresholds, sensitivityTableMarkdown } from '../../src/protection/bot/sensitivity.js';

const NOW = 1_750_000_000_000;
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const t = botThresholds('medium');

/** A quiet, ordinary browser login. */
function calm(overrides: Partial<BotSignalInput> = {}): BotSignalInput {
  return {
    attemptsLastMinute: 1,
    distinctIdentifiersLastHour: 1,
    failuresLastHour: 0,
    attemptsLastHour: 1,
    globalFailuresLastWindow: 3,
    globalBaselinePerWindow: 2,
    proof: 'valid',
    pageServedAt: NOW - 10_000,
    userAgent: CHROME,
    ipListedIn: null,
    ...overrides,
  };
}

describe('bot signals', () => {
  it('an ordinary browser login raises no finding at any sensitivity', () => {
    for (const level of ['low', 'medium', 'high'] as const) {
      assert.deepEqual(collectFindings(calm(), NOW, botThresholds(level)), [], level);
    }
  });

  it('login velocity: quiet at the per-minute limit, fires above it', () => {
    assert.equal(loginVelocity(calm({ attemptsLastMinute: t.maxAttemptsPerMinute }), NOW, t), null);
    assert.deepEqual(loginVelocity(calm({ attemptsLastMinute: t.maxAttemptsPerMinute + 1 }), NOW, t), {
      reason: 'login_velocity',
      detail: { attempts_last_minute: t.maxAttemptsPerMinute + 1, limit: t.maxAttemptsPerMinute },
    });
  });

  it('credential stuffing: quiet at the distinct-identifier limit, fires above it; 20 identifiers fire at every sensitivity', () => {
    assert.equal(credentialStuffing(calm({ distinctIdentifiersLastHour: t.maxDistinctIdentifiersPerHour }), NOW, t), null);
    const finding = credentialStuffing(calm({ distinctIdentifiersLastHour: t.maxDistinctIdentifiersPerHour + 1 }), NOW, t);
    assert.equal(finding?.reason, 'credential_stuffing');
    assert.equal(finding?.detail.distinct_identifiers_last_hour, t.maxDistinctIdentifiersPerHour + 1);
    for (const level of ['low', 'medium', 'high'] as const) {
      assert.ok(credentialStuffing(calm({ distinctIdentifiersLastHour: 20 }), NOW, botThresholds(level)), level);
    }
  });

  it('failure ratio: needs a minimum sample, quiet at the ratio limit, fires above it', () => {
    const min = t.failureRatioMinAttempts;
    assert.equal(failureRatio(calm({ attemptsLastHour: min - 1, failuresLastHour: min - 1 }), NOW, t), null, 'all failed, but too few to judge');
    const atLimit = Math.floor(min * t.maxFailureRatio);
    assert.equal(failureRatio(calm({ attemptsLastHour: min, failuresLastHour: atLimit }), NOW, t), null);
    const finding = failureRatio(calm({ attemptsLastHour: min, failuresLastHour: atLimit + 1 }), NOW, t);
    assert.equal(finding?.reason, 'failure_ratio');
    assert.equal(finding?.detail.ratio, (atLimit + 1) / min);
    assert.equal(finding?.detail.attempts_last_hour, min);
  });

  it('global failure spike: quiet at factor × baseline, fires above it; the floor stops a quiet site from spiking', () => {
    const baseline = 40;
    const limit = baseline * t.globalSpikeFactor;
    assert.equal(globalFailureSpike(calm({ globalBaselinePerWindow: baseline, globalFailuresLastWindow: limit }), NOW, t), null);
    const finding = globalFailureSpike(calm({ globalBaselinePerWindow: baseline, globalFailuresLastWindow: limit + 1 }), NOW, t);
    assert.deepEqual(finding, {
      reason: 'global_failure_spike',
      detail: { global_failures: limit + 1, baseline, factor: t.globalSpikeFactor, limit },
    });
    assert.equal(globalFailureSpike(calm({ globalBaselinePerWindow: 0, globalFailuresLastWindow: t.globalSpikeMinFailures }), NOW, t), null);
    assert.ok(globalFailureSpike(calm({ globalBaselinePerWindow: 0, globalFailuresLastWindow: t.globalSpikeMinFailures + 1 }), NOW, t));
  });

  it('browser proof: valid is quiet; missing and invalid fire with their own reasons', () => {
    assert.equal(browserProof(calm(), NOW, t), null);
    assert.equal(browserProof(calm({ proof: 'missing' }), NOW, t)?.reason, 'browser_proof_missing');
    assert.equal(browserProof(calm({ proof: 'invalid' }), NOW, t)?.reason, 'browser_proof_invalid');
  });

  it('submitted too fast: quiet at the minimum fill time, fires below it, silent without a served time', () => {
    assert.equal(submittedTooFast(calm({ pageServedAt: NOW - t.minFormFillMs }), NOW, t), null);
    assert.deepEqual(submittedTooFast(calm({ pageServedAt: NOW - t.minFormFillMs + 1 }), NOW, t), {
      reason: 'submitted_too_fast',
      detail: { ms_since_page_served: t.minFormFillMs - 1, limit_ms: t.minFormFillMs },
    });
    assert.equal(submittedTooFast(calm({ pageServedAt: null }), NOW, t), null);
  });

  it('scripted user agent: headless browsers, HTTP libraries and an empty UA fire; real browsers stay quiet', () => {
    const scripted: [string, string][] = [
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36', 'HeadlessChrome'],
      ['curl/8.5.0', 'curl'],
      ['python-requests/2.32.3', 'python-requests'],
      ['Go-http-client/1.1', 'Go-http-client'],
      ['okhttp/4.12.0', 'okhttp'],
      ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'node-fetch'],
      ['axios/1.7.2', 'axios'],
      ['node', 'undici'],
      ['Wget/1.21.4', 'Wget'],
      ['Python-urllib/3.12', 'python-urllib'],
      ['Java/17.0.2', 'Java'],
      ['PostmanRuntime/7.39.0', 'PostmanRuntime'],
      ['', 'empty'],
      ['   ', 'empty'],
    ];
    for (const [ua, matched] of scripted) {
      assert.deepEqual(scriptedUserAgent(calm({ userAgent: ua }), NOW, t), { reason: 'scripted_user_agent', detail: { matched } }, ua);
    }
    assert.deepEqual(scriptedUserAgent(calm({ userAgent: null }), NOW, t)?.detail, { matched: 'empty' });
    const browsers = [
      CHROME,
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
    ];
    for (const ua of browsers) assert.equal(scriptedUserAgent(calm({ userAgent: ua }), NOW, t), null, ua);
  });

  it('IP reputation: fires with the list name when listed, quiet otherwise', () => {
    assert.equal(ipReputation(calm(), NOW, t), null);
    assert.deepEqual(ipReputation(calm({ ipListedIn: 'tor-exits' }), NOW, t), { reason: 'ip_reputation', detail: { list: 'tor-exits' } });
  });

  it('a bare HTTP client stuffing credentials raises several findings, in signal order', () => {
    const bare = calm({ attemptsLastMinute: 20, distinctIdentifiersLastHour: 20, failuresLastHour: 20, attemptsLastHour: 20, proof: 'missing', pageServedAt: null, userAgent: 'python-requests/2.32.3' });
    assert.deepEqual(
      collectFindings(bare, NOW, t).map((finding) => finding.reason),
      ['login_velocity', 'credential_stuffing', 'failure_ratio', 'browser_proof_missing', 'scripted_user_agent'],
    );
  });

  it('sensitivity: high is never more lenient than medium, nor medium than low; every threshold is documented', () => {
    const { low, medium, high } = BOT_SENSITIVITY;
    for (const key of ['maxAttemptsPerMinute', 'maxDistinctIdentifiersPerHour', 'maxFailureRatio', 'failureRatioMinAttempts', 'globalSpikeFactor', 'globalSpikeMinFailures', 'proofMaxAgeMs'] as const) {
      assert.ok(low[key] >= medium[key] && medium[key] >= high[key], key);
    }
    assert.ok(low.minFormFillMs <= medium.minFormFillMs && medium.minFormFillMs <= high.minFormFillMs);
    const table = sensitivityTableMarkdown();
    for (const key of Object.keys(medium)) {
      assert.ok(key in BOT_THRESHOLD_DESCRIPTIONS, key);
      assert.match(table, new RegExp(`\`${key}\``));
    }
    assert.equal(Object.isFrozen(medium), true);
  });

  it('every signal has a documented reason', () => {
    assert.equal(BOT_SIGNALS.length, 8);
    const everything = calm({ attemptsLastMinute: 99, distinctIdentifiersLastHour: 99, failuresLastHour: 99, attemptsLastHour: 99, globalFailuresLastWindow: 9_999, proof: 'invalid', pageServedAt: NOW, userAgent: 'curl/8', ipListedIn: 'x' });
    const reasons = collectFindings(everything, NOW, t).map((finding) => finding.reason);
    assert.equal(reasons.length, 8);
    for (const reason of reasons) assert.ok(BOT_REASONS[reason], reason);
  });
});
