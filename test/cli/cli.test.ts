// The `portcullis` CLI, run as a real process through its bin against a real SQLite store (and PostgreSQL when configured).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, postgresUrl } from '../helpers/databases.js';

const BIN = new URL('../../bin/portcullis.js', import.meta.url).pathname;

/** Runs the CLI in-process with real streams and a real store: fast enough to cover every command. */
async function cli(env: Record<string, string>, args: string[], input?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from(input ? [input] : []),
    env: { ...env, PORTCULLIS_ARGON2_MEMORY_KIB: '1024', PORTCULLIS_ARGON2_TIME_COST: '1' },
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Runs the real bin as a separate process, as an operator would. */
function spawnCli(env: Record<string, string>, args: string[], input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env, PORTCULLIS_ARGON2_MEMORY_KIB: '1024', PORTCULLIS_ARGON2_TIME_COST: '1' },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const targets: { name: string; setup(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-'));
      return { env: { PORTCULLIS_DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
const pg = postgresUrl();
if (pg) {
  targets.push({
    name: 'postgres',
    async setup() {
      const db = await createPostgresDatabase(pg);
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-'));
      return {
        env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_DATABASE_URL: db.url },
        cleanup: async () => {
          await db.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

for (const target of targets) {
  describe(`portcullis CLI on ${target.name}`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    before(async () => ({ env, cleanup } = await target.setup()));
    after(async () => cleanup());

    it('migrates, creates an org and users, and lists them as text and JSON', async () => {
      assert.equal((await cli(env, ['migrate'])).code, 0);
      assert.equal((await cli(env, ['org', 'create', '--name', 'Acme'])).code, 0);
      const created = (await cli(env, ['user', 'create', '--email', 'Ada@Example.com', '--password-stdin', '--org', 'Acme', '--role', 'admin'], 'correct horse battery\n'));
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Created user Ada@Example.com/);
      assert.equal((await cli(env, ['user', 'create', '--email', 'bob@example.com', '--password', 'another long password'])).code, 0);
      const listed = (await cli(env, ['user', 'list', '--json']));
      const users = JSON.parse(listed.stdout) as { email: string; org: string | null; role: string; hasPassword: boolean }[];
      assert.deepEqual(users.map((u) => [u.email, u.org, u.role, u.hasPassword]), [
        ['Ada@Example.com', 'Acme', 'admin', true],
        ['bob@example.com', null, 'member', true],
      ]);
      assert.ok(!listed.stdout.includes('argon2'), 'password hashes must never be printed');
      assert.match((await cli(env, ['user', 'list'])).stdout, /ada@example.com|Ada@Example.com/i);
      const shown = JSON.parse((await cli(env, ['user', 'show', 'ada@example.com', '--json'])).stdout) as { email: string; recentEvents: { code: string }[] };
      assert.equal(shown.email, 'Ada@Example.com');
      assert.ok(shown.recentEvents.some((e) => e.code === 'user_created'));
    });

    it('user set-operator grants and removes the operator role, and refuses unknown users', async () => {
      const granted = await cli(env, ['user', 'set-operator', 'bob@example.com']);
      assert.equal(granted.code, 0, granted.stderr);
      assert.match(granted.stdout, /now an operator/);
      assert.equal((JSON.parse((await cli(env, ['user', 'show', 'bob@example.com', '--json'])).stdout) as { operator: boolean }).operator, true);
      assert.equal((await cli(env, ['user', 'set-operator', 'bob@example.com', '--off'])).code, 0);
      assert.equal((JSON.parse((await cli(env, ['user', 'show', 'bob@example.com', '--json'])).stdout) as { operator: boolean }).operator, false);
      const missing = await cli(env, ['user', 'set-operator', 'nobody@example.com']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No user/);
    });

    it('refuses bad input with a clear message on stderr and a non-zero status', async () => {
      const duplicate = (await cli(env, ['user', 'create', '--email', 'ADA@example.com']));
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /already exists/);
      const short = (await cli(env, ['user', 'create', '--email', 'c@example.com', '--password', 'short']));
      assert.equal(short.code, 1);
      assert.match(short.stderr, /at least 8 characters/);
      const noOrg = (await cli(env, ['user', 'create', '--email', 'd@example.com', '--org', 'Nope']));
      assert.match(noOrg.stderr, /portcullis org create --name "Nope"/);
      const unknown = (await cli(env, ['user', 'create', '--bogus']));
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /--help/);
      assert.equal((await cli(env, ['frobnicate'])).code, 2);
    });

    it('registers clients, prints a generated secret once, and stores only its hash', async () => {
      const added = (await cli(env, ['client', 'add', '--id', 'web-app', '--redirect-uri', 'https://app.example.com/cb', '--first-party']));
      assert.equal(added.code, 0, added.stderr);
      const secret = /\n {2}(\S{40,})\n/.exec(added.stdout)?.[1];
      assert.ok(secret, 'a generated secret is printed');
      const listed = (await cli(env, ['client', 'list', '--json']));
      const clients = JSON.parse(listed.stdout) as { clientId: string; type: string; firstParty: boolean }[];
      assert.deepEqual(clients.map((c) => [c.clientId, c.type, c.firstParty]), [['web-app', 'confidential', true]]);
      assert.ok(!listed.stdout.includes(secret));
      const pub = (await cli(env, ['client', 'add', '--id', 'spa', '--redirect-uri', 'http://localhost:5173/cb', '--public', '--json']));
      assert.equal((JSON.parse(pub.stdout) as { type: string }).type, 'public');
      const bad = (await cli(env, ['client', 'add', '--id', 'bad-uri', '--redirect-uri', 'not a url']));
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /not an absolute URL/);
    });

    it('rotates signing keys and prints redacted config', async () => {
      assert.match((await cli(env, ['keys', 'rotate'])).stdout, /Added signing key/);
      const second = (await cli(env, ['keys', 'rotate']));
      assert.match(second.stdout, /2 key\(s\) published/);
      const config = (await cli({ ...env, PORTCULLIS_SECRET: 'a-very-secret-value-that-is-long-enough' }, ['config', '--json']));
      assert.equal(config.code, 0);
      assert.ok(!config.stdout.includes('a-very-secret-value-that-is-long-enough'));
      assert.equal((JSON.parse(config.stdout) as { secret: string }).secret, '[redacted]');
    });
  });
}

describe('portcullis --help', () => {
  it('every command has --help', async () => {
    const overview = (await cli({}, ['--help']));
    assert.equal(overview.code, 0);
    const names = ['serve', 'migrate', 'config', 'user create', 'user list', 'user show', 'org create', 'client add', 'client list', 'mail list', 'keys rotate'];
    for (const name of names) {
      assert.ok(overview.stdout.includes(name), `${name} listed`);
      const help = (await cli({}, [...name.split(' '), '--help']));
      assert.equal(help.code, 0, name);
      assert.match(help.stdout, /Usage: portcullis/, name);
    }
    assert.match((await cli({}, ['user', 'create', '--help'])).stdout, /--password-stdin/);
  });
});

describe('the portcullis bin as a real process', () => {
  it('runs through node bin/portcullis.js with the same environment as the server, and fails with a non-zero status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-bin-'));
    try {
      const env = { PORTCULLIS_DATA_DIR: dir };
      const created = spawnCli(env, ['user', 'create', '--email', 'eve@example.com', '--password-stdin'], 'a long enough password\n');
      assert.equal(created.code, 0, created.stderr);
      const listed = JSON.parse(spawnCli(env, ['user', 'list', '--json']).stdout) as { email: string }[];
      assert.deepEqual(listed.map((u) => u.email), ['eve@example.com']);
      const bad = spawnCli({ ...env, PORT: 'not-a-port' }, ['config']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /port \(PORT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
