// Liveness and readiness: /healthz answers 200 only when the store answers, and Redis too when it is configured.
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';

/** Something that answers a ping, such as the Redis counters; `null` when not configured. */
export interface Pingable {
  ping(): Promise<unknown>;
}

export function healthRoutes(store: Store, redis: Pingable | null = null) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', async (request, reply) => {
      // Both checks run at once; the Redis ping gives up within about a second (see redis-protection.ts).
      const [storeCheck, redisCheck] = await Promise.allSettled([store.ping(), redis ? redis.ping() : Promise.resolve()]);
      const storeOk = storeCheck.status === 'fulfilled';
      const redisOk = redisCheck.status === 'fulfilled';
      if (!storeOk) request.log.warn({ err: storeCheck.reason }, 'health check failed: store');
      if (!redisOk) request.log.warn({ detail: (redisCheck.reason as Error).message }, 'health check failed: redis');
      const body = {
        status: storeOk && redisOk ? 'ok' : 'unavailable',
        store: store.kind,
        ...(redis ? { redis: redisOk ? 'ok' : 'unavailable' } : {}),
      };
      return reply.code(storeOk && redisOk ? 200 : 503).send(body);
    });
  };
}
