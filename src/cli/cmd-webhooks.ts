// `portcullis webhook add|list|remove|disable|enable|deliveries|test`: signed HTTP notifications of security events.
import { EVENT_CODES } from '../events/event-codes.js';
import type { WebhookDelivery } from '../store/store.js';
import {
  addWebhook,
  DELIVERY_STATUSES,
  listDeliveries,
  listWebhooks,
  removeWebhook,
  sendTestEvent,
  setWebhookDisabled,
  webhookSealKey,
  type WebhookInfo,
} from '../webhooks/webhook-admin.js';
import type { Command } from './commands.js';
import { withStore, type CliContext } from './context.js';
import { printTable, UsageError } from './io.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function wrapCodes(indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const code of Object.keys(EVENT_CODES)) {
    const next = line ? `${line}, ${code}` : code;
    if (indent.length + next.length > width && line) {
      lines.push(`${indent}${line},`);
      line = code;
    } else line = next;
  }
  if (line) lines.push(`${indent}${line}`);
  return lines.join('\n');
}

/** Comma-separated and/or repeated `--events` values. */
function eventList(value: unknown): string[] {
  const values = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return values.flatMap((v) => v.split(',')).map((c) => c.trim()).filter((c) => c.length > 0);
}

function oneId(positionals: string[]): string {
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError('give exactly one webhook id (see `portcullis webhook list`)');
  return id;
}

function describeWebhook(hook: WebhookInfo): Record<string, unknown> {
  return {
    id: hook.id,
    url: hook.url,
    events: hook.codes.length === 0 ? ['*'] : hook.codes,
    description: hook.description,
    disabled: hook.disabled,
    createdAt: iso(hook.createdAt),
  };
}

function describeDelivery(d: WebhookDelivery): Record<string, unknown> {
  return {
    id: d.id,
    webhookId: d.webhookId,
    event: d.eventCode,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    deliveredAt: iso(d.deliveredAt),
  };
}

const adminDeps = ({ store, clock, config }: CliContext) => ({ store, clock, sealKey: webhookSealKey(config.secret) });

