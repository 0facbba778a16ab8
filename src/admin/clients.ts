// Admin use-cases for OIDC clients: exact redirect URIs, public clients with PKCE, hashed secrets.
import { ADMIN_SCOPES } from './principal.js';
import { API_ORG_METADATA } from '../oidc/api-tokens.js';
import type { Clock } from '../domain/clock.js';
import { PortcullisError } from '../domain/errors.js';
import type { ClientRecord } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { generateClientSecret, hashClientSecret } from '../oidc/client-secrets.js';

export interface AddClientInput {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  public: boolean;
  secret?: string | null;
  firstParty: boolean;
  name?: string | null;
}

function checkUri(uri: string, what: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new PortcullisError('invalid_input', { message: `${what} "${uri}" is not an absolute URL.` });
  }
  if (url.hash) throw new PortcullisError('invalid_input', { message: `${what} "${uri}" must not contain a #fragment.` });
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !/^[a-z][a-z0-9+.-]*\.[a-z0-9.-]+:$/.test(url.protocol)) {
    throw new PortcullisError('invalid_input', { message: `${what} "${uri}" must be https, http (development only) or a reverse-DNS app scheme.` });
  }
  return uri;
}

/** Registers a client; returns the plaintext secret once (only its hash is stored). */
export async function addClient(store: Store, clock: Clock, input: AddClientInput): Promise<{ client: ClientRecord; secret: string | null }> {
  if (!/^[A-Za-z0-9._~-]{3,100}$/.test(input.clientId)) {
    throw new PortcullisError('invalid_input', { message: 'A client id needs 3 to 100 characters from A-Z, a-z, 0-9 and . _ ~ -' });
  }
  if (input.redirectUris.length === 0) throw new PortcullisError('invalid_input', { message: 'Give at least one --redirect-uri.' });
  if (input.public && input.secret) throw new PortcullisError('invalid_input', { message: 'A public client has no secret: use either --public or --secret.' });
  if (input.secret && input.secret.length < 32) throw new PortcullisError('invalid_input', { message: 'A client secret needs at least 32 characters; omit --secret to have one generated.' });
  const redirectUris = input.redirectUris.map((u) => checkUri(u, 'Redirect URI'));
  const postLogout = (input.postLogoutRedirectUris ?? []).map((u) => checkUri(u, 'Post-logout redirect URI'));
  const secret = input.public ? null : (input.secret ?? generateClientSecret());
  const metadata: Record<string, unknown> = {
    client_id: input.clientId,
    client_name: input.name ?? input.clientId,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogout,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: input.public ? 'none' : 'client_secret_basic',
    ...(secret ? { client_secret: hashClientSecret(secret) } : {}),
  };
  const client: ClientRecord = { clientId: input.clientId, metadata, firstParty: input.firstParty, createdAt: clock.now() };
  await store.clients.create(client);
  await store.events.append({ code: 'client_created', outcome: 'info', clientId: client.clientId }, clock.now());
  return { client, secret };
}

export function describeClient(client: ClientRecord): Record<string, unknown> {
  const m = client.metadata;
  return {
    clientId: client.clientId,
    name: m.client_name,
    type: m.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    firstParty: client.firstParty,
    redirectUris: m.redirect_uris,
    postLogoutRedirectUris: m.post_logout_redirect_uris ?? [],
    createdAt: new Date(client.createdAt).toISOString(),
  };
}

export interface AddApiClientInput {
  clientId: string;
  name?: string;
  scopes: readonly string[];
  /** Confines the client to one organization (it then acts as that organization's admin). */
  orgName?: string | null;
}

/** A management-API client: client credentials only, with its scopes; the generated secret is returned once. */
export async function addApiClient(store: Store, clock: Clock, input: AddApiClientInput): Promise<{ client: ClientRecord; secret: string }> {
  if (!/^[A-Za-z0-9._~-]{3,100}$/.test(input.clientId)) {
    throw new PortcullisError('invalid_input', { message: 'A client id needs 3 to 100 characters from A-Z, a-z, 0-9 and . _ ~ -' });
  }
  const unknown = input.scopes.filter((s) => !(ADMIN_SCOPES as readonly string[]).includes(s));
  if (input.scopes.length === 0 || unknown.length > 0) {
    throw new PortcullisError('invalid_input', { message: `Give one or more scopes from: ${ADMIN_SCOPES.join(', ')}.${unknown.length ? ` Unknown: ${unknown.join(', ')}.` : ''}` });
  }
  let orgId: string | null = null;
  if (input.orgName) {
    const org = await store.orgs.findByName(input.orgName);
    if (!org) throw new PortcullisError('invalid_input', { message: `No organization named "${input.orgName}". List them with: portcullis org list` });
    orgId = org.id;
  }
  const secret = generateClientSecret();
  const metadata: Record<string, unknown> = {
    client_id: input.clientId,
    client_name: input.name ?? input.clientId,
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: [...new Set(input.scopes)].join(' '),
    client_secret: hashClientSecret(secret),
    ...(orgId ? { [API_ORG_METADATA]: orgId } : {}),
  };
  const client: ClientRecord = { clientId: input.clientId, metadata, firstParty: false, createdAt: clock.now() };
  await store.clients.create(client);
  await store.events.append({ code: 'client_created', outcome: 'info', clientId: client.clientId, details: { api: true, scopes: input.scopes, orgId } }, clock.now());
  return { client, secret };
}
