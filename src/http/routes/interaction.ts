// The hosted login and consent pages for oidc-provider interactions. Protection runs as steps of the login flow, not by URL matching.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Clock } from '../../domain/clock.js';
import { PortcullisError } from '../../domain/errors.js';
import type { Store } from '../../store/store.js';
import type { SessionService } from '../../sessions/session-service.js';
import { transition, type LoginEvent, type LoginFlow } from '../../login/login-flow.js';
import type { FlowRepository } from '../../login/flow-repository.js';
import type { Csrf } from '../csrf.js';
import { formField, UID_PATTERN } from '../form.js';
import { consentPage, loginPage } from '../views/pages.js';
import { normaliseIp } from '../client-ip.js';
import { SESSION_COOKIE } from '../auth-session.js';
import { passwordLogin, type PasswordLoginDeps } from '../password-login.js';

export { SESSION_COOKIE };


export interface InteractionDeps {
  provider: Provider;
  store: Store;
  clock: Clock;
  csrf: Csrf;
  sessions: SessionService;
  flows: FlowRepository;
  login: PasswordLoginDeps;
  productName: string;
  interactionTtlMs: number;
  signupEnabled: boolean;
}

type UidRequest = FastifyRequest<{ Params: { uid: string } }>;

export function interactionRoutes(deps: InteractionDeps) {
  const { provider, store, clock, csrf } = deps;

  async function details(request: UidRequest, reply: FastifyReply) {
    if (!UID_PATTERN.test(request.params.uid)) throw new PortcullisError('interaction_expired');
    try {
      const found = await provider.interactionDetails(request.raw, reply.raw);
      if (found.uid !== request.params.uid) throw new Error('interaction mismatch');
      return found;
    } catch {
      throw new PortcullisError('interaction_expired');
    }
  }

  async function clientName(clientId: unknown): Promise<string> {
    const record = typeof clientId === 'string' ? await store.clients.find(clientId) : null;
    return String(record?.metadata.client_name ?? clientId ?? 'the application');
  }

  async function advance(uid: string, flow: LoginFlow, event: LoginEvent, accountId?: string): Promise<LoginFlow> {
    const result = transition(flow, event, clock.now(), accountId);
    if (!result.ok) throw new PortcullisError('interaction_expired');
    await deps.flows.save(uid, result.flow);
    return result.flow;
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, result: Parameters<Provider['interactionResult']>[2]) {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.redirect(to, 303);
  }

  function renderLogin(request: UidRequest, reply: FastifyReply, name: string, extra: { email?: string; error?: string | null; notice?: string | null }) {
    const uid = request.params.uid;
    const page = loginPage({
      productName: deps.productName,
      action: `/interaction/${uid}/login`,
      csrfToken: csrf.issue(request, reply, `login:${uid}`),
      clientName: name,
      signupUrl: deps.signupEnabled ? '/signup' : null,
      ...extra,
    });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/interaction/:uid', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      const uid = interaction.uid;
      const flow = await deps.flows.load(uid, clock.now(), deps.interactionTtlMs);
      const name = await clientName(interaction.params.client_id);
      if (interaction.prompt.name === 'login') {
        // An existing Portcullis session satisfies login unless the app forced a fresh one.
        const forced = interaction.prompt.reasons.some((r) => r === 'login_prompt' || r === 'max_age');
        const session = forced ? null : await deps.sessions.resolve(request.cookies[SESSION_COOKIE]);
        if (session && flow.state === 'credentials') {
          await advance(uid, flow, 'session_reused', session.userId);
          await store.events.append(
            { code: 'session_sso', outcome: 'success', userId: session.userId, ip: normaliseIp(request.ip), clientId: String(interaction.params.client_id) },
            clock.now(),
          );
          return finish(request, reply, { login: { accountId: session.userId, amr: ['pwd'], remember: true } });
        }
        return renderLogin(request, reply, name, {});
      }
      const scopes = String(interaction.params.scope ?? 'openid').split(' ').filter(Boolean);
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          consentPage({
            productName: deps.productName,
            action: `/interaction/${uid}/confirm`,
            abortAction: `/interaction/${uid}/abort`,
            csrfToken: csrf.issue(request, reply, `consent:${uid}`),
            clientName: name,
            scopes,
          }),
        );
    });

    app.post('/interaction/:uid/login', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      const uid = interaction.uid;
      csrf.verify(request, `login:${uid}`);
      if (interaction.prompt.name !== 'login') throw new PortcullisError('interaction_expired');
      const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
      const password = formField(request.body, 'password', { max: 1024, label: 'Password' });
      const flow = await deps.flows.load(uid, clock.now(), deps.interactionTtlMs);
      if (flow.state !== 'credentials') throw new PortcullisError('interaction_expired');
      const clientId = String(interaction.params.client_id);
      const outcome = await passwordLogin(request, reply, deps.login, { email, password, clientId });
      if (!outcome.ok) {
        if (outcome.retryAfterSeconds) reply.header('retry-after', String(outcome.retryAfterSeconds));
        await advance(uid, flow, 'password_failed');
        reply.code(outcome.status);
        return renderLogin(request, reply, await clientName(clientId), { email, error: outcome.error, notice: outcome.notice });
      }
      await advance(uid, flow, 'password_verified', outcome.userId);
      return finish(request, reply, { login: { accountId: outcome.userId, amr: ['pwd'], remember: true } });
    });

    app.post('/interaction/:uid/confirm', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      csrf.verify(request, `consent:${interaction.uid}`);
      if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw new PortcullisError('interaction_expired');
      const { grantId: existing, params, session } = interaction;
      const grant = existing
        ? await provider.Grant.find(existing)
        : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
      if (!grant) throw new PortcullisError('interaction_expired');
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      const flow = await deps.flows.load(interaction.uid, clock.now(), deps.interactionTtlMs);
      if (flow.state === 'authenticated') await advance(interaction.uid, flow, 'consent_given');
      return finish(request, reply, { consent: { grantId } });
    });

    app.post('/interaction/:uid/abort', async (request: UidRequest, reply) => {
      const interaction = await details(request, reply);
      csrf.verify(request, `consent:${interaction.uid}`);
      return finish(request, reply, { error: 'access_denied', error_description: 'The user denied access.' });
    });
  };
}
