import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, PortcullisError } from './errors.js';

it('every error code is documented in docs/errors.md with its status', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`), `${code} missing from docs/errors.md`);
  }
});

it('keeps the public sentence apart from the debug detail', () => {
  const error = new PortcullisError('invalid_credentials', { detail: 'user 42 has no password' });
  assert.equal(error.publicMessage, 'Incorrect email or password.');
  assert.equal(error.status, 401);
  assert.equal(error.message, 'user 42 has no password');
});
