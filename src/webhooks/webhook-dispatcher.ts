// Turns security events into webhook deliveries: one durable outbox row per enabled webhook subscribed to the code.
// The worker (webhook-worker.ts) sends them; here nothing touches the network, and nothing ever throws.
import type { Clock } from '../domain/clock.js';
import { randomId } from '../crypto/tokens.js';
import type { SecurityEvent } from '../events/event-codes.js';
import type { Store, Webhook } from '../store/store.js';

export interface WebhookLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebhookDispatcherDeps {
  store: Pick<Store, 'webhooks'>;
  clock: Clock;
  logger: WebhookLogger;
  /**
   * Reuse the webhook list this long instead of reading it for every security event (0: read each time). A new or
   * changed webhook then takes effect within this time on every node.
   */
  listCacheMs?: number;
}

export interface WebhookDispatcher {
  /** Enqueues a delivery for every matching webhook. Never throws: a failure is logged and the event stays recorded. */
  onEvent(event: SecurityEvent): Promise<void>;
}

/** The body every receiver gets (snake_case, like OIDC); `id` is the delivery id, the same on every retry. */
export interface WebhookPayload {
  id: string;
  webhook_id: string;
  event: {
    id: string;
    code: string;
    at: string;
    outcome: SecurityEvent['outcome'];
    reason: string | null;
    user_id: string | null;
    identifier: string | null;
    ip: string | null;
    client_id: string | null;
    details: Record<string, unknown>;
  };
}

export function newDeliveryId(): string {
  return `whd_${randomId()}`;
}

export function buildWebhookPayload(deliveryId: string, webhookId: string, event: SecurityEvent): string {
  const payload: WebhookPayload = {
    id: deliveryId,
    event: {
      id: event.id,
      code: event.code,
      at: new Date(event.at).toISOString(),
      outcome: event.outcome,
      reason: event.reason,
      user_id: event.userId,
      identifier: event.identifier,
      ip: event.ip,
      client_id: event.clientId,
      details: event.details,
    },
    webhook_id: webhookId,
  };
  return JSON.stringify(payload);
}

function webhookWants(hook: Webhook, code: string): boolean {
  return !hook.disabled && (hook.codes.length === 0 || hook.codes.includes(code));
}

export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  let cached: { at: number; hooks: Webhook[] } | null = null;
  async function currentHooks(): Promise<Webhook[]> {
    const now = deps.clock.now();
    const ttl = deps.listCacheMs ?? 0;
    if (cached && ttl > 0 && now >= cached.at && now - cached.at < ttl) return cached.hooks;
    const hooks = await deps.store.webhooks.list();
    cached = { at: now, hooks };
    return hooks;
  }
  return {
    async onEvent(event) {
      // A test delivery is addressed to one webhook by the operator, never fanned out.
      if (event.code === 'webhook_test') return;
      let hooks: Webhook[];
      try {
        hooks = (await currentHooks()).filter((hook) => webhookWants(hook, event.code));
      } catch (error) {
        deps.logger.error({ eventId: event.id, code: event.code, error: (error as Error)?.message ?? String(error) }, 'webhook lookup failed; event not delivered to webhooks');
        return;
      }
      await Promise.all(
        hooks.map(async (hook) => {
          const id = newDeliveryId();
          try {
            await deps.store.webhooks.enqueue({ id, webhookId: hook.id, eventId: event.id, eventCode: event.code, payload: buildWebhookPayload(id, hook.id, event) }, deps.clock.now());
          } catch (error) {
            deps.logger.error({ eventId: event.id, code: event.code, webhookId: hook.id, error: (error as Error)?.message ?? String(error) }, 'webhook delivery could not be queued');
          }
        }),
      );
    },
  };
}
