// The hosted login steps, shared by every surface (OIDC interaction, account page): password, second factor,
// passkey offer, passkey login. Each surface only says how to find its transaction and how to hand over the user.
import { sendHtml } from '../link-pages.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../domain/clock.js';
import { PortcullisError } from '../../domain/errors.js';
import type { User } from '../../domain/types.js';
import type { Store } from '../../store/store.js';
import { startFlow, transition, type FlowLimits, type LoginEvent, type LoginFlow } from '../../login/login-flow.js';
import type { FlowRepository } from '../../login/flow-repository.js';
import type { Csrf } from '../csrf.js';
import { formField } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import { passwordLogin, rememberedRefusal, startSession, type PasswordLoginDeps, type PasswordLoginFailure } from '../password-login.js';
import { loginPage, refusedPage } from '../views/pages.js';
import { passkeyOfferPage, secondFactorPage, stepUpPage } from '../views/login-steps-pages.js';
import type { LoginRecorder, PasskeyPort, SecondFactorPort, StepUpPort } from './ports.js';
import type { RiskFacts } from '../../protection/risk/risk-guard.js';
import { ensureDeviceToken } from '../device-cookie.js';
import { CAPTCHA_FIELDS } from '../../protection/captcha/captcha-provider.js';
import { ipKey } from '../../protection/ip/ip-key.js';
import { challengeMarkup } from '../views/captcha-markup.js';
import { boundedMemo } from '../../domain/bounded-memo.js';

const CAPTCHA_FIELD_NAMES: readonly string[] = Object.values(CAPTCHA_FIELDS);
const MAX_EMAIL_CODES = 5;
const RESEND_AFTER_MS = 30_000;

/** "a•••@example.com": enough for the user to recognise the address, not enough to harvest it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}

export interface Transaction {
  /** Identifies the login transaction (binds flows, CAPTCHA solutions and WebAuthn challenges). */
  key: string;
  clientName: string;
  clientId: string | null;
  /** Opened just now (a new key): nothing can be stored under it yet, so there is nothing to read. */
  fresh?: boolean;
}

export interface LoginSurface {
  /** Route paths (Fastify patterns) of this surface's steps. */
  paths: { page: string; password: string; secondFactor: string; offerDecline: string; offerOptions: string; offerVerify: string; passkeyOptions: string; passkeyVerify: string };
  /** Concrete URLs for the current transaction, for forms and scripts. */
  urls(tx: Transaction): LoginSurface['paths'];
  csrfScope(tx: Transaction): string;
  open(request: FastifyRequest, reply: FastifyReply): Promise<Transaction>;
  /** Hands the authenticated user to whoever asked (finishes the OIDC interaction, or goes to `next`); returns the URL to go to. */
  complete(request: FastifyRequest, reply: FastifyReply, tx: Transaction, userId: string, amr: string[]): Promise<string>;
  /** Lets a surface render something else for a GET (e.g. OIDC consent); null to show the login step. */
  intercept?(request: FastifyRequest, reply: FastifyReply, tx: Transaction, flow: LoginFlow): Promise<FastifyReply | null>;
}

export interface LoginStepDeps {
  store: Store;
  clock: Clock;
  csrf: Csrf;
  flows: FlowRepository;
  login: PasswordLoginDeps;
  secondFactor: SecondFactorPort;
  passkeys: PasskeyPort | null;
  /** Null when risk assessment is off (nothing then asks for a step-up). */
  stepUp: StepUpPort | null;
  /** Null when risk assessment is off. */
  recorder: LoginRecorder | null;
  productName: string;
  flowTtlMs: number;
  flowLimits: FlowLimits;
  signupEnabled: boolean;
}

/** The page script (web/passkeys.ts) posts {csrf, response}: the WebAuthn response JSON is the `response` member. */
const requestContext = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });

export function webauthnResponseOf(body: unknown): unknown {
  return body !== null && typeof body === 'object' ? (body as { response?: unknown }).response : undefined;
}


