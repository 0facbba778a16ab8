// The built-in image CAPTCHA: a distorted, noisy SVG of 5-6 unambiguous characters; only an HMAC of the answer is stored.
import { randomBytes } from 'node:crypto';
import svgCaptcha from 'svg-captcha';
import { hmac } from '../../crypto/hmac.js';
import { constantTimeEqual } from '../../crypto/constant-time.js';
import type { Random } from '../../domain/clock.js';
import { CAPTCHA_FIELDS, CAPTCHA_TTL_MS, type CaptchaChallenge, type CaptchaProvider, type CaptchaVerdict } from './captcha-provider.js';
import { takeChallenge, type CaptchaStore } from './captcha-store.js';
import { distortCaptchaSvg } from './svg-distort.js';

/**
 * Upper case and digits without the look-alike pairs 0/O/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B and U/V.
 * 20 symbols, 6 characters: about 26 bits, plenty for a single-use, 5-minute challenge that a wrong
 * answer burns.
 */
export const IMAGE_CAPTCHA_ALPHABET = 'ACDEFHJKMNPRTWXY3479';

export interface ImageCaptchaOptions {
  store: CaptchaStore;
  /** MACs the answers at rest, so a database read alone does not reveal them. Derive it from the server secret. */
  key: Buffer;
  random?: Random;
  ttlMs?: number;
  /** 5 or 6. */
  length?: 5 | 6;
  /** Noise lines, at least 3. */
  noise?: number;
  /**
   * Store the plaintext answer and expose peekAnswerForTests(). Honoured only when NODE_ENV is
   * `test` as well, so a wrong config setting alone cannot switch it on in production.
   */
  testHooks?: boolean;
}

export interface ImageCaptchaProvider extends CaptchaProvider {
  readonly name: 'image';
  /** Only present when NODE_ENV=test: the answer of an issued challenge, for browser tests. */
  peekAnswerForTests?: (id: string) => Promise<string | undefined>;
}

type RenderSvg = (text: string, options: Record<string, unknown>) => string;
// svg-captcha's module export is itself the render function (text, options); its typings omit that.
const renderSvg = svgCaptcha as unknown as RenderSvg;

export function normalizeAnswer(answer: string): string {
  return answer.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

function randomText(random: Random, length: number): string {
  const alphabet = IMAGE_CAPTCHA_ALPHABET;
  const limit = 256 - (256 % alphabet.length); // rejection sampling keeps every symbol equally likely
  let text = '';
  while (text.length < length) {
    for (const byte of random.bytes(length * 2)) {
      if (byte < limit && text.length < length) text += alphabet[byte % alphabet.length];
    }
  }
  return text;
}

export function createImageCaptcha(options: ImageCaptchaOptions): ImageCaptchaProvider {
  const { store, key } = options;
  const random: Random = options.random ?? { bytes: (length) => randomBytes(length) };
  const ttlMs = options.ttlMs ?? CAPTCHA_TTL_MS;
  const length = options.length ?? 6;
  const noise = Math.max(3, options.noise ?? 4);
  const testHooks = (options.testHooks ?? true) && process.env.NODE_ENV === 'test';
  /** Numbers in [0, 1) for one image's distortion, drawn from one random buffer (a call per number cost 6% of a challenge). */
  const unitSource = (): (() => number) => {
    let pool = random.bytes(128);
    let offset = 0;
    return () => {
      if (offset + 4 > pool.length) {
        pool = random.bytes(128);
        offset = 0;
      }
      const value = pool.readUInt32BE(offset) / 2 ** 32;
      offset += 4;
      return value;
    };
  };
  const answerMac = (id: string, answer: string): string => hmac(key, `image-captcha\n${id}\n${normalizeAnswer(answer)}`);

  const provider: ImageCaptchaProvider = {
    name: 'image',
    async issue(transactionId, now): Promise<CaptchaChallenge> {
      const id = random.bytes(16).toString('base64url');
      const text = randomText(random, length);
      // Dark grey on white for contrast; svg-captcha's `background` option would force random pastel colours.
      const svg = renderSvg(text, { noise, width: 200, height: 64, fontSize: 54, color: false }).replace(/^(<svg[^>]*>)/, '$1<rect width="100%" height="100%" fill="#fff"/>');
      const record = { provider: 'image' as const, transactionId, check: answerMac(id, text), ...(testHooks ? { testAnswer: text } : {}) };
      await store.put(id, record, now + ttlMs);
      return { provider: 'image', id, imageSvg: distortCaptchaSvg(svg, unitSource()) };
    },
    async verify(transactionId, response, now): Promise<CaptchaVerdict> {
      const id = response[CAPTCHA_FIELDS.imageId]?.trim() ?? '';
      const answer = response[CAPTCHA_FIELDS.imageAnswer] ?? '';
      if (id === '' || normalizeAnswer(answer) === '') return { ok: false, reason: 'missing' };
      if (id.length > 64 || answer.length > 64) return { ok: false, reason: 'wrong' };
      const taken = await takeChallenge(store, id, 'image', transactionId, now);
      if (!taken.ok) return { ok: false, reason: taken.reason };
      return constantTimeEqual(answerMac(id, answer), taken.record.check) ? { ok: true } : { ok: false, reason: 'wrong' };
    },
  };
  if (testHooks) {
    provider.peekAnswerForTests = async (id) => (await store.peek(id))?.record.testAnswer;
  }
  return provider;
}
