// The login flow's moves for one surface: loading, advancing and saving the flow, and finishing a sign-in
// (optional steps, session start, events) once the user is authenticated.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../domain/errors.js';
import type { User } from '../../domain/types.js';
import { startFlow, transition, type LoginEvent, type LoginFlow } from '../../login/login-flow.js';
import { normaliseIp } from '../client-ip.js';
import { startSession } from '../password-login.js';
import type { RiskFacts } from '../../protection/risk/risk-guard.js';
import { ensureDeviceToken } from '../device-cookie.js';
import type { StepUpPort } from './ports.js';
import { requestContext, type LoginStepDeps, type LoginSurface, type Transaction } from './surface.js';

const MAX_EMAIL_CODES = 5;
const RESEND_AFTER_MS = 30_000;

export type StepFlow = ReturnType<typeof createStepFlow>;

export function createStepFlow(surface: LoginSurface, deps: LoginStepDeps) {
  const { clock, flows } = deps;

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
   * the password step, whose success is recorded here: `login_success` as the session starts, `mfa_required` when a
   * second factor must come first (its own step then leads back here, and the session start records the success).
   */
  async function proceed(
    request: FastifyRequest,
    reply: FastifyReply,
    tx: Transaction,
    flow: LoginFlow,
    known: { unsaved?: boolean; account?: User; riskFacts?: RiskFacts; passwordStep?: boolean } = {},
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
      if (known.passwordStep && current.state === 'second_factor') await signInEvent(request, tx, await theAccount(), 'mfa_required', 'password', { step_up: current.stepUp, captcha_required: current.captchaRequired ?? false });
      return surface.urls(tx).page;
    }
    const signedIn = await theAccount();
    // Saved as finished before the session starts, and claimed in the same statement: of several requests racing to
    // finish one transaction (a double-submitted or replayed POST), only the first starts a session.
    if (!(await flows.finish(tx.key, moved(current, 'finished'), clock.now()))) throw new PortcullisError('interaction_expired');
    // Recorded before the session starts: if the write fails, no session exists without its record.
    if (current.amr.includes('pwd')) await signInEvent(request, tx, signedIn, 'login_success', 'password', { amr: current.amr, captcha_required: current.captchaRequired ?? false });
    else if (current.amr.includes('email')) await signInEvent(request, tx, signedIn, 'login_link_used', 'login_link', { amr: current.amr });
    await startSession(request, reply, deps.login, signedIn);
    await deps.recorder?.recordLogin(signedIn, {
      ip: normaliseIp(request.ip),
      userAgent: request.headers['user-agent'] ?? null,
      deviceToken: ensureDeviceToken(request, reply, deps.login.sessionCookie.secure),
      amr: current.amr,
      riskFacts: known.riskFacts,
    });
    return surface.complete(request, reply, tx, signedIn.id, current.amr);
  }

  /** An event of a sign-in's progress; `reason` names how it began (`password`, `login_link`). */
  function signInEvent(request: FastifyRequest, tx: Transaction, account: User, code: 'login_success' | 'login_link_used' | 'mfa_required', reason: string, details: Record<string, unknown>) {
    const { ip, userAgent } = requestContext(request);
    return deps.store.events.append(
      { code, outcome: code === 'mfa_required' ? 'info' : 'success', reason, userId: account.id, identifier: account.email, ip, userAgent, clientId: tx.clientId, details },
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

  return { load, moved, advance, user, proceed, signInEvent, ensureEmailCode };
}
