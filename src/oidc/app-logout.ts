// Tells the apps of an ended Portcullis session: an OIDC back-channel logout token to each app that registered a
// backchannel_logout_uri, and the end of their grants (so refresh tokens die) and of the provider session.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { OidcModelStore } from '../store/store.js';
import type { SessionLinks } from './session-link.js';
import { appsOfStoredSession, type SessionApp } from './front-channel.js';

interface StoredOidcSession {
  jti?: string;
  accountId?: string;
  authorizations?: Record<string, { sid?: string; grantId?: string } | undefined>;
}

export interface AppLogout {
  /** Returns how many back-channel logout tokens were delivered (failures are logged, not retried). */
  sessionEnded(sessionId: string): Promise<number>;
  /** The apps (client and sid) signed in through a Portcullis session, while its provider sessions still exist. */
  appsOf(sessionId: string): Promise<SessionApp[]>;
}

export function createAppLogout(provider: Provider, deps: { links: SessionLinks; models: OidcModelStore; clock: Clock; logger: Logger }): AppLogout {
  /** The stored provider sessions linked to a Portcullis session. */
  async function providerSessions(sessionId: string): Promise<StoredOidcSession[]> {
    const out: StoredOidcSession[] = [];
    for (const uid of await deps.links.oidcSessionsOf(sessionId, deps.clock.now())) {
      const record = await deps.models.findByUid('Session', uid, deps.clock.now());
      if (record) out.push(record.payload as StoredOidcSession);
    }
    return out;
  }

  return {
    async appsOf(sessionId) {
      return (await providerSessions(sessionId)).flatMap((stored) => appsOfStoredSession(stored as Record<string, unknown>));
    },
    async sessionEnded(sessionId) {
      let delivered = 0;
      for (const stored of await providerSessions(sessionId)) {
        for (const [clientId, authorization] of Object.entries(stored.authorizations ?? {})) {
          if (!authorization) continue;
          const client = (await provider.Client.find(clientId).catch(() => undefined)) as
            | { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> }
            | undefined;
          if (client?.backchannelLogoutUri && stored.accountId && authorization.sid) {
            try {
              await client.backchannelLogout(stored.accountId, authorization.sid);
              delivered += 1;
            } catch (error) {
              deps.logger.warn({ err: error, clientId }, 'back-channel logout delivery failed');
            }
          }
          if (authorization.grantId) {
            // Tokens and codes carry the grant id; the Grant record itself is keyed by it.
            await deps.models.revokeByGrantId(authorization.grantId);
            await deps.models.destroy('Grant', authorization.grantId);
          }
        }
        if (stored.jti) await deps.models.destroy('Session', stored.jti);
      }
      return delivered;
    },
  };
}
