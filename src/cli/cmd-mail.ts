// `portcullis mail list`: the outbox (what was sent, what waits, what failed and why) and, outside production, the dev mailbox.
import type { OutboxStatus } from '../store/store.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';
import { printTable, UsageError } from './io.js';

const STATUSES: readonly OutboxStatus[] = ['pending', 'sent', 'failed'];
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const mailListCommand: Command = {
  name: 'mail list',
  summary: 'List outbox messages (and the dev mailbox outside production)',
  usage: 'portcullis mail list [--status pending|sent|failed] [--limit N] [--json]',
  options: { status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const status = values.status as OutboxStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status)) throw new UsageError('--status must be pending, sent or failed');
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new UsageError('--limit must be a whole number from 1 to 10000');
    await withStore(io, async ({ store, config }) => {
      const outbox = (await store.outbox.list({ status, limit })).map((m) => ({
        id: m.id,
        to: m.to,
        template: m.template,
        status: m.status,
        attempts: m.attempts,
        lastError: m.lastError,
        createdAt: iso(m.createdAt),
        nextAttemptAt: m.status === 'pending' ? iso(m.nextAttemptAt) : null,
        sentAt: iso(m.sentAt),
      }));
      const devMailbox = config.isProduction
        ? null
        : (await store.devMailbox.list(limit)).map((m) => ({ id: m.id, to: m.to, subject: m.subject, receivedAt: iso(m.receivedAt) }));
      if (values.json) {
        io.stdout.write(`${JSON.stringify(devMailbox ? { outbox, devMailbox } : { outbox }, null, 2)}\n`);
        return;
      }
      io.stdout.write('Outbox:\n');
      printTable(io.stdout, outbox, ['id', 'to', 'template', 'status', 'attempts', 'lastError', 'createdAt']);
      if (devMailbox) {
        io.stdout.write(`\nDev mailbox (read it at ${config.publicUrl}/dev/mail while the server runs):\n`);
        printTable(io.stdout, devMailbox, ['id', 'to', 'subject', 'receivedAt']);
      }
    });
    return 0;
  },
};
