// The OIDC surface of the hosted login: binds each login transaction to an oidc-provider interaction, adds SSO and consent.
import { withoutAdminScopes } from '../../admin/principal.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Clock } from '../../domain/clock.js';
import { PortcullisError } from '../../domain/errors.js';
import type { Store } from '../../store/store.js';
import type { SessionService } from '../../sessions/session-service.js';
import { transition } from '../../login/login-flow.js';
import type { FlowRepository } from '../../login/flow-repository.js';
import type { Csrf } from '../csrf.js';
import { UID_PATTERN } from '../form.js';
import { consentPage } from '../views/pages.js';
import { normaliseIp } from '../client-ip.js';
import { SESSION_COOKIE } from '../auth-session.js';
import { loginStepRoutes, type LoginStepDeps, type LoginSurface, type Transaction } from '../login/login-steps.js';

export { SESSION_COOKIE };

export interface InteractionDeps {
  provider: Provider;
  store: Store;
  clock: Clock;
  csrf: Csrf;
  sessions: SessionService;
  flows: FlowRepository;
  productName: string;
  steps: Omit<LoginStepDeps, 'flows'>;
}

type UidRequest = FastifyRequest<{ Params: { uid: string } }>;

export function interactionRoutes(deps: InteractionDeps) {
  const { provider, store, clock, csrf } = deps;

  async function details(request: FastifyRequest, reply: FastifyReply) {
    const uid = (request.params as { uid?: string }).uid ?? '';
    if (!UID_PATTERN.test(uid)) throw new PortcullisError('interaction_expired');
    try {
      const found = await provider.interactionDetails(request.raw, reply.raw);
      if (found.uid !== uid) throw new Error('interaction mismatch');
      return found;
    } catch {
      throw new PortcullisError('interaction_expired');
    }
  }

  async function clientName(clientId: unknown): Promise<string> {
    const record = typeof clientId === 'string' ? await store.clients.find(clientId) : null;
    return String(record?.metadata.client_name ?? clientId ?? 'the application');
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, result: Parameters<Provider['interactionResult']>[2]): Promise<string> {
    return provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
  }

  const base = '/interaction/:uid';
  const surface: LoginSurface = {
    paths: {
      page: base,
      password: `${base}/login`,
      secondFactor: `${base}/mfa`,
      offerDecline: `${base}/passkey-offer/decline`,
      offerOptions: `${base}/passkey-offer/options`,
      offerVerify: `${base}/passkey-offer/verify`,
      passkeyOptions: `${base}/passkey/options`,
      passkeyVerify: `${base}/passkey/verify`,
    },
    urls: (tx) => {
      const b = `/interaction/${tx.key}`;
      return {
        page: b,
        password: `${b}/login`,
        secondFactor: `${b}/mfa`,
        offerDecline: `${b}/passkey-offer/decline`,
        offerOptions: `${b}/passkey-offer/options`,
        offerVerify: `${b}/passkey-offer/verify`,
        passkeyOptions: `${b}/passkey/options`,
        passkeyVerify: `${b}/passkey/verify`,
      };
    },
    csrfScope: (tx) => `login:${tx.key}`,
    async open(request, reply): Promise<Transaction> {
      const interaction = await details(request, reply);
      // Login steps only belong to the login prompt; the consent prompt has its own routes below.
      if (request.method === 'POST' && interaction.prompt.name !== 'login') throw new PortcullisError('interaction_expired');
      return { key: interaction.uid, clientName: await clientName(interaction.params.client_id), clientId: String(interaction.params.client_id) };
    },
    complete: (request, reply, _tx, userId, amr) => finish(request, reply, { login: { accountId: userId, amr, remember: true } }),
    async intercept(request, reply, tx, flow) {
      const interaction = await details(request, reply);
      if (interaction.prompt.name === 'login') {
        // An existing Portcullis session satisfies login unless the app forced a fresh one.
        const forced = interaction.prompt.reasons.some((r) => r === 'login_prompt' || r === 'max_age');
        const session = forced || flow.state !== 'credentials' ? null : await deps.sessions.resolve(request.cookies[SESSION_COOKIE]);
        if (!session) return null;
        const result = transition(flow, 'session_reused', clock.now(), { accountId: session.userId });
        if (result.ok) await deps.flows.save(tx.key, { ...result.flow, state: 'completed' });
        await store.events.append({ code: 'session_sso', outcome: 'success', userId: session.userId, ip: normaliseIp(request.ip), clientId: tx.clientId }, clock.now());
        return reply.redirect(await finish(request, reply, { login: { accountId: session.userId, amr: ['pwd'], remember: true } }), 303);
      }
      const scopes = String(interaction.params.scope ?? 'openid').split(' ').filter(Boolean);
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          consentPage({
            productName: deps.productName,
            action: `/interaction/${tx.key}/confirm`,
            abortAction: `/interaction/${tx.key}/abort`,
            csrfToken: csrf.issue(request, reply, `consent:${tx.key}`),
            clientName: tx.clientName,
            scopes,
          }),
        );
    },
  };

  return async (app: FastifyInstance): Promise<void> => {
    await app.register(loginStepRoutes(surface, { ...deps.steps, flows: deps.flows }));

    app.post('/interaction/:uid/confirm', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      csrf.verify(request, `consent:${interaction.uid}`);
      if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw new PortcullisError('interaction_expired');
      const { grantId: existing, params, session } = interaction;
      const grant = existing ? await provider.Grant.find(existing) : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
      if (!grant) throw new PortcullisError('interaction_expired');
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(withoutAdminScopes(missing.missingOIDCScope.join(' ')));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      return reply.redirect(await finish(request, reply, { consent: { grantId } }), 303);
    });

    app.post('/interaction/:uid/abort', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      csrf.verify(request, `consent:${interaction.uid}`);
      return reply.redirect(await finish(request, reply, { error: 'access_denied', error_description: 'The user denied access.' }), 303);
    });
  };
}
