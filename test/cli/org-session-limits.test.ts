// `portcullis org set-session-limits` against a real store (SQLite, and PostgreSQL when configured): stored values,
// capped open sessions, `org list`, and refusals of limits beyond the deployment's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/app.js';
import type { Store } from '../../src/store/store.js';
import { createPostgresDatabase, postgresUrl } from '../helpers/databases.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

async function cli(env: Record<string, string>, args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from([]), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const targets: { name: string; setup(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-limits-'));
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
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-limits-'));
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
  describe(`portcullis org set-session-limits on ${target.name}`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    let sessionId: string;

    async function withStore<T>(action: (store: Store) => Promise<T>): Promise<T> {
      const store = await openStore(loadConfig(env));
      try {
        return await action(store);
      } finally {
        await store.close();
      }
    }

    before(async () => {
      const setup = await target.setup();
      // The deployment's limits: 24h idle, 7d absolute.
      env = { ...setup.env, PORTCULLIS_SESSION_IDLE_TIMEOUT: '24h', PORTCULLIS_SESSION_ABSOLUTE_TIMEOUT: '7d' };
      cleanup = setup.cleanup;
      assert.equal((await cli(env, ['migrate'])).code, 0);
      assert.equal((await cli(env, ['org', 'create', '--name', 'Acme'])).code, 0);
      // A member with an open session, to see it shortened.
      sessionId = await withStore(async (store) => {
        const org = await store.orgs.findByName('Acme');
        const user = await store.users.create({ email: 'ada@example.com', passwordHash: null, orgId: org!.id }, Date.now());
        const id = 'sess-cli-limits';
        await store.sessions.create({ id, secretHash: 'h', userId: user.id, createdAt: Date.now(), lastSeenAt: Date.now(), ip: null, userAgent: null, revokedAt: null, idleMs: null, absoluteMs: null, endReason: null });
        return id;
      });
    });
    after(async () => cleanup());

    it('stores the limits, shortens open sessions, and shows them in org list', async () => {
      const set = await cli(env, ['org', 'set-session-limits', 'Acme', '--idle', '8h', '--absolute', '3d']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /idle 8h, absolute 3d/);
      assert.match(set.stdout, /1 open session\(s\) shortened/);
      await withStore(async (store) => {
        const org = await store.orgs.findByName('Acme');
        assert.equal(org?.sessionIdleMs, 8 * H);
        assert.equal(org?.sessionAbsoluteMs, 3 * D);
        const session = await store.sessions.findById(sessionId);
        assert.deepEqual([session?.idleMs, session?.absoluteMs], [8 * H, 3 * D]);
      });

      const listed = await cli(env, ['org', 'list']);
      assert.match(listed.stdout, /Acme\s+8h\s+3d/);
      const json = JSON.parse((await cli(env, ['org', 'list', '--json'])).stdout) as { name: string; sessionIdleMs: number | null; sessionAbsoluteMs: number | null }[];
      assert.deepEqual(json.map((o) => [o.name, o.sessionIdleMs, o.sessionAbsoluteMs]), [['Acme', 8 * H, 3 * D]]);

      // Only --idle: the absolute limit stays.
      assert.equal((await cli(env, ['org', 'set-session-limits', 'acme', '--idle', '30m'])).code, 0);
      await withStore(async (store) => {
        const org = await store.orgs.findByName('Acme');
        assert.deepEqual([org?.sessionIdleMs, org?.sessionAbsoluteMs], [30 * M, 3 * D]);
        assert.equal((await store.sessions.findById(sessionId))?.idleMs, 30 * M);
      });
    });

    it('refuses a limit longer than the deployment maximum, idle over absolute, and idle under a minute', async () => {
      const tooLong = await cli(env, ['org', 'set-session-limits', 'Acme', '--absolute', '30d']);
      assert.equal(tooLong.code, 1);
      assert.match(tooLong.stderr, /deployment maximum of 7d/);
      const idleTooLong = await cli(env, ['org', 'set-session-limits', 'Acme', '--idle', '2d']);
      assert.equal(idleTooLong.code, 1);
      assert.match(idleTooLong.stderr, /deployment maximum of 1d/);
      const inverted = await cli(env, ['org', 'set-session-limits', 'Acme', '--idle', '8h', '--absolute', '2h']);
      assert.equal(inverted.code, 1);
      assert.match(inverted.stderr, /longer than the absolute limit/);
      const tiny = await cli(env, ['org', 'set-session-limits', 'Acme', '--idle', '30s']);
      assert.equal(tiny.code, 1);
      assert.match(tiny.stderr, /at least 1m/);
      await withStore(async (store) => {
        const org = await store.orgs.findByName('Acme');
        assert.deepEqual([org?.sessionIdleMs, org?.sessionAbsoluteMs], [30 * M, 3 * D], 'a refused change stores nothing');
      });

      const unknown = await cli(env, ['org', 'set-session-limits', 'Nope', '--idle', '1h']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No organization named "Nope"/);
      assert.equal((await cli(env, ['org', 'set-session-limits', 'Acme', '--idle', 'soon'])).code, 2);
      assert.equal((await cli(env, ['org', 'set-session-limits', 'Acme'])).code, 2);
      assert.equal((await cli(env, ['org', 'set-session-limits', 'Acme', '--clear', '--idle', '1h'])).code, 2);
    });

    it('--clear goes back to the deployment default', async () => {
      const cleared = await cli(env, ['org', 'set-session-limits', 'Acme', '--clear']);
      assert.equal(cleared.code, 0, cleared.stderr);
      assert.match(cleared.stdout, /idle 1d \(deployment default\), absolute 7d \(deployment default\)/);
      await withStore(async (store) => {
        const org = await store.orgs.findByName('Acme');
        assert.deepEqual([org?.sessionIdleMs, org?.sessionAbsoluteMs], [null, null]);
        const session = await store.sessions.findById(sessionId);
        assert.deepEqual([session?.idleMs, session?.absoluteMs], [30 * M, 3 * D], 'open sessions are never lengthened');
      });
      assert.match((await cli(env, ['org', 'list'])).stdout, /Acme\s+deployment default\s+deployment default/);
    });
  });
}

describe('portcullis org set-session-limits --help', () => {
  it('prints usage and is listed with the org commands', async () => {
    const help = await cli({}, ['org', 'set-session-limits', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: portcullis org set-session-limits <org>/);
    assert.match(help.stdout, /--clear/);
    assert.match((await cli({}, ['org', '--help'])).stdout, /org set-session-limits/);
    assert.match((await cli({}, ['--help'])).stdout, /org set-session-limits/);
  });
});
