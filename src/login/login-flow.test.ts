import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mermaidDiagram, startFlow, transition, type LoginFlow } from './login-flow.js';

function run(flow: LoginFlow, ...steps: [Parameters<typeof transition>[1], number, Parameters<typeof transition>[3]?][]): LoginFlow {
  let current = flow;
  for (const [event, now, data] of steps) {
    const result = transition(current, event, now, data);
    assert.ok(result.ok, `${event} refused: ${!result.ok && result.reason}`);
    current = result.flow;
  }
  return current;
}

describe('login flow state machine', () => {
  it('password then TOTP then the passkey offer ends authenticated with amr pwd+otp+mfa', () => {
    const flow = run(
      startFlow(0, 60_000),
      ['password_failed', 1],
      ['password_verified', 2, { accountId: 'u1', amr: ['pwd'] }],
      ['second_factor_passed', 3, { amr: ['otp'] }],
      ['offer_declined', 4],
    );
    assert.equal(flow.state, 'authenticated');
    assert.equal(flow.accountId, 'u1');
    assert.deepEqual(flow.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(flow.failedAttempts, 1);
  });

  it('a passkey goes straight to authenticated', () => {
    const flow = run(startFlow(0, 60_000), ['passkey_verified', 1, { accountId: 'u1', amr: ['hwk', 'user'] }]);
    assert.equal(flow.state, 'authenticated');
  });

  it('refuses transitions the table does not allow, expired flows, and a late second factor', () => {
    const start = startFlow(0, 60_000);
    assert.deepEqual(transition(start, 'finished', 10), { ok: false, reason: 'invalid_transition' });
    assert.deepEqual(transition(start, 'second_factor_passed', 10), { ok: false, reason: 'invalid_transition' });
    assert.deepEqual(transition(start, 'password_verified', 60_000), { ok: false, reason: 'expired' });
    const waiting = run(startFlow(0, 600_000), ['password_verified', 0, { accountId: 'u1', amr: ['pwd'] }]);
    assert.deepEqual(transition(waiting, 'second_factor_passed', 5 * 60_000 + 1), { ok: false, reason: 'step_deadline' });
  });

  it('ends the transaction after five wrong second factors', () => {
    let flow = run(startFlow(0, 600_000), ['password_verified', 0, { accountId: 'u1', amr: ['pwd'] }]);
    for (let i = 1; i <= 4; i++) flow = run(flow, ['second_factor_failed', i]);
    assert.equal(flow.state, 'second_factor');
    flow = run(flow, ['second_factor_failed', 5]);
    assert.equal(flow.state, 'aborted');
    assert.deepEqual(transition(flow, 'second_factor_passed', 6), { ok: false, reason: 'invalid_transition' });
  });

  it('docs/flows.md carries the diagram generated from the transition table', () => {
    assert.ok(readFileSync(new URL('../../docs/flows.md', import.meta.url), 'utf8').includes(mermaidDiagram()));
  });
});
