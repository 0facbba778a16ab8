// Resolves the signed-in user of the hosted pages from the Portcullis session cookie.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Session, User } from '../domain/types.js';
import type { SessionService } from '../sessions/session-service.js';
import type { UserStore } from '../store/store.js';

export const SESSION_COOKIE = 'portcullis_session';

export interface SignedIn {
  user: User;
  session: Session;
}

export async function currentUser(request: FastifyRequest, sessions: SessionService, users: UserStore): Promise<SignedIn | null> {
  const session = await sessions.resolve(request.cookies[SESSION_COOKIE]);
  if (!session) return null;
  const user = await users.findById(session.userId);
  if (!user || user.disabled) return null;
  return { user, session };
}

export function setSessionCookie(reply: FastifyReply, token: string, options: { secure: boolean; maxAgeSeconds: number }): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: options.maxAgeSeconds });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Only local paths are accepted as a post-login destination, so `next` cannot become an open redirect. */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 200) return '/account';
  return value;
}
