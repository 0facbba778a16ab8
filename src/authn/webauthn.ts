// Passkey ceremonies as pure verdicts over @simplewebauthn/server: options and challenge out, verdict plus the data to save back.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** The relying party: RP ID is the public URL's host name, the expected origin its origin. */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingParty(publicUrl: string, name: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name, origin: url.origin };
}

/** How long the browser may take; the server-side challenge lives as long (see CHALLENGE_TTL_MS). */
export const CEREMONY_TIMEOUT_MS = 5 * 60_000;

export type CredentialDeviceType = 'singleDevice' | 'multiDevice';

/** What verifyRegistration asks the caller to store. */
export interface NewCredential {
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  backupEligible: boolean;
  backedUp: boolean;
  deviceType: CredentialDeviceType;
  aaguid: string;
}

/** The stored credential an assertion is checked against. */
export interface StoredCredential {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  /** The owner; an assertion whose user handle names someone else is refused. */
  userId: string;
}

export type CeremonyFailure =
  | 'malformed_response'
  | 'challenge_mismatch'
  | 'origin_mismatch'
  | 'verification_failed';

export type RegistrationVerdict = { ok: true; credential: NewCredential; userVerified: boolean } | { ok: false; reason: CeremonyFailure; detail?: string };

export type AuthenticationFailure = CeremonyFailure | 'unknown_credential' | 'user_handle_mismatch' | 'bad_signature' | 'counter_regressed';

export type AuthenticationVerdict =
  | { ok: true; newCounter: number; backedUp: boolean; userVerified: boolean }
  | { ok: false; reason: AuthenticationFailure; detail?: string };

/** The WebAuthn user handle: the user id's UTF-8 bytes (an opaque random id, never the email). */
export function userHandleFor(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

export async function registrationOptions(input: {
  rp: RelyingParty;
  user: { id: string; email: string; name: string | null };
  existing: readonly { credentialId: string; transports: readonly string[] }[];
}): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }> {
  const options = await generateRegistrationOptions({
    rpName: input.rp.name,
    rpID: input.rp.id,
    userName: input.user.email,
    userDisplayName: input.user.name || input.user.email,
    userID: new Uint8Array(Buffer.from(input.user.id, 'utf8')),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'none',
    // Discoverable, so "Continue with passkey" needs no email; UV preferred so security keys without a PIN still work.
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
    excludeCredentials: input.existing.map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
  });
  return { options, challenge: options.challenge };
}

export async function authenticationOptions(input: {
  rp: RelyingParty;
  allowCredentials?: readonly { credentialId: string; transports: readonly string[] }[];
}): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: string }> {
  const options = await generateAuthenticationOptions({
    rpID: input.rp.id,
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: 'preferred',
    // Empty means usernameless: the authenticator offers its discoverable credentials for this RP ID.
    allowCredentials: (input.allowCredentials ?? []).map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
  });
  return { options, challenge: options.challenge };
}

