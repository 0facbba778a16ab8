// Contract suite for OutboxStore, DevMailboxStore and CounterStore: leases, single-claim under concurrency, atomic counting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { T0, unique, type StoreContext } from './contract-fixtures.js';
import type { OutboxStore } from '../../src/store/store.js';

const LEASE = 60_000;

for (const backend of backends()) {
  describe(backend.name, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    /** Each test works at its own far-apart time, so messages left by other tests are never due for it. */
    let epoch = 0;
    function isolatedNow(): number {
      epoch += 1;
      return T0 + epoch * 1_000_000_000;
    }

    async function enqueueMany(outbox: OutboxStore, count: number, now: number): Promise<string[]> {
      const ids = Array.from({ length: count }, () => unique('out'));
      for (const id of ids) await outbox.enqueue({ id, to: `${id}@example.test`, template: 'verify_email', sealedContent: `sealed-${id}` }, now);
      return ids;
    }

    /** The tests share one store: each marks its messages sent at the end, so later tests start with an empty queue. */
    async function markAllSent(outbox: OutboxStore, ids: string[], now: number): Promise<void> {
      for (const id of ids) await outbox.markSent(id, now);
    }

    describe('OutboxStore', () => {
      it('enqueue stores a pending message due now, and findById decodes numbers', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const [id] = (await enqueueMany(outbox, 1, now)) as [string];
        const message = await outbox.findById(id);
        assert.deepEqual(message, {
          id,
          to: `${id}@example.test`,
          template: 'verify_email',
          sealedContent: `sealed-${id}`,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          lockedUntil: null,
          lastError: null,
          createdAt: now,
          sentAt: null,
        });
        assert.equal(await outbox.findById(unique('missing')), null);
        await markAllSent(outbox, [id], now);
      });

      it('claimDue respects the due time, the limit and live leases', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const ids = await enqueueMany(outbox, 3, now);
        assert.deepEqual(await outbox.claimDue(now - 1, 10, LEASE), [], 'nothing is due before its time');

        const first = await outbox.claimDue(now, 2, LEASE);
        assert.equal(first.length, 2, 'the limit is respected');
        for (const m of first) assert.equal(m.lockedUntil, now + LEASE);
        const second = await outbox.claimDue(now + 1, 10, LEASE);
        assert.deepEqual(second.map((m) => m.id), ids.filter((id) => !first.some((m) => m.id === id)), 'leased messages are not claimed again');
        assert.deepEqual(await outbox.claimDue(now + 2, 10, LEASE), [], 'everything is leased');

        const afterLease = await outbox.claimDue(now + LEASE + 1, 10, LEASE);
        assert.deepEqual(new Set(afterLease.map((m) => m.id)), new Set(ids), 'an expired lease (a crashed worker) frees the messages');
        await markAllSent(outbox, ids, now);
      });

      it('extendLease keeps a live worker\'s claim, and never takes over a lease that changed hands', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const ids = await enqueueMany(outbox, 2, now);
        const claimed = await outbox.claimDue(now, 10, LEASE);
        assert.equal(claimed.length, 2);
        assert.equal(await outbox.extendLease(ids, now + LEASE, now + 2 * LEASE), 2);
        assert.deepEqual(await outbox.claimDue(now + LEASE + 1, 10, LEASE), [], 'the renewed lease still holds after the first one would have run out');
        assert.equal(await outbox.extendLease(ids, now + LEASE, now + 3 * LEASE), 0, 'a stale lease value renews nothing');
        assert.equal(await outbox.extendLease([], now, now), 0);
        const reclaimed = await outbox.claimDue(now + 2 * LEASE + 1, 10, LEASE);
        assert.equal(reclaimed.length, 2, 'once the renewals stop, another worker can take over');
        await markAllSent(outbox, ids, now);
      });

      it('outbox messages are claimed by one worker only', async () => {
        // Threat: two workers (or two nodes) sending the same email twice.
        const { outbox } = context.store;
        const now = isolatedNow();
        const ids = await enqueueMany(outbox, 60, now);
        const claims = await Promise.all(Array.from({ length: 12 }, () => outbox.claimDue(now, 7, LEASE)));
        const claimed = claims.flatMap((c) => c.map((m) => m.id));
        assert.equal(new Set(claimed).size, claimed.length, 'no message is in two claims');
        assert.ok(claimed.every((id) => ids.includes(id)));
        const [a, b] = await Promise.all([outbox.claimDue(now, 100, LEASE), outbox.claimDue(now, 100, LEASE)]);
        const rest = [...(a ?? []), ...(b ?? [])].map((m) => m.id);
        assert.equal(new Set(rest).size, rest.length, 'two concurrent claims are disjoint');
        assert.equal(claimed.length + rest.length, 60, 'every message is claimed exactly once');
        await markAllSent(outbox, ids, now);
      });

      it('markSent records the time and clears the sealed content', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const [id] = (await enqueueMany(outbox, 1, now)) as [string];
        await outbox.claimDue(now, 10, LEASE);
        await outbox.markSent(id, now + 5);
        const sent = await outbox.findById(id);
        assert.equal(sent?.status, 'sent');
        assert.equal(sent?.sentAt, now + 5);
        assert.equal(sent?.sealedContent, null, 'the link-bearing body is gone once sent');
        assert.equal(sent?.lockedUntil, null);
        assert.equal(sent?.attempts, 1);
        assert.deepEqual(await outbox.claimDue(now + 10 * LEASE, 10, LEASE), [], 'a sent message is never claimed again');
      });

      it('markAttemptFailed counts attempts and reschedules; null marks the message failed', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const [id] = (await enqueueMany(outbox, 1, now)) as [string];
        await outbox.claimDue(now, 10, LEASE);
        await outbox.markAttemptFailed(id, 'ECONNREFUSED: connect refused', now + 30_000);
        let message = await outbox.findById(id);
        assert.equal(message?.attempts, 1);
        assert.equal(message?.status, 'pending');
        assert.equal(message?.nextAttemptAt, now + 30_000);
        assert.equal(message?.lockedUntil, null, 'the lease is released');
        assert.equal(message?.lastError, 'ECONNREFUSED: connect refused');
        assert.deepEqual(await outbox.claimDue(now + 29_999, 10, LEASE), [], 'not due before the retry time');
        assert.deepEqual((await outbox.claimDue(now + 30_000, 10, LEASE)).map((m) => m.id), [id]);

        await outbox.markAttemptFailed(id, 'x'.repeat(2000), null);
        message = await outbox.findById(id);
        assert.equal(message?.status, 'failed');
        assert.equal(message?.attempts, 2);
        assert.ok((message?.lastError?.length ?? 0) <= 500, 'long errors are truncated');
        assert.deepEqual(await outbox.claimDue(now + 10 * LEASE, 10, LEASE), [], 'a failed message is never claimed');
        assert.ok((await outbox.list({ status: 'failed', limit: 100 })).some((m) => m.id === id));
      });

      it('list filters by status, newest first, within the limit', async () => {
        const { outbox } = context.store;
        const now = isolatedNow();
        const ids = await enqueueMany(outbox, 3, now);
        const later = await enqueueMany(outbox, 1, now + 1);
        const pending = await outbox.list({ status: 'pending', limit: 1000 });
        assert.ok([...ids, ...later].every((id) => pending.some((m) => m.id === id)));
        assert.ok(pending.every((m) => m.status === 'pending'));
        assert.equal((await outbox.list({ limit: 1 })).length, 1);
        const all = await outbox.list({ limit: 1000 });
        assert.ok(all.every((m, i) => i === 0 || (all[i - 1]?.createdAt ?? 0) >= m.createdAt), 'newest first');
        await markAllSent(outbox, [...ids, ...later], now);
        assert.ok(!(await outbox.list({ status: 'pending', limit: 1000 })).some((m) => ids.includes(m.id)));
      });
    });

    describe('OutboxStore.countByStatus', () => {
      it('counts waiting (leased or retrying) and failed messages, never sent ones', async () => {
        // Feeds the outbox gauges on /metrics: other tests' leftovers are allowed for, so only the differences are checked.
        const { outbox } = context.store;
        const now = isolatedNow();
        const base = await outbox.countByStatus();
        assert.equal(typeof base.pending, 'number');
        assert.equal(typeof base.failed, 'number');
        const [retried, abandoned, sent] = (await enqueueMany(outbox, 3, now)) as [string, string, string];
        assert.deepEqual(await outbox.countByStatus(), { pending: base.pending + 3, failed: base.failed });

        assert.equal((await outbox.claimDue(now, 10, LEASE)).length, 3);
        assert.deepEqual(await outbox.countByStatus(), { pending: base.pending + 3, failed: base.failed }, 'a leased message still waits');

        await outbox.markAttemptFailed(retried, 'ECONNREFUSED', now + 30_000);
        await outbox.markAttemptFailed(abandoned, 'ECONNREFUSED', null);
        await outbox.markSent(sent, now);
        assert.deepEqual(await outbox.countByStatus(), { pending: base.pending + 1, failed: base.failed + 1 }, 'a retry waits; a give-up is failed; sent is gone');

        await markAllSent(outbox, [retried], now);
        assert.deepEqual(await outbox.countByStatus(), { pending: base.pending, failed: base.failed + 1 });
      });
    });

    describe('DevMailboxStore', () => {
      it('deliver then findById and list (newest first); delivering the same id twice keeps one item', async () => {
        const { devMailbox } = context.store;
        const older = { id: unique('dev'), to: 'ada@example.test', subject: 'Older', text: 'text one', html: '<p>one</p>', receivedAt: T0 };
        const newer = { id: unique('dev'), to: 'bob@example.test', subject: 'Newer', text: 'text two', html: '<p>two</p>', receivedAt: T0 + 1000 };
        await devMailbox.deliver(older);
        await devMailbox.deliver(newer);
        await devMailbox.deliver({ ...newer, subject: 'Duplicate', receivedAt: T0 + 2000 });
        assert.deepEqual(await devMailbox.findById(older.id), older);
        assert.deepEqual(await devMailbox.findById(newer.id), newer, 'a retried delivery does not replace or duplicate');
        assert.equal(await devMailbox.findById(unique('missing')), null);
        const listed = await devMailbox.list(10);
        assert.deepEqual(listed.filter((m) => m.id === older.id || m.id === newer.id).map((m) => m.subject), ['Newer', 'Older']);
        assert.equal((await devMailbox.list(1)).length, 1);
      });
    });

    describe('CounterStore', () => {
      it('hit counts 1..n within one window and starts again at 1 in the next', async () => {
        const { counters } = context.store;
        const key = unique('ctr');
        const windowMs = 60_000;
        const start = T0 - (T0 % windowMs);
        const counts = [];
        for (let i = 0; i < 5; i++) counts.push(await counters.hit(key, windowMs, start + i * 1000));
        assert.deepEqual(counts, [1, 2, 3, 4, 5]);
        assert.equal(await counters.hit(key, windowMs, start + windowMs), 1, 'a new window starts at 1');
        assert.equal(await counters.hit(key, windowMs, start + windowMs + 59_999), 2);
        assert.equal(await counters.hit(unique('ctr'), windowMs, start), 1, 'keys are independent');
      });

      it('50 concurrent hits return exactly 1..50', async () => {
        // Threat: lost updates letting an attacker exceed a rate limit by racing requests.
        const { counters } = context.store;
        const key = unique('ctr');
        const results = await Promise.all(Array.from({ length: 50 }, () => counters.hit(key, 3_600_000, T0)));
        assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
        assert.ok(results.every((n) => typeof n === 'number'));
      });
    });
  });
}
