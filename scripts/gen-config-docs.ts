// Generates docs/config.md and docs/captcha.md from the code, so the references cannot drift.
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/config/reference.js';
import { renderCaptchaDoc } from '../src/protection/bot/captcha-doc.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
writeFileSync(new URL('../docs/captcha.md', import.meta.url), renderCaptchaDoc());
console.log('wrote docs/config.md and docs/captcha.md');
