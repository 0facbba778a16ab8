// Bot checks for the forms outside the login flow (sign-up, reset requests): the same guard, signals and CAPTCHA,
// with the transaction bound to the browser's CSRF cookie (hashed, so the page never carries the cookie itself).
import type { FastifyRequest } from 'fastify';
import type { BotGuard, FlowType } from '../protection/bot/bot-guard.js';
import { CAPTCHA_FIELDS } from '../protection/captcha/captcha-provider.js';
import type { EventStore } from '../store/store.js';
import { sha256 } from '../crypto/tokens.js';
import { ipKey } from '../protection/ip/ip-key.js';
import { CSRF_COOKIE } from './csrf.js';
import { normaliseIp } from './client-ip.js';
import { challengeMarkup } from './views/captcha-markup.js';
import type { SafeHtml } from './views/html.js';

export interface FormProtection {
  proof: { nonce: string; transactionId: string } | null;
  challenge: SafeHtml | null;
}

export function formTransaction(request: FastifyRequest, flow: FlowType): string {
  return `${flow}:${sha256(request.cookies[CSRF_COOKIE] ?? '').slice(0, 22)}`;
}

/** What the form needs: the browser proof always (unless bot checks are off), a challenge when required. */
export async function formProtection(bot: BotGuard | null, request: FastifyRequest, flow: FlowType, now: number, withChallenge: boolean, refreshUrl: string): Promise<FormProtection> {
  if (!bot || bot.mode(flow) === 'never') return { proof: null, challenge: null };
  const tx = formTransaction(request, flow);
  const proof = { nonce: bot.proofChallenge(tx, now).nonce, transactionId: tx };
  const challenge = withChallenge || bot.mode(flow) === 'always' ? challengeMarkup(await bot.issue(tx, now), { key: tx }, refreshUrl) : null;
  return { proof, challenge };
}

/** Decides and, when a challenge is required, checks the submitted solution. */
export async function checkHuman(
  bot: BotGuard | null,
  events: EventStore,
  request: FastifyRequest,
  flow: FlowType,
  identifier: string,
  now: number,
): Promise<{ ok: true } | { ok: false; failed: boolean }> {
  if (!bot) return { ok: true };
  const ip = normaliseIp(request.ip);
  const body = (request.body ?? {}) as Record<string, unknown>;
  const tx = formTransaction(request, flow);
  const assessment = await bot.assess(flow, { ip, ipKey: ipKey(ip), identifier, userAgent: request.headers['user-agent'] ?? null, transactionId: tx, proof: body.proof }, now);
  if (assessment.action === 'allow') return { ok: true };
  const details = { flow, reasons: assessment.reasons };
  if (assessment.monitorOnly) {
    await events.append({ code: 'captcha_would_challenge', outcome: 'info', ip, identifier, reason: assessment.reasons.join(','), details }, now);
    return { ok: true };
  }
  const fields = Object.fromEntries(Object.values(CAPTCHA_FIELDS).map((name) => [name, typeof body[name] === 'string' ? (body[name] as string).slice(0, 20_000) : undefined]));
  const verdict = await bot.verify(tx, fields, ip, now);
  if (verdict.ok) {
    await events.append({ code: 'captcha_passed', outcome: 'success', ip, identifier, reason: assessment.reasons.join(','), details }, now);
    return { ok: true };
  }
  const failed = verdict.reason !== 'missing';
  await events.append({ code: failed ? 'captcha_failed' : 'captcha_required', outcome: 'failure', ip, identifier, reason: failed ? verdict.reason : assessment.reasons.join(','), details }, now);
  return { ok: false, failed };
}

/** A fresh image for the form's own transaction (rate-limited by the caller). */
export async function refreshImage(bot: BotGuard, request: FastifyRequest, flow: FlowType, now: number): Promise<{ id: string; svg: string }> {
  const challenge = await bot.issuePrimary(formTransaction(request, flow), now);
  return { id: challenge.id, svg: challenge.imageSvg ?? '' };
}
