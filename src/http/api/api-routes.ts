// The management API (/api/v1): JSON, stable error codes, client-credentials bearer tokens. (Routes being built.)
import type { FastifyInstance } from 'fastify';
import type { AdminService } from '../../admin/admin-service.js';
import type { Principal } from '../../admin/principal.js';
import type { Clock } from '../../domain/clock.js';

export interface ApiDeps {
  admin: AdminService;
  /** The principal for a bearer token (client credentials issued by this Portcullis), or null. */
  authenticate(token: string): Promise<Principal | null>;
  clock: Clock;
  issuer: string;
  publicUrl: string;
}

export function apiRoutes(_deps: ApiDeps) {
  return async (_app: FastifyInstance): Promise<void> => {};
}
