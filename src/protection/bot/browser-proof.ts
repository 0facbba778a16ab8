// The browser proof: a stateless, signed nonce that only a client running the login page's script turns into a valid form field.
//
// The page carries `nonce` = `<issuedAt base36>.<HMAC(key, issuedAt, transactionId)>`; the script
// (web/captcha.ts) submits `<nonce>.<hex SHA-256(nonce + ":" + transactionId)>`. A bare HTTP client
// that posts the form without running JS has no proof. This does not stop a bot that parses the page
// and hashes on its own; it raises the cost, and its signed served time makes "too fast" unforgeable.
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../crypto/constant-time.js';

export const PROOF_FIELD = 'proof';

/** Nodes may disagree slightly about the time; a nonce from further in the future is refused. */
const CLOCK_SKEW_MS = 5_000;
const MAX_SUBMITTED_LENGTH = 256;

export interface ProofChallenge {
  /** Put on the login form as `data-proof-nonce`, next to `data-proof-tx` (the transaction id). */
  nonce: string;
  issuedAt: number;
}

export type ProofVerdict =
  | { status: 'valid'; pageServedAt: number }
  | { status: 'missing' }
  | { status: 'invalid'; why: 'malformed' | 'mismatch' | 'expired' };

function mac(key: Buffer, transactionId: string, issuedAt: number): string {
  // issuedAt comes first and never contains the separator, so the encoding is unambiguous.
  return createHmac('sha256', key).update(`browser-proof\n${issuedAt}\n${transactionId}`, 'utf8').digest('base64url');
}

/** What the page script computes: hex SHA-256 of `nonce:transactionId`. */
export function expectedProofDigest(nonce: string, transactionId: string): string {
  return createHash('sha256').update(`${nonce}:${transactionId}`, 'utf8').digest('hex');
}

export function issueProofChallenge(key: Buffer, transactionId: string, now: number): ProofChallenge {
  return { nonce: `${now.toString(36)}.${mac(key, transactionId, now)}`, issuedAt: now };
}

/**
 * Checks the submitted `proof` field. `pageServedAt` of a valid proof is the signed time the page was
 * served: feed it to the `submitted_too_fast` signal.
 */
export function verifyProof(key: Buffer, transactionId: string, submitted: unknown, now: number, maxAgeMs: number): ProofVerdict {
  if (typeof submitted !== 'string' || submitted.trim() === '') return { status: 'missing' };
  if (submitted.length > MAX_SUBMITTED_LENGTH) return { status: 'invalid', why: 'malformed' };
  const parts = submitted.split('.');
  if (parts.length !== 3) return { status: 'invalid', why: 'malformed' };
  const [issuedPart, macPart, digest] = parts as [string, string, string];
  if (!/^[0-9a-z]{1,12}$/.test(issuedPart)) return { status: 'invalid', why: 'malformed' };
  const issuedAt = parseInt(issuedPart, 36);
  const nonce = `${issuedPart}.${macPart}`;
  // A nonce for another transaction, or a made-up one, fails the MAC; both read as a mismatch.
  if (!constantTimeEqual(macPart, mac(key, transactionId, issuedAt))) return { status: 'invalid', why: 'mismatch' };
  if (!constantTimeEqual(digest.toLowerCase(), expectedProofDigest(nonce, transactionId))) return { status: 'invalid', why: 'mismatch' };
  if (issuedAt > now + CLOCK_SKEW_MS || now - issuedAt > maxAgeMs) return { status: 'invalid', why: 'expired' };
  return { status: 'valid', pageServedAt: issuedAt };
}
