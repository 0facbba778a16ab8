import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mermaidDiagram, startFlow, transition } from './login-flow.js';

describe('login flow state machine', () => {
  it('moves from credentials to authenticated to completed', () => {
    const start = startFlow(0, 1000);
    const failed = transition(start, 'password_failed', 10);
    assert.ok(failed.ok);
    assert.equal(failed.flow.failedAttempts, 1);
    const authed = transition(failed.flow, 'password_verified', 20, 'user-1');
    assert.ok(authed.ok);
    assert.equal(authed.flow.state, 'authenticated');
    assert.equal(authed.flow.accountId, 'user-1');
    const done = transition(authed.flow, 'finished', 30);
    assert.ok(done.ok);
    assert.equal(done.flow.state, 'completed');
  });

  it('refuses transitions the table does not allow, and expired flows', () => {
    const start = startFlow(0, 1000);
    assert.deepEqual(transition(start, 'finished', 10), { ok: false, reason: 'invalid_transition' });
    assert.deepEqual(transition(start, 'password_verified', 1000), { ok: false, reason: 'expired' });
    const done = transition(start, 'aborted', 5);
    assert.ok(done.ok);
    assert.deepEqual(transition(done.flow, 'password_verified', 6), { ok: false, reason: 'invalid_transition' });
  });

  it('draws its diagram from the transition table', () => {
    assert.match(mermaidDiagram(), /credentials --> authenticated: password_verified/);
  });
});
