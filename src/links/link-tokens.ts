// Email and setup links: `id.secret` tokens bound to one purpose, single-use and expiring. Reading never consumes.
import type { LinkPurpose, LinkToken } from '../domain/types.js';
import { parseToken, secretMatches } from '../crypto/tokens.js';
import type { LinkTokenStore } from '../store/store.js';

export type LinkCheck = { ok: true; link: LinkToken } | { ok: false; reason: 'invalid' | 'used' | 'expired' };

/** Validates without consuming: safe for GET requests and mail scanners. */
export async function inspectLink(links: LinkTokenStore, token: string, purpose: LinkPurpose, now: number): Promise<LinkCheck> {
  const parts = parseToken(token);
  if (!parts) return { ok: false, reason: 'invalid' };
  const link = await links.findById(parts.id);
  if (!link || link.purpose !== purpose || !secretMatches(parts.secret, link.secretHash)) return { ok: false, reason: 'invalid' };
  if (link.usedAt !== null) return { ok: false, reason: 'used' };
  if (now >= link.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, link };
}

/** Validates and consumes atomically: exactly one concurrent caller succeeds. */
export async function consumeLink(links: LinkTokenStore, token: string, purpose: LinkPurpose, now: number): Promise<LinkCheck> {
  const check = await inspectLink(links, token, purpose, now);
  if (!check.ok) return check;
  return (await links.consume(check.link.id, now)) ? check : { ok: false, reason: 'used' };
}

export const LINK_MESSAGES: Record<'invalid' | 'used' | 'expired', string> = {
  invalid: 'This link is not valid. Check that you copied the whole link, or request a new one.',
  used: 'This link was already used. Each link works once; request a new one if you still need it.',
  expired: 'This link has expired. Request a new one.',
};
