// TOTP known answers (RFC 6238 Appendix B), the ±1 step window, replay refusal and input handling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from 'otpauth';
import { generateTotpSecret, totpCode, totpCodeForStep, totpStep, totpUri, verifyTotp } from '../../src/authn/totp.js';

/** The RFC's SHA-1 seed: the 20 ASCII bytes "12345678901234567890". */
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;

/** RFC 6238 Appendix B, SHA-1 column: Unix time in seconds and the 8-digit TOTP. */
const RFC_VECTORS: ReadonlyArray<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

const NOW = 1_700_000_000_000;
const STEP = totpStep(NOW);
const SECRET = generateTotpSecret();
const codeAt = (step: number): string => totpCodeForStep({ secret: SECRET, step });

describe('TOTP known answers (RFC 6238 Appendix B, SHA-1)', () => {
  it('the seed is the RFC one', () => {
    assert.equal(RFC_SECRET, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  for (const [seconds, expected] of RFC_VECTORS) {
    it(`T=${seconds}: the generator gives ${expected} at 8 digits`, () => {
      assert.equal(totpCode({ secret: RFC_SECRET, now: seconds * 1000, digits: 8 }), expected);
    });

    it(`T=${seconds}: the 6-digit verifier accepts the last 6 digits (${expected.slice(-6)}) at that step`, () => {
      const verdict = verifyTotp({ secret: RFC_SECRET, code: expected.slice(-6), now: seconds * 1000, lastUsedStep: null });
      assert.deepEqual(verdict, { ok: true, step: Math.floor(seconds / 30) });
    });
  }
});

describe('verifyTotp window', () => {
  it('accepts the current step and one step either side, returning the matched step', () => {
    for (const offset of [-1, 0, 1]) {
      assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP + offset), now: NOW, lastUsedStep: null }), { ok: true, step: STEP + offset });
    }
  });

  it('refuses codes two or more steps away (a stolen old code stops working within a minute and a half)', () => {
    for (const offset of [-3, -2, 2, 3]) {
      const code = codeAt(STEP + offset);
      // Skip the one-in-a-million case where a far code equals a code inside the window.
      if ([-1, 0, 1].some((near) => codeAt(STEP + near) === code)) continue;
      assert.deepEqual(verifyTotp({ secret: SECRET, code, now: NOW, lastUsedStep: null }), { ok: false, reason: 'invalid' });
    }
  });

  it('works across a step boundary: the last millisecond of one step and the first of the next', () => {
    const boundary = (STEP + 1) * 30_000;
    assert.equal(totpStep(boundary - 1), STEP);
    assert.equal(totpStep(boundary), STEP + 1);
    assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP), now: boundary, lastUsedStep: null }), { ok: true, step: STEP });
  });

  it('refuses a code computed from another secret', () => {
    const other = generateTotpSecret();
    const code = totpCodeForStep({ secret: other, step: STEP });
    if ([-1, 0, 1].some((near) => codeAt(STEP + near) === code)) return;
    assert.deepEqual(verifyTotp({ secret: SECRET, code, now: NOW, lastUsedStep: null }), { ok: false, reason: 'invalid' });
  });
});

describe('verifyTotp replay', () => {
  // Threat: an attacker who sees a code (shoulder-surfing, phishing relay, logs) submits it again while it is still in the window.
  it('refuses a code whose step was already used', () => {
    assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP), now: NOW, lastUsedStep: STEP }), { ok: false, reason: 'replayed' });
  });

  it('refuses an older code inside the window once a later step was used', () => {
    assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP - 1), now: NOW, lastUsedStep: STEP }), { ok: false, reason: 'replayed' });
  });

  it('accepts the next code after a used step', () => {
    assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP + 1), now: NOW, lastUsedStep: STEP }), { ok: true, step: STEP + 1 });
    assert.deepEqual(verifyTotp({ secret: SECRET, code: codeAt(STEP), now: NOW, lastUsedStep: STEP - 1 }), { ok: true, step: STEP });
  });
});

describe('verifyTotp input', () => {
  it('refuses anything but six ASCII digits as malformed', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12345a', '１２３４５６', '123-456', codeAt(STEP) + '0']) {
      assert.deepEqual(verifyTotp({ secret: SECRET, code, now: NOW, lastUsedStep: null }), { ok: false, reason: 'malformed' }, JSON.stringify(code));
    }
  });

  it('ignores spaces people type or paste around and inside the code', () => {
    const code = codeAt(STEP);
    assert.equal(verifyTotp({ secret: SECRET, code: ` ${code.slice(0, 3)} ${code.slice(3)} `, now: NOW, lastUsedStep: null }).ok, true);
  });
});

describe('generateTotpSecret and totpUri', () => {
  it('makes 160-bit base32 secrets from the injected random source', () => {
    const secret = generateTotpSecret({ bytes: (n) => Buffer.alloc(n, 0xab) });
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.deepEqual(Buffer.from(Secret.fromBase32(secret).bytes), Buffer.alloc(20, 0xab));
    assert.notEqual(generateTotpSecret(), generateTotpSecret());
  });

  it('builds the otpauth URI authenticator apps expect', () => {
    const uri = new URL(totpUri({ secret: SECRET, label: 'ada@example.com', issuer: 'Acme ID' }));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Acme ID:ada@example.com');
    assert.equal(uri.searchParams.get('secret'), SECRET);
    assert.equal(uri.searchParams.get('issuer'), 'Acme ID');
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
  });
});
