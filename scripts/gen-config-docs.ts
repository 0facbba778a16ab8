// Generates docs/config.md from the config schema, so the reference cannot drift from the code.
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/config/reference.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
console.log('wrote docs/config.md');
