import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSha1Prefix } from './sha1-prefix.js';

it('the JS SHA-1 prefix matches node:crypto for every length from 0 to 120 bytes, at any offset', () => {
  const sha1 = createSha1Prefix();
  const out = { hi: 0, lo: 0 };
  for (let len = 0; len <= 120; len++) {
    for (let round = 0; round < 5; round++) {
      const bytes = randomBytes(len + 7);
      sha1(bytes, 3, 3 + len, out);
      const digest = createHash('sha1').update(bytes.subarray(3, 3 + len)).digest();
      assert.deepEqual([out.hi, out.lo], [digest.readUInt32BE(0), digest.readUInt32BE(4)], `length ${len}`);
    }
  }
});

it('known answers: SHA-1("password") and SHA-1("")', () => {
  const sha1 = createSha1Prefix();
  const out = { hi: 0, lo: 0 };
  sha1(Buffer.from('password'), 0, 8, out);
  assert.equal(out.hi.toString(16) + out.lo.toString(16).padStart(8, '0'), '5baa61e4c9b93f3f');
  sha1(Buffer.alloc(0), 0, 0, out);
  assert.equal(out.hi.toString(16) + out.lo.toString(16).padStart(8, '0'), 'da39a3ee5e6b4b0d');
});
