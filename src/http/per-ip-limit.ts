// Per-IP request limits for public forms (sign-up, reset requests): the same token bucket as login throttling.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../domain/errors.js';
import type { EventCode } from '../events/event-codes.js';
import type { EventStore, RateLimitStore } from '../store/store.js';
import { decideThrottle } from '../protection/throttle/throttle-policy.js';
import { ipKey } from '../protection/ip/ip-key.js';
import { normaliseIp } from './client-ip.js';

export async function limitPerIpPerMinute(
  stores: { buckets: RateLimitStore; events: EventStore },
  request: FastifyRequest,
  reply: FastifyReply,
  limit: { name: string; perMinute: number; now: number; message: string; event?: EventCode },
): Promise<void> {
  const ip = normaliseIp(request.ip);
  // N per minute per IP, refilling smoothly.
  const policy = { capacity: limit.perMinute, refillMs: 60_000 / limit.perMinute };
  const decision = decideThrottle(await stores.buckets.take(`${limit.name}:${ipKey(ip)}`, policy.capacity, policy.refillMs, limit.now), policy, limit.now);
  if (decision.action === 'allow') return;
  if (limit.event) await stores.events.append({ code: limit.event, outcome: 'failure', ip, reason: 'per_ip_limit', details: decision.signals }, limit.now);
  reply.header('retry-after', '60');
  throw new PortcullisError('rate_limited', { message: limit.message });
}
