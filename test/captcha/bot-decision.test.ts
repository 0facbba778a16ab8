// Bot decision table: `never`, `when_risky` and `always` behave as named; monitor-only challenges nobody; allowlisted IPs are never challenged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALWAYS_REASON, decideBot, type BotMode } from '../../src/protection/bot/bot-decision.js';
import type { Finding } from '../../src/protection/bot/signals.js';

const STUFFING: Finding[] = [
  { reason: 'credential_stuffing', detail: { distinct_identifiers_last_hour: 20, limit: 5 } },
  { reason: 'browser_proof_missing', detail: { proof: 'missing' } },
];
const plain = { monitorOnly: false, allowlisted: false };

describe('decideBot', () => {
  const table: { mode: BotMode; findings: Finding[]; context: typeof plain; expected: ReturnType<typeof decideBot> }[] = [
    { mode: 'never', findings: [], context: plain, expected: { action: 'allow' } },
    { mode: 'never', findings: STUFFING, context: plain, expected: { action: 'allow' } },
    { mode: 'when_risky', findings: [], context: plain, expected: { action: 'allow' } },
    {
      mode: 'when_risky',
      findings: STUFFING,
      context: plain,
      expected: { action: 'challenge', reasons: ['credential_stuffing', 'browser_proof_missing'], monitorOnly: false },
    },
    { mode: 'always', findings: [], context: plain, expected: { action: 'challenge', reasons: [ALWAYS_REASON], monitorOnly: false } },
    {
      mode: 'always',
      findings: STUFFING,
      context: plain,
      expected: { action: 'challenge', reasons: [ALWAYS_REASON, 'credential_stuffing', 'browser_proof_missing'], monitorOnly: false },
    },
    // Monitor-only: the would-be challenge is reported (for the log) and marked so nobody is challenged.
    {
      mode: 'when_risky',
      findings: STUFFING,
      context: { monitorOnly: true, allowlisted: false },
      expected: { action: 'challenge', reasons: ['credential_stuffing', 'browser_proof_missing'], monitorOnly: true },
    },
    { mode: 'always', findings: [], context: { monitorOnly: true, allowlisted: false }, expected: { action: 'challenge', reasons: [ALWAYS_REASON], monitorOnly: true } },
    { mode: 'when_risky', findings: [], context: { monitorOnly: true, allowlisted: false }, expected: { action: 'allow' } },
    { mode: 'never', findings: STUFFING, context: { monitorOnly: true, allowlisted: false }, expected: { action: 'allow' } },
    // Allowlisted: never challenged, whatever the mode and findings.
    { mode: 'always', findings: STUFFING, context: { monitorOnly: false, allowlisted: true }, expected: { action: 'allow' } },
    { mode: 'when_risky', findings: STUFFING, context: { monitorOnly: false, allowlisted: true }, expected: { action: 'allow' } },
    { mode: 'always', findings: [], context: { monitorOnly: true, allowlisted: true }, expected: { action: 'allow' } },
  ];

  for (const row of table) {
    const label = `${row.mode}, ${row.findings.length} findings, monitorOnly=${row.context.monitorOnly}, allowlisted=${row.context.allowlisted}`;
    it(`${label} → ${row.expected.action}${row.expected.action === 'challenge' && row.expected.monitorOnly ? ' (monitor only)' : ''}`, () => {
      assert.deepEqual(decideBot(row.findings, row.mode, row.context), row.expected);
    });
  }

  it('repeated reasons are reported once', () => {
    const twice: Finding[] = [STUFFING[0] as Finding, STUFFING[0] as Finding];
    assert.deepEqual(decideBot(twice, 'when_risky', plain), { action: 'challenge', reasons: ['credential_stuffing'], monitorOnly: false });
  });
});
