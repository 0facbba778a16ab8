// Operator use-cases for webhooks (shared by the CLI and the console): register, list, remove, disable, inspect the
// delivery log, send a test. The signing secret is returned once by addWebhook and only kept sealed.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { PortcullisError } from '../domain/errors.js';
import { deriveKey } from '../crypto/hmac.js';
import { seal } from '../crypto/seal.js';
import { randomId } from '../crypto/tokens.js';
import { EVENT_CODES, type SecurityEvent } from '../events/event-codes.js';
import type { Store, Webhook, WebhookDelivery, WebhookDeliveryStatus } from '../store/store.js';
import { buildWebhookPayload, newDeliveryId } from './webhook-dispatcher.js';

export interface WebhookAdminDeps {
  store: Pick<Store, 'webhooks'>;
  clock: Clock;
  /** Seals signing secrets at rest; the worker needs the same key (see webhookSealKey). */
  sealKey: Buffer;
}

/** A webhook as shown to operators: everything but the (sealed) secret. */
export type WebhookInfo = Omit<Webhook, 'sealedSecret'>;

export interface AddWebhookInput {
  url: string;
  /** Event codes to deliver; empty (or omitted) for every code. */
  codes?: readonly string[];
  description?: string | null;
  /** Refuse plain http except to loopback (pass config.isProduction). */
  requireHttps?: boolean;
}

export const DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'failed'];
const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 200;

/** The key that seals webhook secrets, derived from the server secret (the same in the server and the CLI). */
export function webhookSealKey(serverSecret: string): Buffer {
  return deriveKey(serverSecret, 'seal-webhooks');
}