export const webhookAddCommand: Command = {
  name: 'webhook add',
  summary: 'Register a URL to receive signed security events (prints the signing secret once)',
  usage:
    'portcullis webhook add --url URL [--events CODE,CODE…] [--description TEXT] [--json]\n\n' +
    '  --url URL        where deliveries are POSTed; https:// in production (http:// only to localhost)\n' +
    '  --events CODES   event codes to send, comma-separated or repeated; omit for every event\n' +
    '  --description T  a note for operators (who owns the receiver, what it does)\n\n' +
    '  Each delivery is a POST with a JSON body {id, webhook_id, event: {id, code, at, outcome, reason,\n' +
    '  user_id, identifier, ip, client_id, details}} and the headers\n' +
    '    Portcullis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret>\n' +
    '    Portcullis-Event: <event code>\n' +
    '    Portcullis-Delivery: <delivery id, the same on every retry>\n' +
    '  Any 2xx answer counts as delivered; anything else is retried with exponential backoff.\n\n' +
    '  Event codes:\n' +
    wrapCodes('    '),
  options: { url: { type: 'string' }, events: { type: 'string', multiple: true }, description: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    if (typeof values.url !== 'string') throw new UsageError('--url is required');
    await withStore(io, async (ctx) => {
      const { webhook, secret } = await addWebhook(adminDeps(ctx), {
        url: values.url as string,
        codes: eventList(values.events),
        description: (values.description as string | undefined) ?? null,
        requireHttps: ctx.config.isProduction,
      });
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ ...describeWebhook(webhook), secret }, null, 2)}\n`);
        return;
      }
      const events = webhook.codes.length === 0 ? 'every event' : webhook.codes.join(', ');
      io.stdout.write(
        `Added webhook ${webhook.id}: POST ${webhook.url} for ${events}.\n` +
          `Signing secret (shown once, stored sealed; put it in the receiver now):\n  ${secret}\n\n` +
          'To verify a delivery, take the raw request body and the Portcullis-Signature header (t=…,v1=…),\n' +
          'compute the hex HMAC-SHA256 of "<t>.<raw body>" with this secret as the key, compare it with v1\n' +
          'in constant time, and reject t more than 5 minutes from your clock. Drop repeats of Portcullis-Delivery.\n' +
          `Send a test event with: portcullis webhook test ${webhook.id}\n`,
      );
    });
    return 0;
  },
};

export const webhookListCommand: Command = {
  name: 'webhook list',
  summary: 'List webhooks (never their secrets)',
  usage: 'portcullis webhook list [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async (ctx) => {
      const hooks = (await listWebhooks(ctx)).map(describeWebhook);
      if (values.json) io.stdout.write(`${JSON.stringify(hooks, null, 2)}\n`);
      else printTable(io.stdout, hooks, ['id', 'url', 'events', 'disabled', 'description', 'createdAt']);
    });
    return 0;
  },
};

export const webhookRemoveCommand: Command = {
  name: 'webhook remove',
  summary: 'Remove a webhook and its delivery log',
  usage: 'portcullis webhook remove ID\n\n  Pending deliveries are dropped. To pause instead, use `portcullis webhook disable ID`.',
  options: {},
  allowPositionals: true,
  async run({ positionals }, io) {
    const id = oneId(positionals);
    await withStore(io, async (ctx) => {
      await removeWebhook(ctx, id);
      io.stdout.write(`Removed webhook ${id}.\n`);
    });
    return 0;
  },
};

function toggleCommand(disabled: boolean): Command {
  const verb = disabled ? 'disable' : 'enable';
  return {
    name: `webhook ${verb}`,
    summary: disabled ? 'Stop sending to a webhook (kept, with its log)' : 'Resume sending to a disabled webhook',
    usage: disabled
      ? 'portcullis webhook disable ID\n\n  No new deliveries are queued; those still pending are marked failed instead of sent.'
      : 'portcullis webhook enable ID\n\n  Events from now on are delivered again; events while it was disabled are not.',
    options: {},
    allowPositionals: true,
    async run({ positionals }, io) {
      const id = oneId(positionals);
      await withStore(io, async (ctx) => {
        await setWebhookDisabled(ctx, id, disabled);
        io.stdout.write(`Webhook ${id} ${disabled ? 'disabled' : 'enabled'}.\n`);
      });
      return 0;
    },
  };
}

export const webhookDisableCommand = toggleCommand(true);
export const webhookEnableCommand = toggleCommand(false);

export const webhookDeliveriesCommand: Command = {
  name: 'webhook deliveries',
  summary: 'Show the webhook delivery log (status, attempts, last error), newest first',
  usage: `portcullis webhook deliveries [--webhook ID] [--status ${DELIVERY_STATUSES.join('|')}] [--limit N] [--json]`,
  options: { webhook: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const status = values.status as string | undefined;
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be ${DELIVERY_STATUSES.join(', ')}`);
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
    await withStore(io, async (ctx) => {
      const deliveries = (await listDeliveries(ctx, { webhookId: values.webhook as string | undefined, status, limit })).map(describeDelivery);
      if (values.json) io.stdout.write(`${JSON.stringify(deliveries, null, 2)}\n`);
      else printTable(io.stdout, deliveries, ['id', 'webhookId', 'event', 'status', 'attempts', 'lastStatus', 'lastError', 'createdAt']);
    });
    return 0;
  },
};

export const webhookTestCommand: Command = {
  name: 'webhook test',
  summary: 'Queue a signed webhook_test event for one webhook',
  usage: 'portcullis webhook test ID\n\n  A running server sends it; follow it with `portcullis webhook deliveries --webhook ID`.',
  options: {},
  allowPositionals: true,
  async run({ positionals }, io) {
    const id = oneId(positionals);
    await withStore(io, async (ctx) => {
      const deliveryId = await sendTestEvent(adminDeps(ctx), id);
      io.stdout.write(`Queued test delivery ${deliveryId} for webhook ${id}; a running server sends it.\n`);
    });
    return 0;
  },
};
