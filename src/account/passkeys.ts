// Passkey use-cases: registration, usernameless login, and the account page's list, rename and remove. No HTTP here.
import { PortcullisError } from '../domain/errors.js';
import type { User } from '../domain/types.js';
import { randomId } from '../crypto/tokens.js';
import type { PasskeyRecord } from '../store/store.js';
import {
  authenticationOptions,
  parseAuthenticationResponse,
  parseRegistrationResponse,
  readClientData,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
  type AuthenticationFailure,
  type CeremonyFailure,
  type RelyingParty,
} from '../authn/webauthn.js';
import { CHALLENGE_TTL_MS, challengeKey, createChallengeStore } from '../authn/webauthn-challenges.js';
import { defaultPasskeyName, normalizePasskeyName, MAX_PASSKEY_NAME_LENGTH } from '../authn/webauthn-names.js';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { AccountDeps, RequestContext } from './account-deps.js';

export const MAX_PASSKEYS_PER_USER = 20;

export type PasskeyDeps = Pick<AccountDeps, 'store' | 'clock' | 'mailer' | 'publicUrl'>;

const NO_CONTEXT: RequestContext = { ip: null, userAgent: null };

export type RegistrationFailure = CeremonyFailure | 'challenge_invalid' | 'limit_reached' | 'already_registered';
export type LoginFailure = Exclude<AuthenticationFailure, 'user_handle_mismatch'> | 'challenge_invalid' | 'account_disabled';

/** Sentences safe to show the user, one per failure reason (stable ids for the login UI). */
export const PASSKEY_MESSAGES: Record<RegistrationFailure | LoginFailure, string> = {
  malformed_response: 'Your browser sent an answer we could not read. Try again.',
  challenge_mismatch: 'This passkey request has expired. Try again.',
  challenge_invalid: 'This passkey request has expired or was already used. Try again.',
  origin_mismatch: 'This passkey request did not come from this site.',
  verification_failed: 'The passkey could not be verified. Try again, or sign in with your email and password.',
  limit_reached: `You already have ${MAX_PASSKEYS_PER_USER} passkeys, the most allowed. Remove one you no longer use, then add the new one.`,
  already_registered: 'This passkey is already registered.',
  unknown_credential: 'This passkey is not registered with us (it may have been removed). Sign in with your email and password, then create a new passkey.',
  bad_signature: 'The passkey could not be verified. Try again, or sign in with your email and password.',
  counter_regressed: 'This passkey was refused because it may have been copied. Sign in with your email and password, and remove this passkey on your account page.',
  account_disabled: 'This account is disabled.',
};

export interface PasskeyView {
  credentialId: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Backup eligible and backed up: copied to the user's other devices by their passkey provider. */
  synced: boolean;
}

const toView = (p: PasskeyRecord): PasskeyView => ({
  credentialId: p.credentialId,
  name: p.name,
  createdAt: p.createdAt,
  lastUsedAt: p.lastUsedAt,
  synced: p.backupEligible && p.backedUp,
});

const accountUrl = (deps: PasskeyDeps): string => `${deps.publicUrl}/account`;
const resetUrl = (deps: PasskeyDeps): string => `${deps.publicUrl}/password/forgot`;

export async function listPasskeys(deps: PasskeyDeps, user: User): Promise<PasskeyView[]> {
  return (await deps.store.passkeys.listForUser(user.id)).map(toView);
}

/**
 * Options for navigator.credentials.create(). `key` binds the challenge to the caller's session (e.g. the session id):
 * only a finish call with the same key and the same user can use it.
 */
export async function beginPasskeyRegistration(deps: PasskeyDeps, user: User, rp: RelyingParty, key: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await deps.store.passkeys.listForUser(user.id);
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new PortcullisError('invalid_input', { message: PASSKEY_MESSAGES.limit_reached });
  const { options, challenge } = await registrationOptions({ rp, user, existing });
  await createChallengeStore(deps.store.oidc).put(challengeKey('register', key, challenge), challenge, { userId: user.id }, CHALLENGE_TTL_MS, deps.clock.now());
  return options;
}

