// The admin console (/admin): server-rendered like the login pages. (Pages being built.)
import type { FastifyInstance } from 'fastify';
import type { AdminService } from '../../admin/admin-service.js';
import type { Clock } from '../../domain/clock.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { UserStore } from '../../store/store.js';
import type { Csrf } from '../csrf.js';

export interface ConsoleDeps {
  admin: AdminService;
  sessions: SessionService;
  users: UserStore;
  csrf: Csrf;
  clock: Clock;
  productName: string;
  /** Webhook management for operators (list, add, remove, delivery log); null until webhooks are wired. */
  webhooks: ConsoleWebhooks | null;
}

export interface ConsoleWebhooks {
  list(): Promise<{ id: string; url: string; codes: string[]; disabled: boolean; description: string | null; createdAt: number }[]>;
  deliveries(options: { webhookId?: string; limit: number }): Promise<{ id: string; webhookId: string; eventCode: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null; createdAt: number; deliveredAt: number | null }[]>;
}

export function adminConsoleRoutes(_deps: ConsoleDeps) {
  return async (_app: FastifyInstance): Promise<void> => {};
}
