// Health for load balancers: /healthz answers 503 only when this node's database does not answer. Redis is shared by
// every node, so its outage is reported ("degraded") but does not take the nodes out of rotation: tokens, discovery,
// JWKS, userinfo and logout need no Redis and keep working while password sign-in answers 503.
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
        status: !storeOk ? 'unavailable' : redisOk ? 'ok' : 'degraded',
        store: store.kind,
        ...(redis ? { redis: redisOk ? 'ok' : 'unavailable' } : {}),
      };
      return reply.code(storeOk ? 200 : 503).send(body);
    });
  };
}