export async function finishPasskeyRegistration(
  deps: PasskeyDeps,
  user: User,
  rp: RelyingParty,
  key: string,
  body: unknown,
  context: RequestContext = NO_CONTEXT,
): Promise<{ ok: true; passkey: PasskeyView } | { ok: false; reason: RegistrationFailure }> {
  const response = parseRegistrationResponse(body);
  const sent = readClientData(response?.response.clientDataJSON);
  if (!response || !sent) return { ok: false, reason: 'malformed_response' };
  const now = deps.clock.now();
  const issued = await createChallengeStore(deps.store.oidc).take(challengeKey('register', key, sent.challenge), now);
  if (!issued || issued.data.userId !== user.id) return { ok: false, reason: 'challenge_invalid' };
  const verdict = await verifyRegistration({ rp, response, expectedChallenge: issued.challenge });
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  const { credential } = verdict;
  const taken = (await deps.store.passkeys.listForUser(user.id)).map((p) => p.name);
  const record: PasskeyRecord = {
    id: randomId(),
    userId: user.id,
    ...credential,
    name: defaultPasskeyName(credential.aaguid, context.userAgent, taken),
    createdAt: now,
    lastUsedAt: null,
  };
  try {
    if ((await deps.store.passkeys.add(record, MAX_PASSKEYS_PER_USER)) === 'limit_reached') return { ok: false, reason: 'limit_reached' };
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'conflict') return { ok: false, reason: 'already_registered' };
    throw error;
  }
  const details = { credentialId: record.credentialId, name: record.name, aaguid: record.aaguid, backupEligible: record.backupEligible, backedUp: record.backedUp, userVerified: verdict.userVerified };
  await deps.store.events.append({ code: 'passkey_registered', outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent, details }, now);
  await deps.mailer.enqueue(user.email, 'passkey_added', { passkeyName: record.name, at: new Date(now).toISOString(), ip: context.ip, accountUrl: accountUrl(deps), resetUrl: resetUrl(deps) });
  return { ok: true, passkey: toView(record) };
}

/** Options for a usernameless navigator.credentials.get(), modal or autofill; `transactionKey` binds the challenge to the login transaction. */
export async function beginPasskeyLogin(deps: PasskeyDeps, rp: RelyingParty, transactionKey: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { options, challenge } = await authenticationOptions({ rp });
  await createChallengeStore(deps.store.oidc).put(challengeKey('login', transactionKey, challenge), challenge, {}, CHALLENGE_TTL_MS, deps.clock.now());
  return options;
}

export type PasskeyLoginResult =
  | { ok: true; user: User; credentialId: string; userVerified: boolean }
  | { ok: false; reason: LoginFailure };

/**
 * Verifies an assertion against the challenge issued to this transaction and the stored credential it names.
 * The challenge is spent whatever the outcome. A counter that goes backwards is refused and logged as a possible clone.
 */
