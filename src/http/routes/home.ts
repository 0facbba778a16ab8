// The landing page: what this server is and where to go next.
import type { FastifyInstance } from 'fastify';
import { layout } from '../views/layout.js';
import { html } from '../views/html.js';

export function homeRoutes(deps: { productName: string; demoEnabled: boolean; issuer: string }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(
        layout({
          title: 'Home',
          productName: deps.productName,
          body: html`<h1>${deps.productName}</h1>
<p class="lead">This is an OpenID Connect identity provider. Applications send their users here to sign in.</p>
<p>Issuer: <code>${deps.issuer}</code><br><a href="${deps.issuer}/.well-known/openid-configuration">Discovery document</a></p>
${deps.demoEnabled ? html`<a class="button" href="/demo">Try a sign-in with the demo app</a>` : ''}`,
        }),
      ),
    );
  };
}
