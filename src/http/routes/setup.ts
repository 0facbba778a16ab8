// First-run setup: the printed one-time link opens a form that creates the first organization and its admin.
import { sendHtml } from '../link-pages.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isPortcullisError } from '../../domain/errors.js';
import type { AdminDeps } from '../../admin/users.js';
import { createOrg, createUser } from '../../admin/users.js';
import { consumeLink, inspectLink, LINK_MESSAGES } from '../../links/link-tokens.js';
import type { Csrf } from '../csrf.js';
import { formField } from '../form.js';
import { messagePage, setupPage } from '../views/pages.js';
import { checkNewPassword, isPlausibleEmail } from '../../authn/password-policy.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

export function setupRoutes(deps: AdminDeps & { csrf: Csrf; productName: string }) {
  const { store, clock, csrf, productName } = deps;

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/setup/:token', async (request: TokenRequest, reply) => {
      const check = await inspectLink(store.links, request.params.token, 'setup', clock.now());
      if (!check.ok) return sendHtml(reply, 410, messagePage(productName, 'Setup link unusable', `${LINK_MESSAGES[check.reason]} Restart Portcullis to print a new setup link while no user exists.`));
      const token = csrf.issue(request, reply, 'setup');
      return sendHtml(reply, 200, setupPage({ productName, action: `/setup/${request.params.token}`, csrfToken: token }));
    });

    app.post('/setup/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'setup');
      const org = formField(request.body, 'org', { max: 100, label: 'Organization name' }).trim();
      const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
      const password = formField(request.body, 'password', { max: 1024, label: 'Password' });
      const again = (error: string) =>
        sendHtml(reply, 400, setupPage({ productName, action: `/setup/${request.params.token}`, csrfToken: csrf.issue(request, reply, 'setup'), error, email, org }));
      if (!org) return again('Enter an organization name.');
      if (!isPlausibleEmail(email)) return again('Enter a valid email address.');
      const problem = checkNewPassword(password);
      if (problem) return again(problem.message);
      if ((await store.users.count()) > 0) {
        return sendHtml(reply, 410, messagePage(productName, 'Already set up', 'An account already exists, so this setup link no longer works. Sign in instead.'));
      }
      const check = await consumeLink(store.links, request.params.token, 'setup', clock.now());
      if (!check.ok) return sendHtml(reply, 410, messagePage(productName, 'Setup link unusable', LINK_MESSAGES[check.reason]));
      try {
        const created = (await store.orgs.findByName(org)) ?? (await createOrg(deps, org));
        const user = await createUser(deps, { email, password, orgName: created.name, role: 'admin', emailVerified: true });
        // The installation's first admin is also its operator (the whole console and API).
        await store.users.setOperator(user.id, true, clock.now());
        await store.events.append({ code: 'setup_completed', outcome: 'success', userId: user.id, identifier: user.email, ip: request.ip }, clock.now());
      } catch (error) {
        if (isPortcullisError(error) && error.status < 500) return again(error.publicMessage);
        throw error;
      }
      return sendHtml(reply, 201, messagePage(productName, 'Admin account created', `You can now sign in as ${email} through any application registered with ${productName}, and manage users and protections in the admin console.`, { href: '/admin', label: 'Open the admin console' }));
    });
  };
}
