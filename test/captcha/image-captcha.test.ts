// Image CAPTCHA on a real store: a solution is single-use, bound to its login transaction and expires; the answer never reaches the page or the database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import type { Store } from '../../src/store/store.js';
import { createCaptchaStore } from '../../src/protection/captcha/captcha-store.js';
import { createImageCaptcha, IMAGE_CAPTCHA_ALPHABET, normalizeAnswer, type ImageCaptchaProvider } from '../../src/protection/captcha/image-captcha.js';
import { CAPTCHA_TTL_MS } from '../../src/protection/captcha/captcha-provider.js';

const KEY = Buffer.alloc(32, 5);
const NOW = 1_750_000_000_000;

function form(id: string, answer: string): Record<string, string> {
  return { captcha_id: id, captcha_answer: answer };
}

async function answerOf(provider: ImageCaptchaProvider, id: string): Promise<string> {
  const answer = await provider.peekAnswerForTests?.(id);
  assert.ok(answer, 'the test hook returns the answer under NODE_ENV=test');
  return answer;
}

for (const backend of backends()) {
  describe(`image CAPTCHA (${backend.name})`, () => {
    let context: { store: Store; dispose(): Promise<void> };
    let provider: ImageCaptchaProvider;
    before(async () => {
      assert.equal(process.env.NODE_ENV, 'test', 'run through npm test');
      context = await backend.create();
      provider = createImageCaptcha({ store: createCaptchaStore(context.store.oidc), key: KEY });
    });
    after(async () => {
      await context.dispose();
    });

    it('issues a noisy SVG of 6 unambiguous characters, without the answer in the page', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      assert.equal(challenge.provider, 'image');
      assert.match(challenge.imageSvg ?? '', /^<svg [^>]*>.*<\/svg>$/s);
      assert.ok((challenge.imageSvg?.match(/fill="none"/g) ?? []).length >= 3, 'at least 3 noise lines');
      const answer = await answerOf(provider, challenge.id);
      assert.equal(answer.length, 6);
      assert.ok([...answer].every((char) => IMAGE_CAPTCHA_ALPHABET.includes(char)));
      assert.ok(!/[01OIL25SZ]/.test(IMAGE_CAPTCHA_ALPHABET));
      assert.ok(!challenge.imageSvg?.includes(answer));
      assert.ok(!challenge.imageSvg?.includes(answer.toLowerCase()));
    });

    it('the right answer passes, case-insensitively and with spaces', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      const answer = await answerOf(provider, challenge.id);
      const typed = `  ${answer.slice(0, 3).toLowerCase()} ${answer.slice(3)}\t`;
      assert.equal(normalizeAnswer(typed), answer);
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, typed), NOW + 60_000), { ok: true });
    });

    it('a wrong answer fails and burns the challenge: the right answer afterwards is a replay', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      const answer = await answerOf(provider, challenge.id);
      const wrong = answer.startsWith('A') ? `C${answer.slice(1)}` : `A${answer.slice(1)}`;
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, wrong), NOW + 1_000), { ok: false, reason: 'wrong' });
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, answer), NOW + 2_000), { ok: false, reason: 'replayed' });
    });

    it('a replayed solution fails', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      const answer = await answerOf(provider, challenge.id);
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, answer), NOW + 1_000), { ok: true });
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, answer), NOW + 2_000), { ok: false, reason: 'replayed' });
    });

    it('of concurrent submissions of the right answer exactly one passes', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      const answer = await answerOf(provider, challenge.id);
      const verdicts = await Promise.all(Array.from({ length: 10 }, () => provider.verify('tx-a', form(challenge.id, answer), NOW + 1_000)));
      assert.equal(verdicts.filter((verdict) => verdict.ok).length, 1);
      assert.ok(verdicts.filter((verdict) => !verdict.ok).every((verdict) => !verdict.ok && verdict.reason === 'replayed'));
    });

    it('a solution from another transaction fails, and does not burn the challenge for its own', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      const answer = await answerOf(provider, challenge.id);
      assert.deepEqual(await provider.verify('tx-b', form(challenge.id, answer), NOW + 1_000), { ok: false, reason: 'wrong_transaction' });
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, answer), NOW + 2_000), { ok: true });
    });

    it('an expired solution fails: valid just before 5 minutes, refused at 5 minutes', async () => {
      const late = await provider.issue('tx-a', NOW);
      assert.deepEqual(await provider.verify('tx-a', form(late.id, await answerOf(provider, late.id)), NOW + CAPTCHA_TTL_MS), { ok: false, reason: 'expired' });
      const onTime = await provider.issue('tx-a', NOW);
      assert.deepEqual(await provider.verify('tx-a', form(onTime.id, await answerOf(provider, onTime.id)), NOW + CAPTCHA_TTL_MS - 1), { ok: true });
    });

    it('missing fields and unknown ids fail without throwing', async () => {
      const challenge = await provider.issue('tx-a', NOW);
      assert.deepEqual(await provider.verify('tx-a', {}, NOW), { ok: false, reason: 'missing' });
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, '   '), NOW), { ok: false, reason: 'missing' });
      assert.deepEqual(await provider.verify('tx-a', form('', 'ABCDEF'), NOW), { ok: false, reason: 'missing' });
      assert.deepEqual(await provider.verify('tx-a', form('no-such-id', 'ABCDEF'), NOW), { ok: false, reason: 'expired' });
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, 'A'.repeat(500)), NOW), { ok: false, reason: 'wrong' });
      // None of these consumed the challenge.
      assert.deepEqual(await provider.verify('tx-a', form(challenge.id, await answerOf(provider, challenge.id)), NOW), { ok: true });
    });

    it('without test hooks the database holds only a MAC of the answer and there is no peek hook', async () => {
      const quiet = createImageCaptcha({ store: createCaptchaStore(context.store.oidc), key: KEY, testHooks: false });
      assert.equal(quiet.peekAnswerForTests, undefined);
      const challenge = await quiet.issue('tx-a', NOW);
      const row = await context.store.oidc.find('Captcha', challenge.id, NOW);
      assert.deepEqual(Object.keys(row?.payload ?? {}).sort(), ['check', 'provider', 'transactionId']);
      const previous = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        const production = createImageCaptcha({ store: createCaptchaStore(context.store.oidc), key: KEY, testHooks: true });
        assert.equal(production.peekAnswerForTests, undefined, 'the hook exists only when NODE_ENV=test');
        const issued = await production.issue('tx-a', NOW);
        assert.equal((await context.store.oidc.find('Captcha', issued.id, NOW))?.payload.testAnswer, undefined);
      } finally {
        process.env.NODE_ENV = previous;
      }
    });
  });
}
