// `portcullis iplist import|list|remove`, run in-process against a real SQLite store (and PostgreSQL when configured).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';
import { createPostgresDatabase, postgresUrl } from '../helpers/databases.js';

async function cli(env: Record<string, string>, args: string[], input?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from(input ? [input] : []), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const targets: { name: string; setup(): Promise<{ env: Record<string, string>; dir: string; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'pc-iplist-'));
      return { env: { PORTCULLIS_DATA_DIR: dir }, dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
const pgBase = postgresUrl();
if (pgBase) {
  targets.push({
    name: 'postgres',
    async setup() {
      const db = await createPostgresDatabase(pgBase);
      const dir = mkdtempSync(join(tmpdir(), 'pc-iplist-'));
      return {
        env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_DATABASE_URL: db.url },
        dir,
        cleanup: async () => {
          await db.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

for (const target of targets) {
  describe(`portcullis iplist on ${target.name}`, () => {
    let env: Record<string, string>;
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => ({ env, dir, cleanup } = await target.setup()));
    after(async () => cleanup());

    it('imports a file, adds to it, and lists lists and entries as text and JSON', async () => {
      const file = join(dir, 'tor.txt');
      writeFileSync(file, '# Tor exit relays\n\n198.51.100.7   # relay-a\n2001:DB8:7::/48\n198.51.100.7\n');
      const imported = await cli(env, ['iplist', 'import', '--list', 'tor-exits', file]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /Added 2 new entries to "tor-exits"/);
      const more = await cli(env, ['iplist', 'import', '--list', 'tor-exits', '-'], '203.0.113.0/24\n198.51.100.7\n');
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stdout, /Added 1 new entry to "tor-exits" \(1 already listed\)/);

      const summary = JSON.parse((await cli(env, ['iplist', 'list', '--json'])).stdout) as { name: string; entries: number }[];
      assert.deepEqual(summary.map((s) => [s.name, s.entries]), [['tor-exits', 3]]);
      const entries = JSON.parse((await cli(env, ['iplist', 'list', '--list', 'tor-exits', '--json'])).stdout) as { cidr: string; note: string | null }[];
      assert.deepEqual(entries.map((e) => [e.cidr, e.note]).sort(), [['198.51.100.7/32', 'relay-a'], ['2001:db8:7::/48', null], ['203.0.113.0/24', null]]);
      const table = await cli(env, ['iplist', 'list']);
      assert.match(table.stdout, /^name\s+entries\s+updatedAt\ntor-exits\s+3\s/m);
      assert.match((await cli(env, ['iplist', 'list', '--list', 'tor-exits'])).stdout, /2001:db8:7::\/48/);
      assert.equal((await cli(env, ['iplist', 'list', '--list', 'nothing-here'])).stdout, '(none)\n');
    });

    it('--replace swaps the list, and host bits are reported', async () => {
      const file = join(dir, 'dc.txt');
      writeFileSync(file, '192.0.2.0/24\n');
      assert.equal((await cli(env, ['iplist', 'import', '--list', 'datacenter', file])).code, 0);
      writeFileSync(file, '100.64.1.2/10\n');
      const replaced = await cli(env, ['iplist', 'import', '--list', 'datacenter', file, '--replace']);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stdout, /List "datacenter" now holds 1 entry/);
      assert.match(replaced.stderr, /line 1: "100\.64\.1\.2\/10" has host bits set; imported as 100\.64\.0\.0\/10/);
      const entries = JSON.parse((await cli(env, ['iplist', 'list', '--list', 'datacenter', '--json'])).stdout) as { cidr: string }[];
      assert.deepEqual(entries.map((e) => e.cidr), ['100.64.0.0/10']);
    });

    it('rejects a file with invalid lines, naming each line, and imports nothing', async () => {
      const file = join(dir, 'bad.txt');
      writeFileSync(file, '10.0.0.0/8\nfoo\n# fine\n1.2.3.4/40\n\n::1\n');
      const result = await cli(env, ['iplist', 'import', '--list', 'abuse', file, '--replace']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /2 invalid line\(s\); nothing was imported/);
      assert.match(result.stderr, /line 2: "foo" is not an IP address or CIDR/);
      assert.match(result.stderr, /line 4: "1\.2\.3\.4\/40" is not an IP address or CIDR/);
      assert.equal((await cli(env, ['iplist', 'list', '--list', 'abuse'])).stdout, '(none)\n');
    });

    it('removes one entry by IP or CIDR, and says when it was not listed', async () => {
      const removed = await cli(env, ['iplist', 'remove', '--list', 'tor-exits', '198.51.100.7']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Removed 198\.51\.100\.7\/32 from "tor-exits"/);
      const again = await cli(env, ['iplist', 'remove', '--list', 'tor-exits', '198.51.100.7/32']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /198\.51\.100\.7\/32 is not on list "tor-exits"/);
      assert.match((await cli(env, ['iplist', 'remove', '--list', 'tor-exits', 'nope'])).stderr, /"nope" is not an IP address or CIDR/);
    });

    it('refuses bad usage with exit 2 and a pointer to --help', async () => {
      for (const args of [['iplist', 'import', 'x.txt'], ['iplist', 'import', '--list', 'a'], ['iplist', 'remove', '--list', 'a'], ['iplist', 'remove', '1.2.3.4']]) {
        const result = await cli(env, args);
        assert.equal(result.code, 2, args.join(' '));
        assert.match(result.stderr, /--help/);
      }
      const badName = await cli(env, ['iplist', 'import', '--list', 'Bad Name', '-'], '1.2.3.4\n');
      assert.equal(badName.code, 1);
      assert.match(badName.stderr, /not a valid list name/);
      const missing = await cli(env, ['iplist', 'import', '--list', 'abuse', join(dir, 'missing.txt')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /ENOENT/);
    });
  });
}

describe('portcullis iplist help', () => {
  it('documents each command and the group', async () => {
    for (const name of ['import', 'list', 'remove']) {
      const help = await cli({}, ['iplist', name, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: portcullis iplist ${name}`));
    }
    assert.match((await cli({}, ['iplist', 'import', '--help'])).stdout, /nothing is imported/);
    const group = await cli({}, ['iplist', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /portcullis iplist import --list NAME FILE \[--replace\]/);
    assert.match((await cli({}, ['--help'])).stdout, /iplist remove/);
  });
});
