import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderConfigReference } from './reference.js';
import { configSchema, OPTION_DOCS } from './schema.js';

it('docs/config.md is generated from the current schema (run `npm run docs:config`)', () => {
  assert.equal(readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8'), renderConfigReference());
});

it('every schema option is documented', () => {
  const keys = (shape: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries(shape).flatMap(([k, v]) => {
      const inner = (v as { def?: { innerType?: { shape?: Record<string, unknown> }; in?: { def?: { innerType?: { shape?: Record<string, unknown> } } } } }).def;
      const nested = inner?.innerType?.shape;
      return nested ? keys(nested, `${prefix}${k}.`) : [`${prefix}${k}`];
    });
  for (const key of keys(configSchema.shape as unknown as Record<string, unknown>)) assert.ok(OPTION_DOCS[key], `option ${key} has no description`);
});

it('docs/captcha.md is generated from the bot rules (run `npm run docs:config`)', async () => {
  const { renderCaptchaDoc } = await import('../protection/bot/captcha-doc.js');
  assert.equal(readFileSync(new URL('../../docs/captcha.md', import.meta.url), 'utf8'), renderCaptchaDoc());
});
