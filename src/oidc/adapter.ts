// oidc-provider storage adapter backed by our store (never the memory adapter). Clients come from the clients table.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../domain/clock.js';
import type { ClientRecord } from '../domain/types.js';
import type { ClientStore, OidcModelStore } from '../store/store.js';

export function createAdapterFactory(models: OidcModelStore, clients: ClientStore, clock: Clock): (name: string) => Adapter {
  return (name: string): Adapter => {
    if (name === 'Client') return clientAdapter(clients);
    const withConsumed = (record: Awaited<ReturnType<OidcModelStore['find']>>): AdapterPayload | undefined => {
      if (!record) return undefined;
      const payload = record.payload as AdapterPayload;
      return record.consumedAt === null ? payload : { ...payload, consumed: Math.floor(record.consumedAt / 1000) };
    };
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = typeof expiresIn === 'number' ? clock.now() + expiresIn * 1000 : null;
        await models.upsert(name, id, payload as Record<string, unknown>, expiresAt);
      },
      async find(id) {
        return withConsumed(await models.find(name, id, clock.now()));
      },
      async findByUid(uid) {
        return withConsumed(await models.findByUid(name, uid, clock.now()));
      },
      async findByUserCode(userCode) {
        return withConsumed(await models.findByUserCode(name, userCode, clock.now()));
      },
      async consume(id) {
        if (await models.consume(name, id, clock.now())) return;
        // Consumed (or revoked) between the provider's read and this write: a second, concurrent use of a code or a
        // refresh token. Refused and treated like any reuse: what the grant issued is revoked.
        if (name === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri already used');
        const record = await models.find(name, id, clock.now());
        const grantId = record?.payload.grantId;
        if (typeof grantId === 'string') {
          // The grant record goes first: a token the winning request saves at any point after this then names a
          // grant that no longer exists, and the provider refuses it (refresh, userinfo, introspection).
          await models.destroy('Grant', grantId);
          await models.revokeByGrantId(grantId);
        }
        throw new errors.InvalidGrant(`${name === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
      },
      async destroy(id) {
        await models.destroy(name, id);
      },
      async revokeByGrantId(grantId) {
        await models.revokeByGrantId(grantId);
      },
    };
  };
}

/** What an app that signs users in may request. */
export const LOGIN_SCOPES = 'openid offline_access email profile';

function clientAdapter(clients: ClientStore): Adapter {
  const refuse = async (): Promise<never> => {
    throw new Error('clients are managed with `portcullis client add`, not through the provider');
  };
  // The store hands out the same (frozen) record while it caches it: the provider's metadata is derived once per record.
  const derived = new WeakMap<ClientRecord, AdapterPayload>();
  const metadataOf = (record: ClientRecord): AdapterPayload => {
    const known = derived.get(record);
    if (known) return known;
    // A private copy: oidc-provider builds its client from it, and the store's record must stay as read.
    const metadata = structuredClone({ ...record.metadata, client_id: record.clientId }) as Record<string, unknown>;
    // Login clients may ask only for the sign-in scopes: management-API scopes are for client-credentials clients.
    const grants = Array.isArray(metadata.grant_types) ? (metadata.grant_types as string[]) : ['authorization_code'];
    if (metadata.scope === undefined && !grants.includes('client_credentials')) metadata.scope = LOGIN_SCOPES;
    derived.set(record, metadata as AdapterPayload);
    return metadata as AdapterPayload;
  };
  return {
    async find(id) {
      const record = await clients.find(id);
      return record ? metadataOf(record) : undefined;
    },
    upsert: refuse,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: refuse,
    destroy: refuse,
    revokeByGrantId: async () => undefined,
  };
}
