// Which Portcullis session an OIDC provider session belongs to, so app tokens live and die with it.
import type { OidcModelStore } from '../store/store.js';

const BY_OIDC = 'PortcullisSessionOfOidc';
const BY_SESSION = 'PortcullisOidcOfSession';

export interface SessionLinks {
  link(oidcSessionUid: string, sessionId: string, expiresAt: number, now: number): Promise<void>;
  sessionIdFor(oidcSessionUid: string, now: number): Promise<string | null>;
  oidcSessionsOf(sessionId: string, now: number): Promise<string[]>;
}

export function createSessionLinks(models: OidcModelStore): SessionLinks {
  return {
    async link(oidcSessionUid, sessionId, expiresAt, now) {
      const existing = await models.find(BY_OIDC, oidcSessionUid, now);
      if (existing?.payload.sessionId !== sessionId) await models.upsert(BY_OIDC, oidcSessionUid, { sessionId }, expiresAt);
      const list = await models.find(BY_SESSION, sessionId, now);
      const uids = Array.isArray(list?.payload.uids) ? (list.payload.uids as string[]) : [];
      if (!uids.includes(oidcSessionUid)) await models.upsert(BY_SESSION, sessionId, { uids: [...uids, oidcSessionUid].slice(-50) }, expiresAt);
    },
    async sessionIdFor(oidcSessionUid, now) {
      const record = await models.find(BY_OIDC, oidcSessionUid, now);
      return typeof record?.payload.sessionId === 'string' ? record.payload.sessionId : null;
    },
    async oidcSessionsOf(sessionId, now) {
      const record = await models.find(BY_SESSION, sessionId, now);
      return Array.isArray(record?.payload.uids) ? (record.payload.uids as string[]) : [];
    },
  };
}
