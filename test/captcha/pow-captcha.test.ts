// Proof-of-work CAPTCHA on a real store: a solved challenge passes once, only for its own transaction and before expiry; tampering fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { backends } from '../helpers/databases.js';
import type { Store } from '../../src/store/store.js';
import { createCaptchaStore } from '../../src/protection/captcha/captcha-store.js';
import { createPowCaptcha, POW_DEFAULTS } from '../../src/protection/captcha/pow-captcha.js';
import { CAPTCHA_TTL_MS, type CaptchaProvider } from '../../src/protection/captcha/captcha-provider.js';
import { solvePow } from '../../web/pow-solver.js';
import { sha256 } from '../../web/sha256.js';

const KEY = Buffer.alloc(32, 6);
const NOW = 1_750_000_000_000;
const EASY = { counterMin: 100, counterMax: 2_000 };

const encode = (payload: unknown): string => Buffer.from(JSON.stringify(payload)).toString('base64');

async function solveWithAltchaLib(challenge: Challenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey });
  assert.ok(solution, 'altcha-lib finds the solution');
  return encode({ challenge, solution });
}

for (const backend of backends()) {
  describe(`proof-of-work CAPTCHA (${backend.name})`, () => {
    let context: { store: Store; dispose(): Promise<void> };
    let provider: CaptchaProvider;
    before(async () => {
      context = await backend.create();
      provider = createPowCaptcha({ store: createCaptchaStore(context.store.oidc), key: KEY, ...EASY });
    });
    after(async () => {
      await context.dispose();
    });

    async function issue(transactionId = 'tx-a'): Promise<Challenge> {
      const issued = await provider.issue(transactionId, NOW);
      assert.equal(issued.provider, 'pow');
      const challenge = issued.powChallenge as Challenge;
      assert.equal(challenge.parameters.algorithm, 'SHA-256');
      assert.equal(issued.id, challenge.parameters.salt);
      return challenge;
    }

    it("a challenge solved with altcha-lib's solver passes once; the replay fails", async () => {
      const altcha = await solveWithAltchaLib(await issue());
      assert.deepEqual(await provider.verify('tx-a', { altcha }, NOW + 2_000), { ok: true });
      assert.deepEqual(await provider.verify('tx-a', { altcha }, NOW + 3_000), { ok: false, reason: 'replayed' });
    });

    it('the browser solver (web/pow-solver.ts) finds the same kind of solution, and it passes', async () => {
      const challenge = await issue();
      const solution = solvePow(challenge.parameters);
      assert.ok(solution);
      assert.ok(solution.counter >= EASY.counterMin && solution.counter <= EASY.counterMax, 'the work is the secret counter');
      assert.deepEqual(await provider.verify('tx-a', { altcha: encode({ challenge, solution }) }, NOW + 2_000), { ok: true });
    });

    it('a solution from another transaction fails and leaves the challenge to its own', async () => {
      const altcha = await solveWithAltchaLib(await issue('tx-a'));
      assert.deepEqual(await provider.verify('tx-b', { altcha }, NOW + 1_000), { ok: false, reason: 'wrong_transaction' });
      assert.deepEqual(await provider.verify('tx-a', { altcha }, NOW + 2_000), { ok: true });
    });

    it('an expired solution fails', async () => {
      const altcha = await solveWithAltchaLib(await issue());
      assert.deepEqual(await provider.verify('tx-a', { altcha }, NOW + CAPTCHA_TTL_MS), { ok: false, reason: 'expired' });
    });

    it('a wrong key, tampered parameters or a foreign challenge fail', async () => {
      const challenge = await issue();
      const solution = solvePow(challenge.parameters);
      assert.ok(solution);
      // The derived key is the proof (altcha-lib checks its HMAC); it exists only at the secret counter.
      const flipped = `${solution.derivedKey.startsWith('0') ? '1' : '0'}${solution.derivedKey.slice(1)}`;
      const wrongKey = encode({ challenge, solution: { ...solution, derivedKey: flipped } });
      assert.deepEqual(await provider.verify('tx-a', { altcha: wrongKey }, NOW), { ok: false, reason: 'wrong' });

      const easier = await issue();
      const tampered = { ...easier, parameters: { ...easier.parameters, keyPrefix: '00' } };
      const cheap = solvePow(tampered.parameters);
      assert.deepEqual(await provider.verify('tx-a', { altcha: encode({ challenge: tampered, solution: cheap }) }, NOW), { ok: false, reason: 'wrong' });

      const foreignProvider = createPowCaptcha({ store: createCaptchaStore(context.store.oidc), key: randomBytes(32), ...EASY });
      const foreign = (await foreignProvider.issue('tx-a', NOW)).powChallenge as Challenge;
      const foreignAltcha = await solveWithAltchaLib(foreign);
      assert.deepEqual(await provider.verify('tx-a', { altcha: foreignAltcha }, NOW), { ok: false, reason: 'wrong' }, 'signed with another key');
    });

    it('missing and malformed payloads fail without throwing', async () => {
      assert.deepEqual(await provider.verify('tx-a', {}, NOW), { ok: false, reason: 'missing' });
      assert.deepEqual(await provider.verify('tx-a', { altcha: ' ' }, NOW), { ok: false, reason: 'missing' });
      for (const altcha of ['not base64 json', encode(null), encode({ challenge: {} }), encode({ challenge: { parameters: { salt: 'zz' } }, solution: {} }), 'x'.repeat(10_000)]) {
        assert.deepEqual(await provider.verify('tx-a', { altcha }, NOW), { ok: false, reason: 'wrong' }, altcha.slice(0, 40));
      }
      const unknownSalt = encode({ challenge: { parameters: { salt: 'ab'.repeat(16) }, signature: 'x' }, solution: { counter: 1, derivedKey: 'ab' } });
      assert.deepEqual(await provider.verify('tx-a', { altcha: unknownSalt }, NOW), { ok: false, reason: 'expired' });
    });

    it('the default difficulty stays modest', () => {
      assert.ok(POW_DEFAULTS.counterMax <= 100_000);
      assert.ok(POW_DEFAULTS.counterMin >= 1_000);
    });
  });
}

describe('web/sha256.ts', () => {
  it('matches node:crypto on known answers and on every padding boundary', () => {
    assert.equal(Buffer.from(sha256(new TextEncoder().encode('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(Buffer.from(sha256(new Uint8Array())).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const length of [1, 31, 32, 36, 55, 56, 63, 64, 65, 119, 120, 1_000]) {
      const data = randomBytes(length);
      assert.equal(Buffer.from(sha256(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${length}`);
    }
  });
});
