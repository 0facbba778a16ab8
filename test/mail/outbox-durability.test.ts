// The outbox keeps its promise: every message arrives exactly once despite SMTP outages, restarts, crashes and parallel workers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerDeps } from '../../src/mail/outbox-worker.js';
import { createSmtpTransport } from '../../src/mail/smtp-transport.js';
import type { MailTransport } from '../../src/mail/message.js';
import type { Mailer } from '../../src/mail/templates/template-types.js';
import { createPostgresDatabase, postgresUrl, TEST_SEAL_KEY } from '../helpers/databases.js';
import { freePort, startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const LEASE = 60_000;
const MAIL_KEY = Buffer.alloc(32, 9);
const BRANDING = { productName: 'Portcullis', logoUrl: null, supportContact: null, publicUrl: 'http://localhost:3000' };

interface Target {
  name: string;
  /** A database that can be opened more than once (a restart, or a second node). */
  create(): Promise<{ open(): Promise<Store>; dispose(): Promise<void> }>;
}

const sqlite: Target = {
  name: 'sqlite',
  async create() {
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-outbox-'));
    return {
      async open() {
        const store = createSqlStore({ databaseUrl: '', dataDir, sealKey: TEST_SEAL_KEY });
        await store.migrate();
        return store;
      },
      async dispose() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const pgBase = postgresUrl();
const postgres: Target | null = pgBase
  ? {
      name: 'postgres',
      async create() {
        const database = await createPostgresDatabase(pgBase);
        return {
          async open() {
            const store = createSqlStore({ databaseUrl: database.url, dataDir: tmpdir(), sealKey: TEST_SEAL_KEY });
            await store.migrate();
            return store;
          },
          dispose: () => database.drop(),
        };
      },
    }
  : null;
const targets = postgres ? [sqlite, postgres] : [sqlite];

function testClock(): { now(): number; advance(ms: number): void } {
  let t = T0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function collectingLogger(lines: string[]): OutboxWorkerDeps['logger'] {
  const log = (obj: object, msg: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  return { info: log, warn: log, error: log };
}

function makeWorker(store: Store, transport: MailTransport, clock: { now(): number }, logs: string[], overrides: Partial<OutboxWorkerDeps> = {}): OutboxWorker {
  return createOutboxWorker({
    outbox: store.outbox,
    transport,
    sealKey: MAIL_KEY,
    clock,
    logger: collectingLogger(logs),
    from: 'Portcullis <no-reply@portcullis.test>',
    maxAttempts: 8,
    retryBaseDelayMs: 1000,
    pollIntervalMs: 20,
    batchSize: 10,
    leaseMs: LEASE,
    random: () => 0.5,
    ...overrides,
  });
}

async function enqueueMany(mailer: Mailer, count: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await mailer.enqueue(`user${i}@example.test`, 'verify_email', { link: `http://localhost:3000/links/${tag}${i}.linksecret${i}`, expiresInText: '24 hours' }));
  }
  return ids;
}

/** Runs the worker, moving the clock past any backoff, until `expected` messages were sent (or it gives up). */
async function runUntilSent(worker: OutboxWorker, clock: { advance(ms: number): void }, expected: number): Promise<number> {
  let sent = 0;
  for (let round = 0; round < 30 && sent < expected; round++) {
    sent += await worker.runOnce();
    if (sent < expected) clock.advance(HOUR);
  }
  return sent;
}

function assertExactlyOnce(server: TestSmtpServer, ids: string[]): void {
  const messageIds = server.received.map((m) => m.messageId);
  assert.equal(server.received.length, ids.length, 'no message lost and none duplicated');
  assert.equal(new Set(messageIds).size, ids.length, 'distinct Message-IDs');
  assert.deepEqual(new Set(messageIds), new Set(ids.map((id) => `<${id}@portcullis>`)), 'the Message-ID names the outbox row');
}

describe('mail outbox durability', () => {
  it('with SMTP down, 20 messages each arrive exactly once after it comes up', async () => {
    const db = await sqlite.create();
    const store = await db.open();
    const port = await freePort();
    const transport = createSmtpTransport(`smtp://127.0.0.1:${port}`);
    const clock = testClock();
    const logs: string[] = [];
    let server: TestSmtpServer | null = null;
    try {
      const mailer = createOutboxMailer({ outbox: store.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock });
      const ids = await enqueueMany(mailer, 20, 'down');
      const worker = makeWorker(store, transport, clock, logs);

      // Two rounds of failures while nothing listens on the port.
      for (let round = 0; round < 2; round++) {
        assert.equal(await worker.runOnce(), 0);
        assert.equal(await worker.runOnce(), 0);
        clock.advance(HOUR);
      }
      const pending = await store.outbox.list({ status: 'pending', limit: 100 });
      assert.equal(pending.length, 20);
      for (const m of pending) {
        assert.equal(m.attempts, 2);
        assert.match(m.lastError ?? '', /ECONNREFUSED|connect/i);
      }

      server = await startSmtpServer(port);
      assert.equal(await runUntilSent(worker, clock, 20), 20);
      assertExactlyOnce(server, ids);
      assert.deepEqual(server.received.map((m) => m.to).flat().sort(), Array.from({ length: 20 }, (_, i) => `user${i}@example.test`).sort());
      assert.match(server.received[0]?.raw ?? '', /Subject: Verify your email address/);
      for (const m of await store.outbox.list({ limit: 100 })) {
        assert.equal(m.status, 'sent');
        assert.equal(m.sealedContent, null);
      }
      assert.equal(await worker.runOnce(), 0, 'nothing is sent twice');
      assert.equal(server.received.length, 20);
      assert.ok(logs.length > 0);
      assert.ok(!logs.some((line) => line.includes('linksecret')), 'logs never carry the link tokens in mail bodies');
    } finally {
      await transport.close();
      await server?.close();
      await store.close();
      await db.dispose();
    }
  });

  for (const target of targets) {
    it(`a restart loses nothing (${target.name})`, async () => {
      const db = await target.create();
      const clock = testClock();
      const server = await startSmtpServer();
      const transport = createSmtpTransport(`smtp://127.0.0.1:${server.port}`);
      const logs: string[] = [];
      try {
        const first = await db.open();
        const ids = await enqueueMany(createOutboxMailer({ outbox: first.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock }), 10, 'restart');
        // A worker claimed three and died before sending them.
        assert.equal((await first.outbox.claimDue(clock.now(), 3, LEASE)).length, 3);
        await first.close();

        const second = await db.open();
        try {
          const worker = makeWorker(second, transport, clock, logs);
          assert.equal(await worker.runOnce(), 7, 'unclaimed messages go out at once');
          assert.equal(await worker.runOnce(), 0, 'the dead worker still holds its lease');
          clock.advance(LEASE + 1);
          assert.equal(await worker.runOnce(), 3, 'an expired lease releases them');
          assert.equal(await worker.runOnce(), 0);
          assertExactlyOnce(server, ids);
          assert.equal((await second.outbox.list({ status: 'sent', limit: 100 })).length, 10);
        } finally {
          await second.close();
        }
      } finally {
        await transport.close();
        await server.close();
        await db.dispose();
      }
    });
  }

  it('a message that keeps failing is marked failed after maxAttempts', async () => {
    const db = await sqlite.create();
    const store = await db.open();
    const transport = createSmtpTransport(`smtp://127.0.0.1:${await freePort()}`);
    const clock = testClock();
    const logs: string[] = [];
    try {
      const [id] = await enqueueMany(createOutboxMailer({ outbox: store.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock }), 1, 'fail');
      const worker = makeWorker(store, transport, clock, logs, { maxAttempts: 3 });
      for (let round = 0; round < 6; round++) {
        assert.equal(await worker.runOnce(), 0);
        clock.advance(HOUR);
      }
      const failed = await store.outbox.list({ status: 'failed', limit: 10 });
      assert.deepEqual(failed.map((m) => m.id), [id]);
      assert.equal(failed[0]?.attempts, 3, 'no attempt after the last one');
      assert.match(failed[0]?.lastError ?? '', /ECONNREFUSED|connect/i);
      assert.equal((await store.outbox.list({ status: 'pending', limit: 10 })).length, 0);
      assert.ok(logs.some((line) => line.includes('failed for good')));

      // Sealed under another key (say, the server secret changed): retrying cannot help, so it fails at once.
      const [foreign] = await enqueueMany(createOutboxMailer({ outbox: store.outbox, sealKey: Buffer.alloc(32, 1), branding: BRANDING, clock }), 1, 'foreign');
      assert.equal(await worker.runOnce(), 0);
      const unreadable = await store.outbox.findById(foreign as string);
      assert.equal(unreadable?.status, 'failed');
      assert.equal(unreadable?.attempts, 1);
      assert.match(unreadable?.lastError ?? '', /could not be unsealed/);
    } finally {
      await transport.close();
      await store.close();
      await db.dispose();
    }
  });

  const shared = postgres ?? sqlite;
  it(`two workers running concurrently deliver 30 messages with no duplicates (${shared.name})`, async () => {
    // Threat: two nodes sharing one database both sending the same email.
    const db = await shared.create();
    const clock = testClock();
    const server = await startSmtpServer();
    const nodeA = await db.open();
    const nodeB = await db.open();
    const transports = [createSmtpTransport(`smtp://127.0.0.1:${server.port}`), createSmtpTransport(`smtp://127.0.0.1:${server.port}`)] as const;
    const logs: string[] = [];
    try {
      const ids = await enqueueMany(createOutboxMailer({ outbox: nodeA.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock }), 30, 'pair');
      const workers = [makeWorker(nodeA, transports[0], clock, logs, { batchSize: 4 }), makeWorker(nodeB, transports[1], clock, logs, { batchSize: 4 })];
      let total = 0;
      const counts = await Promise.all(
        workers.map(async (worker) => {
          let mine = 0;
          for (let round = 0; round < 50 && total < 30; round++) {
            const sent = await worker.runOnce();
            mine += sent;
            total += sent;
          }
          return mine;
        }),
      );
      assert.equal(total, 30);
      assert.equal(counts.reduce((a, b) => a + b, 0), 30);
      assertExactlyOnce(server, ids);
    } finally {
      for (const t of transports) await t.close();
      await nodeA.close();
      await nodeB.close();
      await server.close();
      await db.dispose();
    }
  });

  describe('start and stop', () => {
    let db: Awaited<ReturnType<Target['create']>>;
    let store: Store;
    let server: TestSmtpServer;
    before(async () => {
      db = await sqlite.create();
      store = await db.open();
      server = await startSmtpServer();
    });
    after(async () => {
      await store.close();
      await server.close();
      await db.dispose();
    });

    it('start() delivers on its own and stop() waits for the run in flight', async () => {
      const clock = { now: () => Date.now() };
      const transport = createSmtpTransport(`smtp://127.0.0.1:${server.port}`);
      const worker = makeWorker(store, transport, clock, [], { batchSize: 2 });
      const ids = await enqueueMany(createOutboxMailer({ outbox: store.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock }), 5, 'poll');
      worker.start();
      worker.start();
      const deadline = Date.now() + 10_000;
      while (server.received.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await worker.stop();
      await transport.close();
      assertExactlyOnce(server, ids);
      await enqueueMany(createOutboxMailer({ outbox: store.outbox, sealKey: MAIL_KEY, branding: BRANDING, clock }), 1, 'after-stop');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(server.received.length, 5, 'a stopped worker sends nothing');
    });
  });
});