export function toWebhookInfo(hook: Webhook): WebhookInfo {
  return { id: hook.id, url: hook.url, codes: hook.codes, description: hook.description, disabled: hook.disabled, createdAt: hook.createdAt };
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Checks a receiver URL: absolute http(s), no credentials or fragment; https unless `requireHttps` is off or it is loopback. */
export function checkWebhookUrl(raw: string, requireHttps: boolean): string {
  const text = raw.trim();
  if (text.length === 0 || text.length > MAX_URL_LENGTH) throw new PortcullisError('invalid_input', { message: `A webhook URL needs 1 to ${MAX_URL_LENGTH} characters.` });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PortcullisError('invalid_input', { message: `Webhook URL "${text}" is not an absolute URL.` });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PortcullisError('invalid_input', { message: 'A webhook URL must start with https:// (or http://).' });
  if (url.username || url.password) {
    throw new PortcullisError('invalid_input', { message: 'A webhook URL must not contain a user name or password: deliveries are authenticated by their signature.' });
  }
  if (url.hash) throw new PortcullisError('invalid_input', { message: 'A webhook URL must not contain a #fragment.' });
  if (requireHttps && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new PortcullisError('invalid_input', { message: 'In production a webhook URL must use https:// (plain http is allowed only to localhost).' });
  }
  return url.toString();
}

/** Validates event codes (deduplicated, in the order given); empty means every code. */
export function checkEventCodes(codes: readonly string[]): string[] {
  const cleaned = [...new Set(codes.map((c) => c.trim()).filter((c) => c.length > 0))];
  const unknown = cleaned.filter((c) => !Object.hasOwn(EVENT_CODES, c));
  if (unknown.length > 0) {
    throw new PortcullisError('invalid_input', { message: `Unknown event code${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')}. Run \`portcullis webhook add --help\` for the list.` });
  }
  return cleaned;
}

/** Registers a webhook; returns it with its signing secret, which is shown only this once. */
export async function addWebhook(deps: WebhookAdminDeps, input: AddWebhookInput): Promise<{ webhook: WebhookInfo; secret: string }> {
  const url = checkWebhookUrl(input.url, input.requireHttps ?? false);
  const codes = checkEventCodes(input.codes ?? []);
  const description = input.description?.trim() || null;
  if (description && description.length > MAX_DESCRIPTION_LENGTH) {
    throw new PortcullisError('invalid_input', { message: `A description has at most ${MAX_DESCRIPTION_LENGTH} characters.` });
  }
  const secret = randomBytes(32).toString('base64url');
  const hook: Webhook = { id: `wh_${randomId()}`, url, codes, sealedSecret: seal(deps.sealKey, secret), description, disabled: false, createdAt: deps.clock.now() };
  await deps.store.webhooks.create(hook);
  return { webhook: toWebhookInfo(hook), secret };
}

export async function listWebhooks(deps: Pick<WebhookAdminDeps, 'store'>): Promise<WebhookInfo[]> {
  return (await deps.store.webhooks.list()).map(toWebhookInfo);
}

export async function getWebhook(deps: Pick<WebhookAdminDeps, 'store'>, id: string): Promise<WebhookInfo> {
  const hook = await deps.store.webhooks.findById(id);
  if (!hook) throw new PortcullisError('not_found', { message: `No webhook with id "${id}".` });
  return toWebhookInfo(hook);
}

/** Removes a webhook and its delivery log; pending deliveries are not sent. */
export async function removeWebhook(deps: Pick<WebhookAdminDeps, 'store'>, id: string): Promise<void> {
  if (!(await deps.store.webhooks.remove(id))) throw new PortcullisError('not_found', { message: `No webhook with id "${id}".` });
}

/** A disabled webhook gets no new deliveries, and those still pending are marked failed when the worker reaches them. */
export async function setWebhookDisabled(deps: Pick<WebhookAdminDeps, 'store'>, id: string, disabled: boolean): Promise<WebhookInfo> {
  if (!(await deps.store.webhooks.setDisabled(id, disabled))) throw new PortcullisError('not_found', { message: `No webhook with id "${id}".` });
  return getWebhook(deps, id);
}

export interface ListDeliveriesOptions {
  webhookId?: string;
  status?: string;
  /** 1 to 1000; 50 by default. */
  limit?: number;
}

/** The delivery log, newest first. */
export async function listDeliveries(deps: Pick<WebhookAdminDeps, 'store'>, options: ListDeliveriesOptions = {}): Promise<WebhookDelivery[]> {
  const status = options.status as WebhookDeliveryStatus | undefined;
  if (status !== undefined && !DELIVERY_STATUSES.includes(status)) throw new PortcullisError('invalid_input', { message: 'The status must be pending, delivered or failed.' });
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new PortcullisError('invalid_input', { message: 'The limit must be a whole number from 1 to 1000.' });
  return deps.store.webhooks.listDeliveries({ webhookId: options.webhookId || undefined, status, limit });
}

/**
 * Queues a synthetic `webhook_test` event for one webhook (whatever codes it subscribes to); the worker sends it like
 * any delivery. Not recorded in the event log. Returns the delivery id.
 */
export async function sendTestEvent(deps: WebhookAdminDeps, id: string): Promise<string> {
  const hook = await deps.store.webhooks.findById(id);
  if (!hook) throw new PortcullisError('not_found', { message: `No webhook with id "${id}".` });
  if (hook.disabled) throw new PortcullisError('invalid_input', { message: `Webhook "${id}" is disabled; enable it first.` });
  const now = deps.clock.now();
  const event: SecurityEvent = {
    id: randomId(),
    at: now,
    code: 'webhook_test',
    userId: null,
    identifier: null,
    ip: null,
    userAgent: null,
    clientId: null,
    outcome: 'info',
    reason: null,
    details: { message: 'Test delivery from Portcullis. If the signature verifies, this webhook is set up correctly.' },
  };
  const deliveryId = newDeliveryId();
  await deps.store.webhooks.enqueue({ id: deliveryId, webhookId: hook.id, eventId: event.id, eventCode: event.code, payload: buildWebhookPayload(deliveryId, hook.id, event) }, now);
  return deliveryId;
}