export async function finishPasskeyLogin(
  deps: PasskeyDeps,
  rp: RelyingParty,
  transactionKey: string,
  body: unknown,
  context: RequestContext = NO_CONTEXT,
  /** A step-up for this account: any other account's passkey is refused before it is verified or its counter moves. */
  expectedUserId: string | null = null,
): Promise<PasskeyLoginResult> {
  const now = deps.clock.now();
  const fail = async (reason: LoginFailure, userId: string | null, details: Record<string, unknown> = {}): Promise<PasskeyLoginResult> => {
    const code = reason === 'counter_regressed' ? 'passkey_clone_suspected' : 'login_passkey_failed';
    await deps.store.events.append({ code, outcome: 'failure', userId, ip: context.ip, userAgent: context.userAgent, reason, details }, now);
    return { ok: false, reason };
  };
  const response = parseAuthenticationResponse(body);
  const sent = readClientData(response?.response.clientDataJSON);
  if (!response || !sent) return fail('malformed_response', null);
  const issued = await createChallengeStore(deps.store.oidc).take(challengeKey('login', transactionKey, sent.challenge), now);
  if (!issued) return fail('challenge_invalid', null, { credentialId: response.id });
  const passkey = await deps.store.passkeys.findByCredentialId(response.id);
  const user = passkey ? await deps.store.users.findById(passkey.userId) : null;
  if (!passkey || !user) return fail('unknown_credential', expectedUserId, { credentialId: response.id });
  if (expectedUserId !== null && passkey.userId !== expectedUserId) return fail('unknown_credential', expectedUserId, { credentialId: response.id, step_up: 'passkey_of_another_account' });
  const verdict = await verifyAuthentication({ rp, response, expectedChallenge: issued.challenge, credential: passkey });
  if (!verdict.ok) {
    // A user handle naming someone else means the response does not belong to this credential at all.
    const reason = verdict.reason === 'user_handle_mismatch' ? 'unknown_credential' : verdict.reason;
    return fail(reason, user.id, { credentialId: passkey.credentialId, storedCounter: passkey.counter, ...(verdict.detail ? { detail: verdict.detail } : {}) });
  }
  if (user.disabled) return fail('account_disabled', user.id, { credentialId: passkey.credentialId });
  // Two concurrent assertions carrying the same counter: only one may move it forward, the other looks like a clone.
  const applied = await deps.store.passkeys.updateAfterUse(passkey.credentialId, { counter: verdict.newCounter, backedUp: verdict.backedUp, lastUsedAt: now });
  if (!applied) return fail('counter_regressed', user.id, { credentialId: passkey.credentialId, receivedCounter: verdict.newCounter, race: true });
  // As the second factor of a password sign-in (step-up), the passkey passes a challenge; that sign-in's
  // login_success follows when its session starts. Only a passkey sign-in is a login of its own.
  const common = { outcome: 'success', userId: user.id, ip: context.ip, userAgent: context.userAgent, details: { credentialId: passkey.credentialId, userVerified: verdict.userVerified } } as const;
  await deps.store.events.append(expectedUserId === null ? { ...common, code: 'login_passkey_success' } : { ...common, code: 'mfa_challenge_passed', reason: 'passkey' }, now);
  return { ok: true, user, credentialId: passkey.credentialId, userVerified: verdict.userVerified };
}

export async function renamePasskey(deps: PasskeyDeps, user: User, credentialId: string, name: string, context: RequestContext = NO_CONTEXT): Promise<boolean> {
  const cleaned = normalizePasskeyName(name);
  if (!cleaned) throw new PortcullisError('invalid_input', { message: `Give the passkey a name of 1 to ${MAX_PASSKEY_NAME_LENGTH} characters.` });
  const renamed = await deps.store.passkeys.rename(user.id, credentialId, cleaned);
  if (renamed) await deps.store.events.append({ code: 'passkey_renamed', outcome: 'info', userId: user.id, ip: context.ip, details: { credentialId, name: cleaned } }, deps.clock.now());
  return renamed;
}

/** Removes one of the user's own passkeys and emails them; passkeys of other users are not found. */
export async function removePasskey(deps: PasskeyDeps, user: User, credentialId: string, context: RequestContext = NO_CONTEXT): Promise<boolean> {
  const passkey = await deps.store.passkeys.findByCredentialId(credentialId);
  if (!passkey || passkey.userId !== user.id) return false;
  if (!(await deps.store.passkeys.remove(user.id, credentialId))) return false;
  const now = deps.clock.now();
  await deps.store.events.append({ code: 'passkey_removed', outcome: 'info', userId: user.id, ip: context.ip, userAgent: context.userAgent, details: { credentialId, name: passkey.name } }, now);
  await deps.mailer.enqueue(user.email, 'passkey_removed', { passkeyName: passkey.name, at: new Date(now).toISOString(), ip: context.ip, accountUrl: accountUrl(deps), resetUrl: resetUrl(deps) });
  return true;
}
