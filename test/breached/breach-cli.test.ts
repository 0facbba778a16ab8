// `portcullis breach import` and `breach check`, run in-process with real streams and a real data folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

async function cli(env: Record<string, string>, args: string[], input?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from(input === undefined ? [] : [input]), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('portcullis breach', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pc-breach-cli-'));
    env = { PORTCULLIS_DATA_DIR: join(dir, 'data') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports an HIBP file with --min-count, then checks passwords read from stdin', async () => {
    const rows: [string, number][] = [['hibp-often-1', 150_000], ['hibp-rare-2', 3], ['hibp-mid-3', 40]];
    writeFileSync(join(dir, 'pwned.txt'), rows.map(([p, c]) => `${sha1(p)}:${c}\r\n`).sort().join(''));
    const imported = await cli(env, ['breach', 'import', join(dir, 'pwned.txt'), '--min-count', '10']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported 2 hashes from 3 hibp lines .*pwned\.pwdx/);
    assert.match(imported.stdout, /1 hashes seen fewer than 10 times left out/);
    assert.match(imported.stderr, /100\.0%.*lines\/s.*ETA/, 'a progress line (plain, since stderr is not a TTY)');
    assert.deepEqual(readdirSync(join(dir, 'data', 'breach')).filter((f) => f.includes('.tmp')), [], 'no temp file is left');

    const often = await cli(env, ['breach', 'check'], 'hibp-often-1\n');
    assert.equal(often.code, 0, often.stderr);
    assert.match(often.stdout, /^breached \(count class 18, roughly 131k\+ times, offline\)/);
    const rare = await cli(env, ['breach', 'check'], 'hibp-rare-2\n');
    assert.match(rare.stdout, /^not found in the index/);
    const json = JSON.parse((await cli(env, ['breach', 'check', '--json'], 'hibp-mid-3')).stdout) as Record<string, unknown>;
    assert.deepEqual(json, { breached: true, source: 'offline', countClass: 6, seenAtLeast: 32, unavailable: false });
    const common = await cli(env, ['breach', 'check'], 'password\r\n');
    assert.match(common.stdout, /^breached \(listed without a count, offline\)/, 'the bundled common list works out of the box');
  });

  it('imports a plain password list over the previous index (atomic replace)', async () => {
    writeFileSync(join(dir, 'plain.txt'), 'plain-one-1\nplain-two-2\r\n\nplain-one-1\n');
    const imported = await cli(env, ['breach', 'import', join(dir, 'plain.txt'), '--format', 'plain']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Imported 2 hashes from 4 plain lines/);
    assert.match((await cli(env, ['breach', 'check'], 'plain-two-2\n')).stdout, /^breached/);
    assert.match((await cli(env, ['breach', 'check'], 'hibp-often-1\n')).stdout, /^not found/, 'the old index was replaced');
  });

  it('honours breach.indexPath and the test prefix from the environment', async () => {
    const custom = join(dir, 'custom.pwdx');
    const withPath = { ...env, PORTCULLIS_BREACH_INDEX: custom, PORTCULLIS_BREACH_TEST_PREFIX: 'try-me-' };
    assert.equal((await cli(withPath, ['breach', 'import', join(dir, 'plain.txt')])).code, 0);
    assert.ok(existsSync(custom));
    assert.match((await cli(withPath, ['breach', 'check'], 'plain-one-1')).stdout, /^breached/);
    assert.match((await cli(withPath, ['breach', 'check'], 'try-me-anything')).stdout, /test prefix/);
  });

  it('threat: a password on the command line leaks through ps and shell history. `breach check` refuses it', async () => {
    const refused = await cli(env, ['breach', 'check', 'hunter2']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing a password on the command line.*stdin/);
    assert.ok(!refused.stderr.includes('hunter2') && !refused.stdout.includes('hunter2'), 'the password is not echoed');
    const empty = await cli(env, ['breach', 'check'], '');
    assert.equal(empty.code, 2);
    const two = await cli(env, ['breach', 'check'], 'one\ntwo\n');
    assert.equal(two.code, 2);
    assert.match(two.stderr, /exactly one password/);
  });

  it('refuses bad import arguments with a usage error', async () => {
    assert.equal((await cli(env, ['breach', 'import'])).code, 2);
    assert.match((await cli(env, ['breach', 'import', join(dir, 'missing.txt')])).stderr, /cannot read/);
    assert.equal((await cli(env, ['breach', 'import', join(dir, 'plain.txt'), '--min-count', 'x'])).code, 2);
    assert.equal((await cli(env, ['breach', 'import', join(dir, 'plain.txt'), '--format', 'csv'])).code, 2);
  });

  it('on a terminal the progress bar redraws in place and ends its line', async () => {
    const stderr = new PassThrough();
    Object.assign(stderr, { isTTY: true });
    const chunks: string[] = [];
    stderr.on('data', (c) => chunks.push(String(c)));
    const code = await runCli(['breach', 'import', join(dir, 'pwned.txt')], { stdout: new PassThrough(), stderr, stdin: Readable.from([]), env });
    assert.equal(code, 0);
    const text = chunks.join('');
    assert.match(text, /^\rreading \[#+\] 100\.0%.*ETA 0s\u001b\[K\n$/);
  });

  it('both commands have --help', async () => {
    const importHelp = await cli({}, ['breach', 'import', '--help']);
    assert.equal(importHelp.code, 0);
    assert.match(importHelp.stdout, /Usage: portcullis breach import FILE \[--min-count N\]/);
    const checkHelp = await cli({}, ['breach', 'check', '--help']);
    assert.match(checkHelp.stdout, /never from the command line/);
    assert.match((await cli({}, ['breach', '--help'])).stdout, /breach import[\s\S]*breach check/);
  });
});