/** Reads `challenge`, `origin` and `type` from a response's clientDataJSON, or null when it is not valid JSON. */
export function readClientData(clientDataJSON: unknown): { challenge: string; origin: string; type: string } | null {
  if (typeof clientDataJSON !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(clientDataJSON)) return null;
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { challenge, origin, type } = data;
    if (typeof challenge !== 'string' || typeof origin !== 'string' || typeof type !== 'string') return null;
    return { challenge, origin, type };
  } catch {
    return null;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isB64u = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 65_536 && /^[A-Za-z0-9_-]+$/.test(value);

/** Narrows JSON from the browser to a registration response shape; the cryptography is checked later. */
export function parseRegistrationResponse(value: unknown): RegistrationResponseJSON | null {
  if (!isRecord(value) || !isRecord(value.response) || value.type !== 'public-key') return null;
  if (!isB64u(value.id) || value.rawId !== value.id) return null;
  const { clientDataJSON, attestationObject, transports } = value.response;
  if (!isB64u(clientDataJSON) || !isB64u(attestationObject)) return null;
  if (transports !== undefined && !(Array.isArray(transports) && transports.length <= 10 && transports.every((t) => typeof t === 'string' && t.length <= 32))) return null;
  return { ...(value as unknown as RegistrationResponseJSON), clientExtensionResults: isRecord(value.clientExtensionResults) ? value.clientExtensionResults : {} };
}

/** Narrows JSON from the browser to an authentication response shape. */
export function parseAuthenticationResponse(value: unknown): AuthenticationResponseJSON | null {
  if (!isRecord(value) || !isRecord(value.response) || value.type !== 'public-key') return null;
  if (!isB64u(value.id) || value.rawId !== value.id) return null;
  const { clientDataJSON, authenticatorData, signature, userHandle } = value.response;
  if (!isB64u(clientDataJSON) || !isB64u(authenticatorData) || !isB64u(signature)) return null;
  if (userHandle !== undefined && userHandle !== null && !isB64u(userHandle)) return null;
  return { ...(value as unknown as AuthenticationResponseJSON), clientExtensionResults: isRecord(value.clientExtensionResults) ? value.clientExtensionResults : {} };
}

/** The checks whose failure deserves a precise reason, done before the library's catch-all. */
function checkClientData(clientDataJSON: string, rp: RelyingParty, expectedChallenge: string): CeremonyFailure | null {
  const data = readClientData(clientDataJSON);
  if (!data) return 'malformed_response';
  if (data.challenge !== expectedChallenge) return 'challenge_mismatch';
  if (data.origin !== rp.origin) return 'origin_mismatch';
  return null;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function verifyRegistration(input: { rp: RelyingParty; response: RegistrationResponseJSON; expectedChallenge: string }): Promise<RegistrationVerdict> {
  const { rp, response, expectedChallenge } = input;
  const early = checkClientData(response.response.clientDataJSON, rp, expectedChallenge);
  if (early) return { ok: false, reason: early };
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
    if (!result.verified) return { ok: false, reason: 'verification_failed' };
    const info = result.registrationInfo;
    return {
      ok: true,
      userVerified: info.userVerified,
      credential: {
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        transports: [...(info.credential.transports ?? response.response.transports ?? [])],
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        deviceType: info.credentialDeviceType,
        aaguid: info.aaguid,
      },
    };
  } catch (error) {
    return { ok: false, reason: 'verification_failed', detail: message(error) };
  }
}

/**
 * WebAuthn §7.2 step 21: when either counter is non-zero, the new one must be greater than the stored one.
 * Otherwise two copies of the private key are in use: a possible clone.
 */
export function counterRegressed(stored: number, received: number): boolean {
  return (stored > 0 || received > 0) && received <= stored;
}

export async function verifyAuthentication(input: {
  rp: RelyingParty;
  response: AuthenticationResponseJSON;
  expectedChallenge: string;
  credential: StoredCredential;
}): Promise<AuthenticationVerdict> {
  const { rp, response, expectedChallenge, credential } = input;
  if (response.id !== credential.credentialId) return { ok: false, reason: 'unknown_credential' };
  const early = checkClientData(response.response.clientDataJSON, rp, expectedChallenge);
  if (early) return { ok: false, reason: early };
  const userHandle = response.response.userHandle;
  if (userHandle && userHandle !== userHandleFor(credential.userId)) return { ok: false, reason: 'user_handle_mismatch' };
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // Counter 0 turns the library's own counter check off: ours below runs only after the signature
      // holds, so a forged response can never raise a clone alarm.
      credential: { id: credential.credentialId, publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')), counter: 0, transports: credential.transports },
      requireUserVerification: false,
    });
  } catch (error) {
    return { ok: false, reason: 'verification_failed', detail: message(error) };
  }
  if (!result.verified) return { ok: false, reason: 'bad_signature' };
  const info = result.authenticationInfo;
  if (counterRegressed(credential.counter, info.newCounter)) {
    return { ok: false, reason: 'counter_regressed', detail: `stored ${credential.counter}, received ${info.newCounter}` };
  }
  return { ok: true, newCounter: info.newCounter, backedUp: info.credentialBackedUp, userVerified: info.userVerified };
}
