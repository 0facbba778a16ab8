import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertProductionSafe, parseConfig, redactedConfig } from './load-config.js';
import { loadConfig } from './index.js';
import { parseDuration, formatDuration } from './duration.js';
import { isPortcullisError } from '../domain/errors.js';

describe('config', () => {
  it('parses durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('7 weeks'), null);
    assert.equal(parseDuration('0s'), null);
    assert.equal(formatDuration(86_400_000), '1d');
  });

  it('applies the documented defaults and freezes the result', () => {
    const config = parseConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.issuer, 'http://localhost:3000/oidc');
    assert.equal(config.sessionIdleTimeout, 86_400_000);
    assert.equal(config.sessionAbsoluteTimeout, 604_800_000);
    assert.deepEqual({ ...config.argon2 }, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(Object.isFrozen(config), true);
    assert.equal(Object.isFrozen(config.argon2), true);
  });

  it('reads env names from the operator contract, with env winning over the JSON file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 4000, productName: 'Acme ID', argon2: { timeCost: 3 } }));
    const config = loadConfig({ PORTCULLIS_CONFIG: file, PORT: '5000', PORTCULLIS_DATA_DIR: dir, PORTCULLIS_SESSION_IDLE_TIMEOUT: '90s', PORTCULLIS_TRUST_PROXY: 'loopback' });
    assert.equal(config.port, 5000);
    assert.equal(config.productName, 'Acme ID');
    assert.equal(config.argon2.timeCost, 3);
    assert.equal(config.sessionIdleTimeout, 90_000);
    assert.equal(config.trustProxy, 'loopback');
    assert.equal(config.secretSource, 'generated');
  });

  it('lists every invalid option with its env name', () => {
    try {
      parseConfig({ port: 'abc', sessionIdleTimeout: 'soon', databaseUrl: 'mysql://x' });
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(isPortcullisError(error));
      assert.match(error.message, /port \(PORT\)/);
      assert.match(error.message, /sessionIdleTimeout \(PORTCULLIS_SESSION_IDLE_TIMEOUT\).*not a duration/);
      assert.match(error.message, /databaseUrl/);
    }
  });

  it('production refuses generated secrets, the dev mailbox and an http public URL', () => {
    const unsafe = parseConfig({ nodeEnv: 'production' });
    assert.throws(() => assertProductionSafe(unsafe), /PORTCULLIS_SECRET[\s\S]*PORTCULLIS_SMTP_URL[\s\S]*https/);
    const dir = mkdtempSync(join(tmpdir(), 'pc-cfg-'));
    assert.throws(() => loadConfig({ NODE_ENV: 'production', PORTCULLIS_DATA_DIR: dir }), /Refusing to start in production/);
    const base = { nodeEnv: 'production', secret: 'x'.repeat(40), smtpUrl: 'smtp://mail:25', metrics: { token: 't'.repeat(32) } };
    const safe = parseConfig({ ...base, publicUrl: 'https://id.example.com' });
    assert.doesNotThrow(() => assertProductionSafe(safe));
    assert.equal(safe.cookieSecure, true);
    assert.throws(() => assertProductionSafe(parseConfig({ ...base, publicUrl: 'https://id.example.com', metrics: {} })), /PORTCULLIS_METRICS_TOKEN/, 'an open /metrics is refused');
    assert.doesNotThrow(() => assertProductionSafe(parseConfig({ ...base, publicUrl: 'https://id.example.com', metrics: { enabled: false } })));
    const proxied = parseConfig({ ...base, allowHttpInProduction: 'true' });
    assert.doesNotThrow(() => assertProductionSafe(proxied));
  });

  it('redacts secrets when printing', () => {
    const config = parseConfig({ secret: 's'.repeat(40), databaseUrl: 'postgres://app:hunter2hunter2@db/portcullis', smtpUrl: 'smtp://u:mailpass@mail:587' });
    const printed = JSON.stringify(redactedConfig(config));
    assert.ok(!printed.includes('s'.repeat(40)));
    assert.ok(!printed.includes('hunter2hunter2'));
    assert.ok(!printed.includes('mailpass'));
    assert.match(printed, /postgres:\/\/app:redacted@db\/portcullis/);
  });
});
