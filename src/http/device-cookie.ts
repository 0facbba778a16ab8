// The device cookie: a long-lived random value that lets risk assessment recognise a browser the user signed in from.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomId } from '../crypto/tokens.js';

export const DEVICE_COOKIE = 'portcullis_device';

/** Browsers cap cookie lifetime at 400 days; the remember window (30 days by default) is enforced server-side. */
const MAX_AGE_SECONDS = 400 * 24 * 3600;

export function readDeviceToken(request: FastifyRequest): string | null {
  const value = request.cookies[DEVICE_COOKIE];
  return typeof value === 'string' && /^[A-Za-z0-9_-]{22,64}$/.test(value) ? value : null;
}

/** The browser's device token, issuing one (HttpOnly, SameSite=Lax, Secure on https) when it has none. */
export function ensureDeviceToken(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const existing = readDeviceToken(request);
  if (existing) return existing;
  const token = randomId(32);
  reply.setCookie(DEVICE_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: MAX_AGE_SECONDS });
  // Later reads in this request (the session start after a one-step login) see the same token.
  request.cookies[DEVICE_COOKIE] = token;
  return token;
}
