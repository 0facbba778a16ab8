// Liveness and readiness: /healthz answers 200 only when the store answers.
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';

export function healthRoutes(store: Store) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', async (request, reply) => {
      try {
        await store.ping();
        return reply.send({ status: 'ok', store: store.kind });
      } catch (error) {
        request.log.warn({ err: error }, 'health check failed');
        return reply.code(503).send({ status: 'unavailable', store: store.kind });
      }
    });
  };
}
