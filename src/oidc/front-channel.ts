// OpenID Connect Front-Channel Logout 1.0: when a session ends in the browser, the signed-out page loads each app's
// frontchannel_logout_uri in a hidden iframe (with iss and sid when the app asked for them), so apps without a
// back-channel endpoint can clear their own cookies. oidc-provider 9 no longer implements it, so it lives here.
import type Provider from 'oidc-provider';

export const FRONT_CHANNEL_METADATA = ['frontchannel_logout_uri', 'frontchannel_logout_session_required'] as const;

export interface SessionApp {
  clientId: string;
  sid: string | undefined;
}

/** Validates the extra client metadata (oidc-provider's extraClientMetadata.validator). */
export function validateFrontChannelMetadata(key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (key === 'frontchannel_logout_session_required' && typeof value !== 'boolean') throw new TypeError('frontchannel_logout_session_required must be a boolean');
  if (key === 'frontchannel_logout_uri') {
    if (typeof value !== 'string') throw new TypeError('frontchannel_logout_uri must be a URL');
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('frontchannel_logout_uri must be an http(s) URL');
    if (url.hash) throw new TypeError('frontchannel_logout_uri must not have a fragment');
  }
}

/** The iframe URLs for the apps of an ending session. */
export async function frontChannelUrls(provider: Provider, issuer: string, apps: readonly SessionApp[]): Promise<string[]> {
  const urls: string[] = [];
  for (const app of apps) {
    const client = await provider.Client.find(app.clientId).catch(() => undefined);
    const metadata = (client?.metadata() ?? {}) as Record<string, unknown>;
    const uri = metadata.frontchannel_logout_uri;
    if (typeof uri !== 'string') continue;
    const url = new URL(uri);
    if (metadata.frontchannel_logout_session_required === true && app.sid) {
      url.searchParams.set('iss', issuer);
      url.searchParams.set('sid', app.sid);
    }
    urls.push(url.href);
  }
  return urls;
}

/** The apps (client and sid) of a stored provider session. */
export function appsOfStoredSession(payload: Record<string, unknown>): SessionApp[] {
  const authorizations = (payload.authorizations ?? {}) as Record<string, { sid?: string } | undefined>;
  return Object.entries(authorizations).map(([clientId, a]) => ({ clientId, sid: a?.sid }));
}

/** Adds the iframe origins to a Content-Security-Policy's frame-src (or adds the directive). */
export function allowFrames(csp: string, urls: readonly string[]): string {
  const origins = [...new Set(urls.map((u) => new URL(u).origin))];
  if (origins.length === 0) return csp;
  const directives = csp.split(';').map((d) => d.trim()).filter(Boolean);
  const index = directives.findIndex((d) => d.startsWith('frame-src'));
  if (index >= 0) directives[index] = `${directives[index]} ${origins.join(' ')}`;
  else directives.push(`frame-src ${origins.join(' ')}`);
  return directives.join(';');
}
