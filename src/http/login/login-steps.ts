// The hosted login steps, shared by every surface (OIDC interaction, account page): password, second factor,
// passkey offer, passkey login. Each surface only says how to find its transaction and how to hand over the user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../domain/errors.js';
import type { User } from '../../domain/types.js';
import type { LoginFlow } from '../../login/login-flow.js';
import { formField } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import { passwordLogin, rememberedRefusal } from '../password-login.js';
import type { StepUpPort } from './ports.js';
import { CAPTCHA_FIELDS } from '../../protection/captcha/captcha-provider.js';
import { ipKey } from '../../protection/ip/ip-key.js';
import { requestContext, webauthnResponseOf, type LoginStepDeps, type LoginSurface, type Transaction } from './surface.js';
import { createStepFlow } from './step-flow.js';
import { createStepPages } from './step-pages.js';

export { maskEmail, webauthnResponseOf, type LoginStepDeps, type LoginSurface, type Transaction } from './surface.js';

const CAPTCHA_FIELD_NAMES: readonly string[] = Object.values(CAPTCHA_FIELDS);

export function loginStepRoutes(surface: LoginSurface, deps: LoginStepDeps) {
  const { clock, csrf } = deps;
  const steps = createStepFlow(surface, deps);
  const { load, moved, advance, user, proceed, ensureEmailCode } = steps;
  const { renderPassword, renderRefusal, renderStep } = createStepPages(surface, deps, steps);

  /** The emailed step-up code: same attempt caps as TOTP; "Send a new code" at most every 30 s and 5 times per sign-in. */
  async function verifyEmailCode(request: FastifyRequest, reply: FastifyReply, tx: Transaction, flow: LoginFlow, account: User) {
    const stepUp = deps.stepUp as StepUpPort;
    if (formField(request.body, 'resend', { max: 5, required: false, label: 'Resend' })) {
      const next = await ensureEmailCode(request, tx, flow, account, true);
      const sent = next.emailCode !== flow.emailCode;
      return renderStep(request, reply, tx, next, sent ? 200 : 429, sent ? null : 'A code was sent moments ago, or too many were sent for this sign-in. Check your inbox and spam folder.');
    }
    const code = formField(request.body, 'code', { max: 20, required: false, label: 'Code' }).replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) return renderStep(request, reply, tx, flow, 400, 'Enter the 6-digit code from the email we sent you.');
    if (!(await deps.secondFactor.takeAttempt(account.id))) {
      await deps.store.events.append({ code: 'mfa_attempts_exceeded', outcome: 'failure', userId: account.id, ip: normaliseIp(request.ip), reason: 'hourly_cap' }, clock.now());
      await advance(tx, flow, 'aborted');
      throw new PortcullisError('rate_limited', { message: 'Too many verification attempts in the last hour. Wait a while, then sign in again.' });
    }
    const stored = flow.emailCode;
    const ok = stored !== null && stored.expiresAt > clock.now() && stepUp.emailCodeMatches(account, code, stored);
    const ip = normaliseIp(request.ip);
    const userAgent = request.headers['user-agent'] ?? null;
    if (!ok) {
      await deps.store.events.append({ code: 'mfa_challenge_failed', outcome: 'failure', userId: account.id, ip, userAgent, reason: stored && stored.expiresAt <= clock.now() ? 'email_code_expired' : 'email_code_wrong' }, clock.now());
      const next = await advance(tx, flow, 'second_factor_failed');
      if (next.state === 'aborted') throw new PortcullisError('interaction_expired', { message: 'Too many wrong codes. This sign-in has ended; start again.' });
      return renderStep(request, reply, tx, next, 401, 'That code is not valid or has expired. Check the latest email from us, or send a new code.');
    }
    await deps.store.events.append({ code: 'mfa_challenge_passed', outcome: 'success', userId: account.id, ip, userAgent, reason: 'email_code' }, clock.now());
    return reply.redirect(await proceed(request, reply, tx, moved(flow, 'second_factor_passed', { amr: ['otp'] }), { unsaved: true, account }), 303);
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.get(surface.paths.page, async (request, reply) => {
      const tx = await surface.open(request, reply);
      const flow = await load(tx);
      const intercepted = await surface.intercept?.(request, reply, tx, flow);
      // A Fastify reply is thenable, so awaiting one that was sent resolves to undefined: check `sent` too.
      if (intercepted || reply.sent) return reply;
      if (flow.state === 'authenticated') return reply.redirect(await proceed(request, reply, tx, flow), 303);
      return renderStep(request, reply, tx, flow);
    });

    app.post(surface.paths.password, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
      const password = formField(request.body, 'password', { max: 1024, label: 'Password' });
      const remembered = rememberedRefusal(request, deps.login, email);
      if (remembered) return renderRefusal(reply, tx, remembered);
      const flow = await load(tx);
      if (flow.state !== 'credentials') throw new PortcullisError('interaction_expired');
      const body = request.body as Record<string, unknown>;
      const captcha = Object.fromEntries(CAPTCHA_FIELD_NAMES.map((name) => [name, typeof body[name] === 'string' ? (body[name] as string).slice(0, 20_000) : undefined]));
      const outcome = await passwordLogin(request, reply, deps.login, { email, password, clientId: tx.clientId, transactionId: tx.key, captcha, proof: body.proof });
      if (!outcome.ok) {
        if (outcome.refused) return renderRefusal(reply, tx, outcome);
        if (outcome.retryAfterSeconds) reply.header('retry-after', String(outcome.retryAfterSeconds));
        if (!outcome.challenge) await advance(tx, flow, 'password_failed');
        return renderPassword(request, reply, tx, outcome.status, { email, error: outcome.error, notice: outcome.notice }, outcome.challenge ?? false);
      }
      const next = moved(flow, 'password_verified', { accountId: outcome.user.id, amr: ['pwd'], stepUp: outcome.stepUp, captchaRequired: outcome.captchaRequired });
      return reply.redirect(await proceed(request, reply, tx, next, { unsaved: true, account: outcome.user, riskFacts: outcome.riskFacts, passwordStep: true }), 303);
    });

    app.post(surface.paths.secondFactor, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const flow = await load(tx);
      if (flow.state !== 'second_factor') throw new PortcullisError('interaction_expired');
      const account = await user(flow);
      if (flow.stepUp && deps.stepUp && !(await deps.secondFactor.enrolled(account.id))) return verifyEmailCode(request, reply, tx, flow, account);
      const code = formField(request.body, 'code', { max: 20, required: false, label: 'Code' }).replace(/\s+/g, '');
      const recoveryCode = formField(request.body, 'recovery_code', { max: 40, required: false, label: 'Recovery code' }).trim();
      if (!code && !recoveryCode) return renderStep(request, reply, tx, flow, 400, 'Enter the code from your authenticator app, or a recovery code.');
      if (!(await deps.secondFactor.takeAttempt(account.id))) {
        await deps.store.events.append({ code: 'mfa_attempts_exceeded', outcome: 'failure', userId: account.id, ip: normaliseIp(request.ip), reason: 'hourly_cap' }, clock.now());
        await advance(tx, flow, 'aborted');
        throw new PortcullisError('rate_limited', { message: 'Too many verification attempts in the last hour. Wait a while, then sign in again.' });
      }
      // The use-case records mfa_challenge_passed / mfa_challenge_failed; this step adds only the transaction's end.
      const verdict = await deps.secondFactor.verify(account, code ? { code } : { recoveryCode }, { ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });
      if (!verdict.ok) {
        const next = await advance(tx, flow, 'second_factor_failed');
        if (next.state === 'aborted') {
          await deps.store.events.append({ code: 'mfa_attempts_exceeded', outcome: 'failure', userId: account.id, ip: normaliseIp(request.ip), reason: 'per_transaction_cap' }, clock.now());
          throw new PortcullisError('interaction_expired', { message: 'Too many wrong codes. This sign-in has ended; start again.' });
        }
        return renderStep(request, reply, tx, next, 401, 'That code is not valid. Check the time on your device and try again.');
      }
      return reply.redirect(await proceed(request, reply, tx, moved(flow, 'second_factor_passed', { amr: ['otp'] }), { unsaved: true, account }), 303);
    });

    app.post(surface.paths.offerDecline, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const flow = await load(tx);
      if (flow.state !== 'passkey_offer') throw new PortcullisError('interaction_expired');
      await deps.passkeys?.snoozeOffer((await user(flow)).id);
      return reply.redirect(await proceed(request, reply, tx, moved(flow, 'offer_declined'), { unsaved: true }), 303);
    });

    app.get(`${surface.paths.page}/captcha/image`, async (request, reply) => {
      const tx = await surface.open(request, reply);
      const bot = deps.login.attempt.bot;
      if (!bot || bot.mode('login') === 'never') throw new PortcullisError('not_found');
      // New images are rate-limited per transaction and per IP, so the endpoint cannot fill the store.
      const now = clock.now();
      const perTx = await deps.store.buckets.take(`captcha-image:${tx.key}`, 10, 30_000, now);
      const perIp = perTx.allowed ? await deps.store.buckets.take(`captcha-image-ip:${ipKey(normaliseIp(request.ip))}`, 30, 10_000, now) : perTx;
      if (!perIp.allowed) throw new PortcullisError('rate_limited', { message: 'Too many new images. Wait a little, then try again.' });
      const challenge = await bot.issuePrimary(tx.key, clock.now());
      return reply.header('cache-control', 'no-store').send({ id: challenge.id, svg: challenge.imageSvg ?? '' });
    });

    if (!deps.passkeys) return;
    const passkeys = deps.passkeys;

    app.post(surface.paths.offerOptions, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const flow = await load(tx);
      if (flow.state !== 'passkey_offer') throw new PortcullisError('interaction_expired');
      return reply.send(await passkeys.registrationOptions(await user(flow), tx.key));
    });

    app.post(surface.paths.offerVerify, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const flow = await load(tx);
      if (flow.state !== 'passkey_offer') throw new PortcullisError('interaction_expired');
      const result = await passkeys.registrationVerify(await user(flow), tx.key, webauthnResponseOf(request.body), request.headers['user-agent'] ?? null);
      if (!result.ok) return reply.code(400).send({ error: 'passkey_not_created', message: 'The passkey could not be created. You can try again or choose "Not now".' });
      return reply.send({ redirect: await proceed(request, reply, tx, moved(flow, 'offer_accepted'), { unsaved: true }) });
    });

    /** A risky password login asked for a second factor: the account's own passkey satisfies it (anyone else's does not). */
    async function stepUpWithPasskey(request: FastifyRequest, reply: FastifyReply, tx: Transaction, flow: LoginFlow) {
      const account = await user(flow);
      const result = await passkeys.loginVerify(tx.key, webauthnResponseOf(request.body), { ...requestContext(request), expectedUserId: account.id });
      if (!result.ok || result.user.id !== account.id) {
        await advance(tx, flow, 'second_factor_failed');
        return reply.code(401).send({ error: 'passkey_failed', message: 'That passkey does not belong to this account. Use your own passkey, or the code we emailed you.' });
      }
      return reply.send({ redirect: await proceed(request, reply, tx, moved(flow, 'second_factor_passed', { amr: result.amr }), { unsaved: true, account }) });
    }

    app.post(surface.paths.passkeyOptions, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      return reply.send(await passkeys.loginOptions(tx.key));
    });

    app.post(surface.paths.passkeyVerify, async (request, reply) => {
      const tx = await surface.open(request, reply);
      csrf.verify(request, surface.csrfScope(tx));
      const flow = await load(tx);
      if (flow.state === 'second_factor' && flow.stepUp) return stepUpWithPasskey(request, reply, tx, flow);
      if (flow.state !== 'credentials') throw new PortcullisError('interaction_expired');
      // A passkey cannot be brute-forced, so the password block does not apply; it satisfies MFA and skips risk checks.
      const result = await passkeys.loginVerify(tx.key, webauthnResponseOf(request.body), requestContext(request));
      if (!result.ok) return reply.code(401).send({ error: 'passkey_failed', message: 'That passkey could not be verified. Try again or sign in with your password.' });
      return reply.send({ redirect: await proceed(request, reply, tx, moved(flow, 'passkey_verified', { accountId: result.user.id, amr: result.amr }), { unsaved: true, account: result.user }) });
    });
  };
}