export function loginStepRoutes(surface: LoginSurface, deps: LoginStepDeps) {
  const { clock, csrf, flows } = deps;

  async function load(tx: Transaction): Promise<LoginFlow> {
    if (tx.fresh) return startFlow(clock.now(), deps.flowTtlMs);
    return flows.load(tx.key, clock.now(), deps.flowTtlMs);
  }

  /** The flow after `event`, not yet saved; an impossible or late step ends the sign-in. */
  function moved(flow: LoginFlow, event: LoginEvent, data: Parameters<typeof transition>[3] = {}): LoginFlow {
    const result = transition(flow, event, clock.now(), data, deps.flowLimits);
    if (!result.ok) {
      throw new PortcullisError('interaction_expired', {
        message: result.reason === 'step_deadline' ? 'The time to enter your code ran out. Start signing in again.' : undefined,
      });
    }
    return result.flow;
  }

  async function advance(tx: Transaction, flow: LoginFlow, event: LoginEvent, data: Parameters<typeof transition>[3] = {}): Promise<LoginFlow> {
    const next = moved(flow, event, data);
    await flows.save(tx.key, next);
    return next;
  }

  async function user(flow: LoginFlow): Promise<User> {
    const found = flow.accountId ? await deps.store.users.findById(flow.accountId) : null;
    if (!found || found.disabled) throw new PortcullisError('interaction_expired');
    return found;
  }

  /**
   * Moves an authenticated flow past the optional steps, then starts the session and hands over; returns the next URL.
   * `flow` may be unsaved (the step that led here): proceed saves once, where the sign-in stops or before the session
   * starts. `known` carries what the calling step already loaded, so nothing is read twice; `passwordStep` is set by
   * the password step, whose success is recorded here: `login_success` when the session starts, `mfa_required` when a
   * second factor must come first (its own step then leads back here, and the session start records the success).
   */
  async function proceed(
    request: FastifyRequest,
    reply: FastifyReply,
    tx: Transaction,
    flow: LoginFlow,
    known: { unsaved?: boolean; account?: User; riskFacts?: RiskFacts; passwordStep?: { captchaRequired: boolean } } = {},
  ): Promise<string> {
    let current = flow;
    let unsaved = known.unsaved ?? false;
    let account = known.account && known.account.id === flow.accountId ? known.account : null;
    const theAccount = async (): Promise<User> => (account ??= await user(current));
    const step = (event: LoginEvent) => {
      current = moved(current, event);
      unsaved = true;
    };
    // Without TOTP the second factor is skipped, unless risk assessment asked for one (a passkey or an emailed code then).
    if (current.state === 'second_factor' && !(current.stepUp && deps.stepUp) && !(await deps.secondFactor.enrolled((await theAccount()).id))) step('second_factor_not_enrolled');
    if (current.state === 'passkey_offer' && !(deps.passkeys && (await deps.passkeys.shouldOffer((await theAccount()).id)))) step('offer_not_needed');
    if (current.state !== 'authenticated') {
      if (unsaved) await flows.save(tx.key, current);
      if (known.passwordStep && current.state === 'second_factor') await passwordEvent(request, tx, await theAccount(), 'mfa_required', { step_up: current.stepUp, captcha_required: known.passwordStep.captchaRequired });
      return surface.urls(tx).page;
    }
    const signedIn = await theAccount();
    // Saved as finished before the session starts, so the transaction cannot start a second one.
    await flows.save(tx.key, moved(current, 'finished'));
    await startSession(request, reply, deps.login, signedIn);
    if (current.amr.includes('pwd')) {
      await passwordEvent(request, tx, signedIn, 'login_success', { amr: current.amr, ...(known.passwordStep ? { captcha_required: known.passwordStep.captchaRequired } : {}) });
    }
    await deps.recorder?.recordLogin(signedIn, {
      ip: normaliseIp(request.ip),
      userAgent: request.headers['user-agent'] ?? null,
      deviceToken: ensureDeviceToken(request, reply, deps.login.sessionCookie.secure),
      amr: current.amr,
      riskFacts: known.riskFacts,
    });
    return surface.complete(request, reply, tx, signedIn.id, current.amr);
  }

  /** An event of a sign-in that began with a password (reason `password`). */
  function passwordEvent(request: FastifyRequest, tx: Transaction, account: User, code: 'login_success' | 'mfa_required', details: Record<string, unknown>) {
    const { ip, userAgent } = requestContext(request);
    return deps.store.events.append(
      { code, outcome: code === 'login_success' ? 'success' : 'info', reason: 'password', userId: account.id, identifier: account.email, ip, userAgent, clientId: tx.clientId, details },
      clock.now(),
    );
  }

  /** The step-up code is emailed once per sign-in, and again only when it expired. */
  async function ensureEmailCode(request: FastifyRequest, tx: Transaction, flow: LoginFlow, account: User, resend = false): Promise<LoginFlow> {
    const stepUp = deps.stepUp as StepUpPort;
    const now = clock.now();
    const existing = flow.emailCode;
    if (existing && existing.expiresAt > now && !resend) return flow;
    if (existing && (existing.sends >= MAX_EMAIL_CODES || now - existing.sentAt < RESEND_AFTER_MS)) return flow;
    const sent = await stepUp.sendEmailCode(account, { ip: normaliseIp(request.ip) });
    return advance(tx, flow, 'email_code_sent', { emailCode: { ...sent, sentAt: now, sends: (existing?.sends ?? 0) + 1 } });
  }

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
      const next = moved(flow, 'password_verified', { accountId: outcome.user.id, amr: ['pwd'], stepUp: outcome.stepUp });
      return reply.redirect(await proceed(request, reply, tx, next, { unsaved: true, account: outcome.user, riskFacts: outcome.riskFacts, passwordStep: { captchaRequired: outcome.captchaRequired } }), 303);
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
