// Static assets for the hosted pages, read once at start and served with long-lived caching.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const WEB_DIR = new URL('../../../web/', import.meta.url);

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const css = readFileSync(new URL('portcullis.css', WEB_DIR), 'utf8');
  app.get('/assets/portcullis.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
  );
}
