import { errorPage } from '../views/pages.js';
// The development mailbox at /dev/mail (registered only outside production): read mail the dev transport kept.
import type { FastifyInstance } from 'fastify';
import { PortcullisError } from '../../domain/errors.js';
import type { DevMailboxStore, OutboxStore, OutboxStatus } from '../../store/store.js';
import { devMailItemPage, devMailListPage } from '../views/dev-mail-pages.js';

export interface DevMailDeps {
  devMailbox: DevMailboxStore;
  outbox: OutboxStore;
  productName: string;
}

/** The stored HTML is shown as sent: no scripts, no requests except images, inline styles only. */
export const DEV_MAIL_HTML_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'";
const COUNT_LIMIT = 1000;

export function devMailRoutes(deps: DevMailDeps): (app: FastifyInstance) => Promise<void> {
  async function count(status: OutboxStatus): Promise<string> {
    const rows = await deps.outbox.list({ status, limit: COUNT_LIMIT });
    return rows.length >= COUNT_LIMIT ? `${COUNT_LIMIT}+` : String(rows.length);
  }

  async function find(id: string) {
    const item = id.length <= 200 ? await deps.devMailbox.findById(id) : null;
    if (!item) throw new PortcullisError('not_found', { message: 'There is no message with this id in the dev mailbox.' });
    return item;
  }

  return async (app: FastifyInstance): Promise<void> => {
    // The dev mailbox shows live reset and verification links, so only this machine may read it,
    // even on a server left without NODE_ENV=production.
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/dev/mail')) return;
      if (!isLoopback(request.socket.remoteAddress ?? '')) {
        return reply.code(404).type('text/html; charset=utf-8').send(errorPage(deps.productName, 404, 'This page does not exist.'));
      }
    });
    // Mail bodies carry live link tokens: keep them out of caches.
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    app.get('/dev/mail', async (_request, reply) => {
      const [items, pendingCount, failedCount, failed] = await Promise.all([
        deps.devMailbox.list(100),
        count('pending'),
        count('failed'),
        deps.outbox.list({ status: 'failed', limit: 50 }),
      ]);
      return reply.type('text/html; charset=utf-8').send(devMailListPage({ productName: deps.productName, items, pendingCount, failed, failedCount }));
    });

    app.get<{ Params: { id: string } }>('/dev/mail/:id', async (request, reply) => {
      const item = await find(request.params.id);
      return reply.type('text/html; charset=utf-8').send(devMailItemPage(deps.productName, item));
    });

    app.get<{ Params: { id: string } }>('/dev/mail/:id/html', async (request, reply) => {
      const item = await find(request.params.id);
      return reply.header('content-security-policy', DEV_MAIL_HTML_CSP).type('text/html; charset=utf-8').send(item.html);
    });
  };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
