// The offline checker: the bundled common-password list, an imported index picked up live, the test prefix and modes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBreachChecker, pwnedIndexPath } from '../../src/protection/breached/breach-checker.js';
import { commonIndexPath, openCommonIndex } from '../../src/protection/breached/common-index.js';
import { buildPwdxIndex } from '../../src/protection/breached/pwdx-builder.js';
import { breachCheckerOptions } from '../../src/protection/breached/checker-options.js';
import { parseConfig } from '../../src/config/index.js';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

describe('breach checker (offline)', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-breach-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('works out of the box: the bundled common list is built on first use in under 2 s, then reused', async () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const checker = createBreachChecker({ mode: 'offline', dataDir });
    const { user, system } = process.cpuUsage(cpu);
    const buildMs = performance.now() - started;
    try {
      // CPU time, not wall time: the shared test machine can be several times oversubscribed.
      assert.ok((user + system) / 1000 < 2000, `first start used ${((user + system) / 1000).toFixed(0)} ms of CPU (${buildMs.toFixed(0)} ms wall)`);
      for (const common of ['password', '123456', 'qwerty', 'letmein']) assert.deepEqual(await checker.check(common), { breached: true, source: 'offline', countClass: null }, common);
      assert.deepEqual(await checker.check('correct horse battery staple 4417'), { breached: false, source: 'offline' });
      assert.ok(statSync(commonIndexPath(dataDir)).size < 400_000);
    } finally {
      checker.close();
    }
    const again = process.cpuUsage();
    openCommonIndex(dataDir).close();
    const reopen = process.cpuUsage(again);
    assert.ok((reopen.user + reopen.system) / 1000 < 300, 'a built list is only opened, not rebuilt');
  });

  it('rebuilds a damaged bundled index instead of trusting it', async () => {
    const path = commonIndexPath(dataDir);
    const bytes = readFileSync(path);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
    writeFileSync(path, bytes);
    const index = openCommonIndex(dataDir);
    assert.ok(index.lookup(sha1('password')));
    index.close();
  });

  it('threat: operators testing the flow with a real password. Any password with the test prefix is breached, in every mode', async () => {
    for (const mode of ['offline', 'off'] as const) {
      const checker = createBreachChecker({ mode, dataDir, testPrefix: 'pwned-test-' });
      assert.deepEqual(await checker.check('pwned-test-Str0ng&Unique!'), { breached: true, source: 'test_prefix', countClass: null });
      assert.equal((await checker.check('Str0ng&Unique! pwned-test-')).breached, false);
      checker.close();
    }
    const noPrefix = createBreachChecker({ mode: 'offline', dataDir, testPrefix: '' });
    assert.equal((await noPrefix.check('pwned-test-Str0ng&Unique!')).breached, false, 'an empty prefix matches nothing');
    noPrefix.close();
  });

  it('mode off checks nothing else', async () => {
    const checker = createBreachChecker({ mode: 'off', dataDir });
    assert.deepEqual(await checker.check('password'), { breached: false, source: 'none' });
    checker.close();
  });

  it('uses the imported index as well, with the minimum count class, and picks up a replaced index without a restart', async () => {
    const output = pwnedIndexPath(dataDir);
    mkdirSync(join(dataDir, 'breach'), { recursive: true });
    const checker = createBreachChecker({ mode: 'offline', dataDir, minCountClass: 4, reloadIntervalMs: 0 });
    try {
      assert.equal((await checker.check('leaked-often 1')).breached, false);
      const rows = [['leaked-often 1', 1000], ['leaked-once 2', 1]] as const;
      writeFileSync(join(dataDir, 'in.txt'), rows.map(([p, c]) => `${sha1(p)}:${c}\n`).sort().join(''));
      await buildPwdxIndex({ input: join(dataDir, 'in.txt'), output });
      assert.deepEqual(await checker.check('leaked-often 1'), { breached: true, source: 'offline', countClass: 10 });
      assert.deepEqual(await checker.check('leaked-once 2'), { breached: false, source: 'offline' }, 'below the minimum count class');
      assert.equal((await checker.check('password')).breached, true, 'the common list still applies');
    } finally {
      checker.close();
    }
  });

  it('a configured index path that does not exist is refused at start', () => {
    assert.throws(() => createBreachChecker({ mode: 'offline', dataDir, indexPath: join(dataDir, 'nope.pwdx') }), /does not exist/);
  });

  it('maps the configuration: minCount to a count class, durations, fail mode, index path', () => {
    const config = parseConfig({ dataDir, breach: { minCount: 1000, testPrefix: 'x-', online: { timeout: '5s', failMode: 'closed' } } });
    const options = breachCheckerOptions(config);
    assert.equal(options.minCountClass, 10);
    assert.equal(options.mode, 'offline');
    assert.equal(options.indexPath, undefined);
    assert.deepEqual(options.online, { host: 'https://api.pwnedpasswords.com', timeoutMs: 5000, cacheTtlMs: 3_600_000, failMode: 'closed' });
    assert.equal(breachCheckerOptions(parseConfig({ dataDir })).minCountClass, 1);
  });
});
