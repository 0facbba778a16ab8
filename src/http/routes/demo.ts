// The try-it page (/demo, never in production): a real OIDC client of this Portcullis, using openid-client.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import { layout } from '../views/layout.js';
import { html } from '../views/html.js';

export const DEMO_CLIENT_ID = 'portcullis-demo';
const COOKIE = 'portcullis_demo';

export interface DemoDeps {
  issuer: string;
  publicUrl: string;
  productName: string;
  secureCookie: boolean;
}

export function demoClientMetadata(publicUrl: string): Record<string, unknown> {
  return {
    client_id: DEMO_CLIENT_ID,
    client_name: 'Portcullis demo app',
    redirect_uris: [`${publicUrl}/demo/callback`],
    post_logout_redirect_uris: [`${publicUrl}/demo`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/** The client of examples/demo-app (`npm run demo-app`), registered with the demo client when demo mode is on. */
export const EXAMPLE_APP_CLIENT_ID = 'portcullis-example-app';

export function exampleAppClientMetadata(appUrl = 'http://localhost:4000'): Record<string, unknown> {
  return {
    client_name: 'Portcullis example app',
    redirect_uris: [`${appUrl}/callback`],
    post_logout_redirect_uris: [`${appUrl}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    backchannel_logout_uri: `${appUrl}/backchannel-logout`,
    backchannel_logout_session_required: true,
  };
}

export function demoRoutes(deps: DemoDeps) {
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      .discovery(new URL(deps.issuer), DEMO_CLIENT_ID, undefined, oidc.None(), deps.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };
  const page = (reply: FastifyReply, status: number, body: ReturnType<typeof html>) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(layout({ title: 'Demo app', productName: deps.productName, body, wide: true }));

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/demo', async (_request, reply) =>
      page(
        reply,
        200,
        html`<h1>Demo app</h1>
<p class="lead">This page is an OpenID Connect client of this ${deps.productName}. Signing in runs the authorization-code flow with PKCE, then shows what the app received.</p>
<a class="button" href="/demo/login">Sign in with ${deps.productName}</a>`,
      ),
    );

    app.get('/demo/login', async (_request, reply) => {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const state = randomBytes(16).toString('base64url');
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${deps.publicUrl}/demo/callback`,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      reply.setCookie(COOKIE, `${state}.${verifier}`, { path: '/demo', httpOnly: true, sameSite: 'lax', secure: deps.secureCookie, maxAge: 600 });
      return reply.redirect(url.href, 302);
    });

    app.get('/demo/callback', async (request, reply) => {
      const [state, verifier] = String(request.cookies[COOKIE] ?? '').split('.');
      if (!state || !verifier) return page(reply, 400, html`<h1>Sign-in not started here</h1><p>Start again from the <a href="/demo">demo page</a>.</p>`);
      reply.clearCookie(COOKIE, { path: '/demo' });
      const config = await configuration();
      const current = new URL(request.url, deps.publicUrl);
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: verifier, expectedState: state });
      } catch (error) {
        const message = error instanceof Error ? error.message : 'unknown error';
        return page(reply, 400, html`<h1>Sign-in did not complete</h1><div class="alert error" role="alert">${message}</div><a class="button" href="/demo">Try again</a>`);
      }
      const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
      const logout = oidc.buildEndSessionUrl(config, { client_id: DEMO_CLIENT_ID, post_logout_redirect_uri: `${deps.publicUrl}/demo` });
      return page(
        reply,
        200,
        html`<h1>Signed in</h1>
<p class="lead">The app validated this ID token and called userinfo.</p>
<h2>ID token claims</h2>
<dl class="claims" id="id-token-claims">${Object.entries(claims).map(([k, v]) => html`<dt>${k}</dt><dd>${JSON.stringify(v)}</dd>`)}</dl>
<h2>Userinfo</h2>
<pre id="userinfo">${JSON.stringify(userinfo, null, 2)}</pre>
<p>Refresh token issued: <strong>${tokens.refresh_token ? 'yes' : 'no'}</strong>. Access token expires in ${tokens.expires_in ?? '?'} s.</p>
<a class="button secondary" href="${logout.href}">Sign out</a>`,
      );
    });
  };
}
