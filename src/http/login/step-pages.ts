// The pages of the login steps for one surface: the password form, a refusal, and whichever step the flow is at.
import { sendHtml } from '../link-pages.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../domain/errors.js';
import type { LoginFlow } from '../../login/login-flow.js';
import type { PasswordLoginFailure } from '../password-login.js';
import { loginPage, refusedPage } from '../views/pages.js';
import { passkeyOfferPage, secondFactorPage, stepUpPage } from '../views/login-steps-pages.js';
import { challengeMarkup } from '../views/captcha-markup.js';
import { boundedMemo } from '../../domain/bounded-memo.js';
import { maskEmail, type LoginStepDeps, type LoginSurface, type Transaction } from './surface.js';
import type { StepFlow } from './step-flow.js';

export function createStepPages(surface: LoginSurface, deps: LoginStepDeps, steps: Pick<StepFlow, 'user' | 'ensureEmailCode'>) {
  const { clock, csrf } = deps;
  const { user, ensureEmailCode } = steps;

  async function renderPassword(
    request: FastifyRequest,
    reply: FastifyReply,
    tx: Transaction,
    status: number,
    extra: { email?: string; error?: string | null; notice?: string | null } = {},
    withChallenge = false,
  ) {
    const urls = surface.urls(tx);
    const now = clock.now();
    const bot = deps.login.attempt.bot;
    const proof = bot && bot.mode('login') !== 'never' ? bot.proofChallenge(tx.key, now) : null;
    const challenge = bot && (withChallenge || bot.mode('login') === 'always') ? challengeMarkup(await bot.issue(tx.key, now), tx, `${urls.page}/captcha/image`) : null;
    return sendHtml(
      reply,
      status,
      loginPage({
        productName: deps.productName,
        action: urls.password,
        csrfToken: csrf.issue(request, reply, surface.csrfScope(tx)),
        clientName: tx.clientName,
        signupUrl: deps.signupEnabled ? '/signup' : null,
        passkey: deps.passkeys ? { optionsUrl: urls.passkeyOptions, verifyUrl: urls.passkeyVerify } : null,
        proof: proof ? { nonce: proof.nonce, transactionId: tx.key } : null,
        challenge,
        ...extra,
      }),
    );
  }

  // During a flood the same few refusal pages are sent over and over: kept rendered, per (message, back link).
  const refusalPages = boundedMemo<string>(256);

  /** A refused attempt checked no password and changes nothing in the transaction: a small page, no flow write. */
  function renderRefusal(reply: FastifyReply, tx: Transaction, outcome: PasswordLoginFailure) {
    if (outcome.retryAfterSeconds) reply.header('retry-after', String(outcome.retryAfterSeconds));
    const message = outcome.error ?? '';
    const backUrl = surface.urls(tx).page;
    const page = refusalPages.get(`${message}\n${backUrl}`, () => refusedPage({ productName: deps.productName, message, backUrl }));
    return sendHtml(reply, outcome.status, page);
  }

  async function renderStep(request: FastifyRequest, reply: FastifyReply, tx: Transaction, flow: LoginFlow, status = 200, error: string | null = null) {
    const urls = surface.urls(tx);
    const token = csrf.issue(request, reply, surface.csrfScope(tx));
    if (flow.state === 'second_factor') {
      const attemptsLeft = deps.flowLimits.secondFactorMaxAttempts - flow.secondFactorAttempts;
      const account = await user(flow);
      const common = { productName: deps.productName, action: urls.secondFactor, csrfToken: token, error, attemptsLeft };
      if (!flow.stepUp || !deps.stepUp || (await deps.secondFactor.enrolled(account.id))) return sendHtml(reply, status, secondFactorPage(common));
      const current = await ensureEmailCode(request, tx, flow, account);
      const passkey = deps.passkeys && (await deps.stepUp.hasPasskeys(account.id)) ? { optionsUrl: urls.passkeyOptions, verifyUrl: urls.passkeyVerify } : null;
      return sendHtml(reply, status, stepUpPage({ ...common, attemptsLeft: deps.flowLimits.secondFactorMaxAttempts - current.secondFactorAttempts, email: maskEmail(account.email), passkey }));
    }
    if (flow.state === 'passkey_offer') {
      return sendHtml(reply, status, passkeyOfferPage({ productName: deps.productName, csrfToken: token, declineAction: urls.offerDecline, optionsUrl: urls.offerOptions, verifyUrl: urls.offerVerify }));
    }
    if (flow.state === 'aborted' || flow.state === 'completed') throw new PortcullisError('interaction_expired');
    return renderPassword(request, reply, tx, status);
  }

  return { renderPassword, renderRefusal, renderStep };
}
