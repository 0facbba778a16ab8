// The account page's 2FA and passkey actions: enroll TOTP, make recovery codes, add, rename and delete passkeys.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError, isPortcullisError } from '../../domain/errors.js';
import type { AccountDeps } from '../../account/account-deps.js';
import { confirmTotpEnrollment, regenerateRecoveryCodes, resumeTotpEnrollment, startTotpEnrollment } from '../../account/two-factor.js';
import { beginPasskeyRegistration, finishPasskeyRegistration, listPasskeys, removePasskey, renamePasskey, PASSKEY_MESSAGES } from '../../account/passkeys.js';
import type { RelyingParty } from '../../authn/webauthn.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { Csrf } from '../csrf.js';
import { formField } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import { currentUser, type SignedIn } from '../auth-session.js';
import { webauthnResponseOf } from '../login/login-steps.js';
import { confirmDeletePasskeyPage, recoveryCodesPage, totpEnrollPage } from '../views/account-pages.js';
import { errorPage } from '../views/pages.js';
import { sendHtml } from './signup.js';

export interface AccountSecurityDeps {
  account: AccountDeps;
  sessions: SessionService;
  csrf: Csrf;
  productName: string;
  rp: RelyingParty;
  passkeysEnabled: boolean;
}

const CREDENTIAL_ID = /^[A-Za-z0-9_-]{16,1400}$/;

export function accountSecurityRoutes(deps: AccountSecurityDeps) {
  const { account, csrf, productName } = deps;
  const context = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });

  /** Every action needs a live session and this form's CSRF token. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | null> {
    const found = await currentUser(request, deps.sessions, account.store.users);
    if (!found) {
      await reply.redirect('/login?next=/account', 303);
      return null;
    }
    csrf.verify(request, 'account');
    return found;
  }

  function backWithError(reply: FastifyReply, status: number, message: string) {
    return sendHtml(reply, status, errorPage(productName, status, `${message} Go back to your account page and try again.`));
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.post('/account/2fa/start', async (request, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      // Re-check the password so a borrowed session cannot enroll its own authenticator and lock the owner out.
      const current = formField(request.body, 'current', { max: 1024, label: 'Current password' });
      const ok = me.user.passwordHash ? await account.hasher.verify(me.user.passwordHash, current) : false;
      if (!ok) return backWithError(reply, 400, 'Your current password is not correct.');
      const enrollment = await startTotpEnrollment(account, me.user);
      return sendHtml(reply, 200, totpEnrollPage({ productName, csrfToken: csrf.issue(request, reply, 'account'), qrSvg: enrollment.qrSvg, secret: enrollment.secret }));
    });

    app.post('/account/2fa/confirm', async (request, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      const code = formField(request.body, 'code', { max: 20, label: 'Code' }).replace(/\s+/g, '');
      try {
        const { recoveryCodes } = await confirmTotpEnrollment(account, me.user, code, context(request));
        return sendHtml(reply, 200, recoveryCodesPage({ productName, codes: recoveryCodes, heading: 'Two-step verification is on' }));
      } catch (error) {
        if (!isPortcullisError(error) || error.status >= 500) throw error;
        const pending = await account.store.mfa.getTotp(me.user.id);
        if (!pending?.pendingSecret) return backWithError(reply, 400, error.publicMessage);
        const enrollment = await resumeTotpEnrollment(account, me.user);
        return sendHtml(reply, 400, totpEnrollPage({ productName, csrfToken: csrf.issue(request, reply, 'account'), qrSvg: enrollment.qrSvg, secret: enrollment.secret, error: error.publicMessage }));
      }
    });

    app.post('/account/2fa/recovery-codes', async (request, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      const code = formField(request.body, 'code', { max: 20, label: 'Code' }).replace(/\s+/g, '');
      try {
        const { recoveryCodes } = await regenerateRecoveryCodes(account, me.user, code, context(request));
        return sendHtml(reply, 200, recoveryCodesPage({ productName, codes: recoveryCodes, heading: 'New recovery codes' }));
      } catch (error) {
        if (isPortcullisError(error) && error.status < 500) return backWithError(reply, error.status, error.publicMessage);
        throw error;
      }
    });

    if (!deps.passkeysEnabled) return;

    app.post('/account/passkeys/options', async (request, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      const limit = await account.store.buckets.take(`passkey-options:${me.user.id}`, 20, 30_000, account.clock.now());
      if (!limit.allowed) throw new PortcullisError('rate_limited', { message: 'Too many attempts. Wait a little, then try again.' });
      return reply.send(await beginPasskeyRegistration(account, me.user, deps.rp, `account:${me.session.id}`));
    });

    app.post('/account/passkeys/verify', async (request, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      const result = await finishPasskeyRegistration(account, me.user, deps.rp, `account:${me.session.id}`, webauthnResponseOf(request.body), context(request));
      if (!result.ok) return reply.code(400).send({ error: 'passkey_not_created', message: PASSKEY_MESSAGES[result.reason] ?? 'The passkey could not be created.' });
      return reply.send({ redirect: '/account?done=passkey' });
    });

    app.get('/account/passkeys/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const me = await currentUser(request, deps.sessions, account.store.users);
      if (!me) return reply.redirect('/login?next=/account', 303);
      const passkey = (await listPasskeys(account, me.user)).find((p) => p.credentialId === request.params.id);
      if (!passkey) throw new PortcullisError('not_found');
      return sendHtml(reply, 200, confirmDeletePasskeyPage({ productName, csrfToken: csrf.issue(request, reply, 'account'), id: passkey.credentialId, name: passkey.name }));
    });

    app.post('/account/passkeys/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      if (CREDENTIAL_ID.test(request.params.id)) await removePasskey(account, me.user, request.params.id, context(request));
      return reply.redirect('/account?done=passkey_removed', 303);
    });

    app.post('/account/passkeys/:id/rename', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const me = await signedIn(request, reply);
      if (!me) return reply;
      const name = formField(request.body, 'name', { max: 64, label: 'Passkey name' }).trim();
      if (!name) return backWithError(reply, 400, 'Give the passkey a name.');
      if (CREDENTIAL_ID.test(request.params.id)) await renamePasskey(account, me.user, request.params.id, name, context(request));
      return reply.redirect('/account?done=passkey_renamed', 303);
    });
  };
}
