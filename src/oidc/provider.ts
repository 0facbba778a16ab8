// Configures oidc-provider: our store as adapter, persisted keys, first-party consent skip, PKCE, rotation, hashed client secrets.
import { reuseClientInstances } from './client-instances.js';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Clock } from '../domain/clock.js';
import type { SigningKey } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { createAdapterFactory } from './adapter.js';
import { clientSecretMatches } from './client-secrets.js';
import { toJwks } from './signing-keys.js';
import { findAccountIn } from './find-account.js';
import type { SessionBridge } from './session-bridge.js';
import { ADMIN_SCOPES, withoutAdminScopes } from '../admin/principal.js';
import { API_ORG_METADATA } from './api-tokens.js';
import { FRONT_CHANNEL_METADATA, validateFrontChannelMetadata } from './front-channel.js';

export interface ProviderPages {
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void>;
}

export interface ProviderDeps {
  config: Config;
  store: Store;
  clock: Clock;
  keys: SigningKey[];
  cookieKeys: string[];
  pages: ProviderPages;
  /** Binds app tokens to the Portcullis session; without it tokens keep their configured lifetimes. */
  bridge?: SessionBridge;
}

const seconds = (ms: number): number => Math.max(1, Math.floor(ms / 1000));

export function createProvider(deps: ProviderDeps): Provider {
  const { config, store, clock, bridge } = deps;
  const policy = interactionPolicy.base();
  if (bridge) policy.get('login')?.checks.add(bridge.loginCheck);
  const capped = (configured: number, until: 'expires' | 'absolute') => (ctx: KoaContextWithOIDC, token: unknown) =>
    bridge ? bridge.capTtl(ctx, token, seconds(configured), until) : seconds(configured);
  const configuration: Configuration = {
    adapter: createAdapterFactory(store.oidc, store.clients, clock),
    jwks: toJwks(deps.keys) as Configuration['jwks'],
    cookies: {
      keys: deps.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: config.cookieSecure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: config.cookieSecure },
      names: { session: 'portcullis_oidc', interaction: 'portcullis_interaction', resume: 'portcullis_resume' },
    },
    // Front-Channel Logout 1.0 metadata (oidc-provider 9 dropped the feature; src/oidc/front-channel.ts implements it).
    extraClientMetadata: { properties: [...FRONT_CHANNEL_METADATA, API_ORG_METADATA], validator(_ctx, key, value) {
        try {
          if (key === API_ORG_METADATA && value !== undefined && value !== null && typeof value !== 'string') throw new TypeError(`${API_ORG_METADATA} must be an organization id`);
          validateFrontChannelMetadata(key, value);
        } catch (error) {
          throw new errors.InvalidClientMetadata((error as Error).message);
        }
      },
    },
    findAccount: findAccountIn(store.users, (token) => bridge?.absoluteEndOf(token) ?? null),
    claims: {
      // amr (RFC 8176: pwd, otp, hwk, user, mfa) tells the app how the user signed in. It must be a claim of the openid
      // scope: with conformIdTokenClaims (the default) and an access token issued, the ID token carries only the
      // openid scope's claims, and amr is neither among oidc-provider's default claims nor requested by clients.
      // session_expires_at: when the Portcullis session behind this login ends at the latest (epoch seconds).
      openid: ['sub', 'amr', 'session_expires_at'],
      email: ['email', 'email_verified'],
      profile: ['name', 'updated_at'],
    },
    // The management API's scopes (granted to client-credentials clients only, per their registered `scope`).
    scopes: ['openid', 'offline_access', 'email', 'profile', ...ADMIN_SCOPES],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: deps.pages.logoutSource,
        postLogoutSuccessSource: deps.pages.postLogoutSuccessSource,
      },
    },
    renderError: deps.pages.renderError,
    // oidc-provider refuses outgoing requests to loopback and private addresses (SSRF protection). Back-channel
    // logout targets come only from clients the operator registered, and self-hosted apps often live on a private
    // network, so those deliveries may reach them; every other outgoing request keeps the protection.
    fetch: (url, options) => {
      const body = (options as { body?: unknown }).body;
      if ((options as { method?: string }).method === 'POST' && body instanceof URLSearchParams && body.has('logout_token')) {
        const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
        return globalThis.fetch(url, rest);
      }
      return globalThis.fetch(url, options as RequestInit);
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Refresh tokens are issued to every client allowed the grant, and rotate on every use.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    clientBasedCORS: (_ctx, origin, client) =>
      (client.redirectUris ?? []).some((uri) => {
        try {
          return new URL(uri).origin === origin;
        } catch {
          return false;
        }
      }),
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const record = await store.clients.find(ctx.oidc.client!.clientId);
      if (!record?.firstParty || !ctx.oidc.session?.accountId) return undefined;
      // First-party clients skip the consent screen: grant what they ask for.
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session.accountId });
      // Management-API scopes are only ever granted to client-credentials clients, never through a login.
      grant.addOIDCScope(withoutAdminScopes(String(ctx.oidc.params?.scope ?? 'openid')));
      await grant.save();
      return grant;
    },
    ttl: {
      // No token outlives the session behind it.
      AccessToken: capped(config.tokens.accessTokenTtl, 'expires'),
      // Management API tokens (client credentials): no session behind them, the configured access-token lifetime.
      ClientCredentials: seconds(config.tokens.accessTokenTtl),
      IdToken: capped(config.tokens.idTokenTtl, 'expires'),
      AuthorizationCode: seconds(config.tokens.authorizationCodeTtl),
      Interaction: seconds(config.tokens.interactionTtl),
      Grant: seconds(config.sessionAbsoluteTimeout),
      Session: seconds(config.sessionAbsoluteTimeout),
      RefreshToken: capped(config.sessionIdleTimeout, 'absolute'),
    },
    responseTypes: ['code'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  };
  const provider = new Provider(config.issuer, configuration);
  // Host and protocol are pinned to the public URL by the HTTP layer (forwarded-headers.ts), so trusting them is safe.
  provider.proxy = true;
  bridge?.install(provider);
  reuseClientInstances(provider);
  // Secrets are hashed at rest, so replace the plaintext compare with a constant-time hash compare.
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientSecret?: string }, actual: string) {
    return clientSecretMatches(actual, this.clientSecret);
  };
  return provider;
}
