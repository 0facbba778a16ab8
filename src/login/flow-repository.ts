// Persists login flows next to the OIDC interaction they belong to, with the same expiry.
import type { OidcModelStore } from '../store/store.js';
import { startFlow, type LoginFlow } from './login-flow.js';

const MODEL = 'LoginFlow';

export interface FlowRepository {
  load(uid: string, now: number, ttlMs: number): Promise<LoginFlow>;
  save(uid: string, flow: LoginFlow): Promise<void>;
  /**
   * Saves the flow's last state once: true for the first caller only. Two requests racing to finish one sign-in
   * (a double-submitted form, a replayed POST) cannot both start a session.
   */
  finish(uid: string, flow: LoginFlow, now: number): Promise<boolean>;
}

export function createFlowRepository(models: OidcModelStore): FlowRepository {
  return {
    async load(uid, now, ttlMs) {
      const record = await models.find(MODEL, uid, now);
      return record ? (record.payload as unknown as LoginFlow) : startFlow(now, ttlMs);
    },
    async save(uid, flow) {
      await models.upsert(MODEL, uid, flow as unknown as Record<string, unknown>, flow.expiresAt);
    },
    finish(uid, flow, now) {
      return models.saveConsumed(MODEL, uid, flow as unknown as Record<string, unknown>, flow.expiresAt, now);
    },
  };
}
