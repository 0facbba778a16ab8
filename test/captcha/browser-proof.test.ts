// Browser proof: a bare HTTP client (no page script) has none, and a proof cannot be forged, reused for another login, or kept forever.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { expectedProofDigest, issueProofChallenge, verifyProof } from '../../src/protection/bot/browser-proof.js';

const KEY = Buffer.alloc(32, 3);
const NOW = 1_750_000_000_000;
const MAX_AGE = 60 * 60_000;

/** What web/captcha.ts computes in the browser. */
function pageScript(nonce: string, transactionId: string): string {
  return `${nonce}.${createHash('sha256').update(`${nonce}:${transactionId}`).digest('hex')}`;
}

describe('browser proof', () => {
  it('valid: the page script output verifies, and reports the signed time the page was served', () => {
    const { nonce, issuedAt } = issueProofChallenge(KEY, 'tx-1', NOW);
    assert.equal(issuedAt, NOW);
    assert.deepEqual(verifyProof(KEY, 'tx-1', pageScript(nonce, 'tx-1'), NOW + 5_000, MAX_AGE), { status: 'valid', pageServedAt: NOW });
    assert.equal(expectedProofDigest(nonce, 'tx-1'), pageScript(nonce, 'tx-1').split('.')[2]);
  });

  it('missing: a bare HTTP client that posts no proof', () => {
    for (const submitted of [undefined, null, '', '   ', 42]) {
      assert.deepEqual(verifyProof(KEY, 'tx-1', submitted, NOW, MAX_AGE), { status: 'missing' });
    }
  });

  it('invalid: malformed, made up, or the nonce without the script work', () => {
    const { nonce } = issueProofChallenge(KEY, 'tx-1', NOW);
    assert.deepEqual(verifyProof(KEY, 'tx-1', 'garbage', NOW, MAX_AGE), { status: 'invalid', why: 'malformed' });
    assert.deepEqual(verifyProof(KEY, 'tx-1', 'x'.repeat(300), NOW, MAX_AGE), { status: 'invalid', why: 'malformed' });
    assert.deepEqual(verifyProof(KEY, 'tx-1', `${nonce}.${'0'.repeat(64)}`, NOW, MAX_AGE), { status: 'invalid', why: 'mismatch' });
    // A forged served time (to dodge "too fast") breaks the MAC.
    const [, mac, digest] = pageScript(nonce, 'tx-1').split('.');
    assert.deepEqual(verifyProof(KEY, 'tx-1', `${(NOW - 60_000).toString(36)}.${mac}.${digest}`, NOW, MAX_AGE), { status: 'invalid', why: 'mismatch' });
    // Another server's key.
    const foreign = issueProofChallenge(Buffer.alloc(32, 9), 'tx-1', NOW);
    assert.deepEqual(verifyProof(KEY, 'tx-1', pageScript(foreign.nonce, 'tx-1'), NOW, MAX_AGE), { status: 'invalid', why: 'mismatch' });
  });

  it('other transaction: a proof made for one login is refused on another', () => {
    const { nonce } = issueProofChallenge(KEY, 'tx-1', NOW);
    assert.deepEqual(verifyProof(KEY, 'tx-2', pageScript(nonce, 'tx-1'), NOW, MAX_AGE), { status: 'invalid', why: 'mismatch' });
    assert.deepEqual(verifyProof(KEY, 'tx-2', pageScript(nonce, 'tx-2'), NOW, MAX_AGE), { status: 'invalid', why: 'mismatch' });
  });

  it('expired: valid up to the maximum age, refused after it, and refused from the future', () => {
    const { nonce } = issueProofChallenge(KEY, 'tx-1', NOW);
    const proof = pageScript(nonce, 'tx-1');
    assert.equal(verifyProof(KEY, 'tx-1', proof, NOW + MAX_AGE, MAX_AGE).status, 'valid');
    assert.deepEqual(verifyProof(KEY, 'tx-1', proof, NOW + MAX_AGE + 1, MAX_AGE), { status: 'invalid', why: 'expired' });
    assert.deepEqual(verifyProof(KEY, 'tx-1', proof, NOW - 60_000, MAX_AGE), { status: 'invalid', why: 'expired' });
  });
});
