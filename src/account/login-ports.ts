// Fills the hosted login's 2FA and passkey ports from the account use-cases.
import type { PasskeyPort, SecondFactorPort } from '../http/login/ports.js';
import type { RelyingParty } from '../authn/webauthn.js';
import type { AccountDeps } from './account-deps.js';
import { hasTwoFactor, takeMfaAttempt, verifySecondFactor } from './two-factor.js';
import { beginPasskeyLogin, beginPasskeyRegistration, finishPasskeyLogin, finishPasskeyRegistration, MAX_PASSKEYS_PER_USER } from './passkeys.js';

export function secondFactorPort(deps: AccountDeps): SecondFactorPort {
  return {
    enrolled: (userId) => hasTwoFactor(deps, userId),
    takeAttempt: async (userId) => (await takeMfaAttempt(deps, userId, deps.clock.now())).allowed,
    verify: (user, input, context) => verifySecondFactor(deps, user, input, context),
  };
}

export interface PasskeyOfferSettings {
  offer: boolean;
  snoozeMs: number;
}

/** The offer follows a password login (so no passkey was usable here) unless switched off, snoozed by "Not now", or at the cap. */
export function passkeyPort(deps: AccountDeps, rp: RelyingParty, settings: PasskeyOfferSettings): PasskeyPort {
  const snoozeKey = (userId: string) => `passkey-offer-snooze:${userId}`;
  return {
    async shouldOffer(userId) {
      if (!settings.offer) return false;
      if (await deps.store.once.isHeld(snoozeKey(userId), deps.clock.now())) return false;
      return (await deps.store.passkeys.countForUser(userId)) < MAX_PASSKEYS_PER_USER;
    },
    async snoozeOffer(userId) {
      await deps.store.once.claim(snoozeKey(userId), settings.snoozeMs, deps.clock.now());
    },
    registrationOptions: (user, key) => beginPasskeyRegistration(deps, user, rp, key),
    async registrationVerify(user, key, response, userAgent) {
      const result = await finishPasskeyRegistration(deps, user, rp, key, response, { ip: null, userAgent });
      return result.ok ? { ok: true } : { ok: false, reason: result.reason };
    },
    loginOptions: (key) => beginPasskeyLogin(deps, rp, key),
    async loginVerify(key, response, context) {
      const result = await finishPasskeyLogin(deps, rp, key, response, { ip: context.ip, userAgent: context.userAgent }, context.expectedUserId ?? null);
      if (!result.ok) return { ok: false, reason: result.reason };
      // A passkey with user verification is two factors in one (possession plus biometric or PIN).
      return { ok: true, user: result.user, amr: result.userVerified ? ['hwk', 'user', 'mfa'] : ['hwk', 'user'] };
    },
  };
}
