// What a login surface (OIDC interaction, account page) gives the shared login steps, and small helpers the steps share.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../domain/clock.js';
import type { Store } from '../../store/store.js';
import type { FlowLimits, LoginFlow } from '../../login/login-flow.js';
import type { FlowRepository } from '../../login/flow-repository.js';
import type { Csrf } from '../csrf.js';
import { normaliseIp } from '../client-ip.js';
import type { PasswordLoginDeps } from '../password-login.js';
import type { LoginRecorder, PasskeyPort, SecondFactorPort, StepUpPort } from './ports.js';

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

export const requestContext = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });

/** The page script (web/passkeys.ts) posts {csrf, response}: the WebAuthn response JSON is the `response` member. */
export function webauthnResponseOf(body: unknown): unknown {
  return body !== null && typeof body === 'object' ? (body as { response?: unknown }).response : undefined;
}
