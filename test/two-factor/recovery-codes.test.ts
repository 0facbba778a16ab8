// Recovery codes: shape and entropy, normalisation of what people type, hashing, and constant-time matching.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normalizeRecoveryCode } from '../../src/authn/recovery-codes.js';

describe('generateRecoveryCodes', () => {
  it('makes 10 distinct codes shaped xxxx-xxxx-xx from the Crockford alphabet by default', () => {
    const codes = generateRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$/);
  });

  it('draws 50 bits per code from the injected random source', () => {
    // All-zero bits give the first symbol everywhere; all-one bits the last.
    assert.deepEqual(generateRecoveryCodes(1, { bytes: (n) => Buffer.alloc(n, 0) }), ['0000-0000-00']);
    assert.deepEqual(generateRecoveryCodes(1, { bytes: (n) => Buffer.alloc(n, 0xff) }), ['zzzz-zzzz-zz']);
    // 0x08 0x86 0x42 ... spells 1,2,3 in 5-bit groups: 00001 00010 00011 ...
    const bytes = Buffer.from([0b00001000, 0b10000110, 0b01000010, 0b10011000, 0b11101000, 0b01001010, 0b10000000]);
    assert.deepEqual(generateRecoveryCodes(1, { bytes: () => bytes }), ['1234-5678-9a']);
  });

  it('stops instead of looping forever on a random source that repeats', () => {
    assert.throws(() => generateRecoveryCodes(2, { bytes: (n) => Buffer.alloc(n, 1) }), /repeating/);
  });

  it('honours the count', () => {
    assert.equal(generateRecoveryCodes(3).length, 3);
  });
});

describe('normalizeRecoveryCode and hashRecoveryCode', () => {
  it('accepts the code however it is typed: case, spaces, dashes, and o/i/l look-alikes', () => {
    const [code] = generateRecoveryCodes(1, { bytes: () => Buffer.from([0b00001000, 0b10000110, 0b01000010, 0b10011000, 0b11101000, 0b01001010, 0b10000000]) });
    assert.equal(code, '1234-5678-9a');
    const hash = hashRecoveryCode('1234-5678-9a');
    for (const typed of ['1234 5678 9A', 'l234-5678-9a', 'I2345678 9a', ' 1234--5678-9a ']) assert.equal(hashRecoveryCode(typed), hash, typed);
    assert.equal(normalizeRecoveryCode('0O0o-0000-00'), '0000000000');
  });

  it('refuses input that cannot be a code', () => {
    for (const typed of ['', '1234-5678', '1234-5678-9a0', 'uuuu-uuuu-uu', '1234-5678-9!', '1234_5678_9a']) {
      assert.equal(normalizeRecoveryCode(typed), null, typed);
      assert.equal(hashRecoveryCode(typed), null, typed);
    }
  });

  it('hashes with SHA-256 (hex), so the stored value never contains the code', () => {
    const hash = hashRecoveryCode('abcd-efgh-jk');
    assert.match(hash ?? '', /^[0-9a-f]{64}$/);
    assert.ok(!hash?.includes('abcdefghjk'));
    assert.notEqual(hashRecoveryCode('abcd-efgh-jm'), hash);
  });
});

describe('matchRecoveryCode', () => {
  const codes = generateRecoveryCodes();
  const hashes = codes.map((code) => hashRecoveryCode(code) as string);

  it('returns the index of the matching hash', () => {
    codes.forEach((code, index) => assert.equal(matchRecoveryCode(code.toUpperCase(), hashes), index));
  });

  it('returns null for a wrong, malformed or empty input, and for an empty list', () => {
    const [other] = generateRecoveryCodes(1);
    assert.equal(matchRecoveryCode(other as string, hashes), null);
    assert.equal(matchRecoveryCode('not a code', hashes), null);
    assert.equal(matchRecoveryCode('', hashes), null);
    assert.equal(matchRecoveryCode(codes[0] as string, []), null);
  });

  it('never matches a stored value that is not a full hash', () => {
    assert.equal(matchRecoveryCode(codes[0] as string, [(hashes[0] as string).slice(0, 10), '']), null);
  });
});
