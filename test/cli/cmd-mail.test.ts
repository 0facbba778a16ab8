// `portcullis mail list` against a real SQLite store: outbox rows with status and last error, plus the dev mailbox.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/app.js';
import { deriveKey } from '../../src/crypto/hmac.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';

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

describe('portcullis mail list', () => {
  let dir: string;
  let env: Record<string, string>;
  let pendingId: string;
  let failedId: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-cli-mail-'));
    env = { PORTCULLIS_DATA_DIR: dir };
    const config = loadConfig(env);
    const store = await openStore(config);
    try {
      const branding = { productName: 'Portcullis', logoUrl: null, supportContact: null, publicUrl: config.publicUrl };
      const mailer = createOutboxMailer({ outbox: store.outbox, sealKey: deriveKey(config.secret, 'seal-mail'), branding, clock: { now: () => Date.now() } });
      pendingId = await mailer.enqueue('ada@example.com', 'verify_email', { link: 'http://localhost:3000/l/abc.secretvalue', expiresInText: '1 hour' });
      failedId = await mailer.enqueue('bob@example.com', 'reset_password', { link: 'http://localhost:3000/l/def.secretvalue', expiresInText: '1 hour', ip: null });
      await store.outbox.markAttemptFailed(failedId, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:25', null);
      await store.devMailbox.deliver({ id: 'dev-1', to: 'carol@example.com', subject: 'Verify your email address', text: 't', html: 'h', receivedAt: Date.now() });
    } finally {
      await store.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists outbox messages and the dev mailbox as JSON, without bodies', async () => {
    const result = await cli(env, ['mail', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as { outbox: { id: string; to: string; template: string; status: string; attempts: number; lastError: string | null }[]; devMailbox: { subject: string }[] };
    const byId = new Map(listed.outbox.map((m) => [m.id, m]));
    assert.equal(byId.get(pendingId)?.status, 'pending');
    assert.equal(byId.get(pendingId)?.template, 'verify_email');
    assert.equal(byId.get(failedId)?.status, 'failed');
    assert.equal(byId.get(failedId)?.attempts, 1);
    assert.match(byId.get(failedId)?.lastError ?? '', /ECONNREFUSED/);
    assert.deepEqual(listed.devMailbox.map((m) => m.subject), ['Verify your email address']);
    assert.ok(!result.stdout.includes('secretvalue'), 'sealed bodies and their link tokens are never printed');
  });

  it('filters by status and prints a table', async () => {
    const result = await cli(env, ['mail', 'list', '--status', 'failed']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /id\s+to\s+template\s+status\s+attempts\s+lastError\s+createdAt/);
    assert.ok(result.stdout.includes(failedId));
    assert.ok(!result.stdout.includes(pendingId));
    assert.match(result.stdout, /Dev mailbox/);
    const bad = await cli(env, ['mail', 'list', '--status', 'lost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--status must be pending, sent or failed/);
  });
});
