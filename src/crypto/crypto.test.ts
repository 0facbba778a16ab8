import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constantTimeEqual, fixedLengthEqual } from './constant-time.js';
import { createToken, parseToken, secretMatches, sha256 } from './tokens.js';
import { deriveKey, hmac } from './hmac.js';
import { seal, unseal } from './seal.js';
import { createPasswordHasher, parseArgon2Params } from './password-hasher.js';

describe('crypto', () => {
  it('sha256 matches the known answer for "abc"', () => {
    // FIPS 180-2 test vector, base64url encoded.
    assert.equal(sha256('abc'), Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
  });

  it('hmac matches RFC 4231 test case 2', () => {
    const mac = hmac(Buffer.from('Jefe'), 'what do ya want for nothing?');
    assert.equal(Buffer.from(mac, 'base64url').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('constantTimeEqual is exact, including length and empty strings', () => {
    assert.equal(constantTimeEqual('secret', 'secret'), true);
    assert.equal(constantTimeEqual('secret', 'secreT'), false);
    assert.equal(constantTimeEqual('secret', 'secret1'), false);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('', 'a'), false);
  });

  it('fixedLengthEqual is exact: same length and content only, multi-byte input included', () => {
    const mac = hmac(Buffer.from('k'), 'value');
    assert.equal(fixedLengthEqual(mac, mac), true);
    assert.equal(fixedLengthEqual(`${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, mac), false, 'last character differs');
    assert.equal(fixedLengthEqual(mac.slice(1), mac), false, 'shorter');
    assert.equal(fixedLengthEqual(`${mac}x`, mac), false, 'longer');
    assert.equal(fixedLengthEqual('', mac), false);
    // 43 characters but more bytes: the byte lengths differ, so it is refused rather than compared out of bounds.
    assert.equal(fixedLengthEqual(`é${mac.slice(1)}`, mac), false);
    assert.equal(fixedLengthEqual('', ''), true);
  });

  it('tokens are id.secret with only the hash kept, and parse strictly', () => {
    const { token, id, secretHash } = createToken();
    const parts = parseToken(token);
    assert.ok(parts);
    assert.equal(parts.id, id);
    assert.ok(!secretHash.includes(parts.secret));
    assert.equal(secretMatches(parts.secret, secretHash), true);
    assert.equal(secretMatches(`${parts.secret}x`, secretHash), false);
    for (const bad of ['', 'abc', '.abc', 'abc.', 'a b.c', 'a.b.c!', 42, null, 'x'.repeat(300)]) assert.equal(parseToken(bad), null, String(bad));
  });

  it('derived keys differ per purpose and are deterministic', () => {
    assert.deepEqual(deriveKey('s'.repeat(32), 'a'), deriveKey('s'.repeat(32), 'a'));
    assert.notDeepEqual(deriveKey('s'.repeat(32), 'a'), deriveKey('s'.repeat(32), 'b'));
  });

  it('seal round-trips and refuses tampering or the wrong key', () => {
    const key = deriveKey('k'.repeat(32), 'seal');
    const sealed = seal(key, '{"d":"private"}');
    assert.ok(!sealed.includes('private'));
    assert.equal(unseal(key, sealed), '{"d":"private"}');
    assert.throws(() => unseal(deriveKey('k'.repeat(32), 'other'), sealed));
    const parts = sealed.split('.');
    parts[3] = Buffer.from('{"d":"attacker"}').toString('base64url');
    assert.throws(() => unseal(key, parts.join('.')));
  });

  it('argon2id hashes verify, and parameter changes ask for a rehash', async () => {
    const weak = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const strong = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const stored = await weak.hash('correct horse battery staple');
    assert.match(stored, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    assert.deepEqual(parseArgon2Params(stored), { memoryCost: 1024, timeCost: 1, parallelism: 1 });
    assert.equal(await weak.verify(stored, 'correct horse battery staple'), true);
    assert.equal(await weak.verify(stored, 'wrong'), false);
    assert.equal(await weak.verify('not-a-hash', 'x'), false);
    assert.equal(weak.needsRehash(stored), false);
    assert.equal(strong.needsRehash(stored), true);
    assert.equal(strong.needsRehash('$2b$10$bcrypt'), true);
  });
});
