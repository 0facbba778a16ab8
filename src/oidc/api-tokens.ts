// Management API authentication: client-credentials access tokens issued by Portcullis itself. A client registered
// for an organization (metadata `portcullis_org_id`) acts as that organization's admin; any other as an operator.
import type Provider from 'oidc-provider';
import { ADMIN_SCOPES, type AdminScope, type Principal } from '../admin/principal.js';

export const API_ORG_METADATA = 'portcullis_org_id';

/** The principal behind a bearer token, or null when it is unknown, expired or not a client-credentials token. */
export async function principalForToken(provider: Provider, token: string): Promise<Principal | null> {
  if (!/^[A-Za-z0-9_-]{20,200}$/.test(token)) return null;
  const found = await provider.ClientCredentials.find(token).catch(() => undefined);
  if (!found || found.isExpired || !found.clientId) return null;
  const client = await provider.Client.find(found.clientId).catch(() => undefined);
  if (!client) return null;
  const granted = new Set(String(found.scope ?? '').split(' ').filter((s): s is AdminScope => (ADMIN_SCOPES as readonly string[]).includes(s)));
  const orgId = (client.metadata() as Record<string, unknown>)[API_ORG_METADATA];
  return {
    kind: typeof orgId === 'string' && orgId ? 'org_admin' : 'operator',
    orgId: typeof orgId === 'string' && orgId ? orgId : null,
    scopes: granted,
    actor: `client:${found.clientId}`,
  };
}
