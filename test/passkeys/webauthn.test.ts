// The pure WebAuthn wrappers against a software authenticator: options, verdicts, clone detection and default names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  authenticationOptions,
  counterRegressed,
  parseAuthenticationResponse,
  parseRegistrationResponse,
  registrationOptions,
  relyingParty,
  userHandleFor,
  verifyAuthentication,
  verifyRegistration,
  type RelyingParty,
  type StoredCredential,
} from '../../src/authn/webauthn.js';
import { defaultPasskeyName, normalizePasskeyName } from '../../src/authn/webauthn-names.js';
import { SoftAuthenticator } from './soft-authenticator.js';

const RP: RelyingParty = relyingParty('https://id.example.test:8443/base', 'Acme ID');
const USER = { id: 'user-123', email: 'ada@example.test', name: 'Ada' };
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function registered(settings: ConstructorParameters<typeof SoftAuthenticator>[0] = {}): Promise<{ authenticator: SoftAuthenticator; stored: StoredCredential }> {
  const authenticator = new SoftAuthenticator(settings);
  const { options, challenge } = await registrationOptions({ rp: RP, user: USER, existing: [] });
  const verdict = await verifyRegistration({ rp: RP, response: authenticator.register(options, RP.origin), expectedChallenge: challenge });
  assert.ok(verdict.ok, JSON.stringify(verdict));
  const { credentialId, publicKey, counter, transports } = verdict.credential;
  return { authenticator, stored: { credentialId, publicKey, counter, transports, userId: USER.id } };
}

describe('relyingParty', () => {
  it('takes the RP ID from the public URL host and the origin without path', () => {
    assert.deepEqual(RP, { id: 'id.example.test', name: 'Acme ID', origin: 'https://id.example.test:8443' });
    assert.deepEqual(relyingParty('http://localhost:3000', 'P'), { id: 'localhost', name: 'P', origin: 'http://localhost:3000' });
  });
});

describe('registrationOptions', () => {
  it('asks for a discoverable credential, preferred UV, no attestation, and excludes existing credentials', async () => {
    const { options, challenge } = await registrationOptions({ rp: RP, user: USER, existing: [{ credentialId: 'AAEC', transports: ['usb'] }] });
    assert.equal(options.challenge, challenge);
    assert.ok(challenge.length >= 43, 'at least 256 bits of challenge');
    assert.deepEqual(options.rp, { name: 'Acme ID', id: 'id.example.test' });
    assert.equal(options.user.id, userHandleFor(USER.id), 'the user handle is the opaque user id, not the email');
    assert.equal(options.user.name, USER.email);
    assert.equal(options.attestation, 'none');
    assert.equal(options.authenticatorSelection?.residentKey, 'required');
    assert.equal(options.authenticatorSelection?.requireResidentKey, true);
    assert.equal(options.authenticatorSelection?.userVerification, 'preferred');
    assert.deepEqual(options.excludeCredentials, [{ id: 'AAEC', type: 'public-key', transports: ['usb'] }]);
    const again = await registrationOptions({ rp: RP, user: USER, existing: [] });
    assert.notEqual(again.challenge, challenge, 'every call gets a fresh challenge');
  });
});

describe('authenticationOptions', () => {
  it('is usernameless by default: an empty allow list and preferred UV for this RP ID', async () => {
    const { options, challenge } = await authenticationOptions({ rp: RP });
    assert.equal(options.challenge, challenge);
    assert.equal(options.rpId, 'id.example.test');
    assert.deepEqual(options.allowCredentials, []);
    assert.equal(options.userVerification, 'preferred');
  });
});

describe('verifyRegistration', () => {
  it('returns the credential to store, with backup flags and AAGUID', async () => {
    const authenticator = new SoftAuthenticator({ aaguid: ICLOUD, backupEligible: true, backedUp: true });
    const { options, challenge } = await registrationOptions({ rp: RP, user: USER, existing: [] });
    const response = authenticator.register(options, RP.origin);
    const verdict = await verifyRegistration({ rp: RP, response, expectedChallenge: challenge });
    assert.ok(verdict.ok);
    assert.equal(verdict.credential.credentialId, response.id);
    assert.deepEqual(
      { ...verdict.credential, publicKey: typeof verdict.credential.publicKey },
      { credentialId: response.id, publicKey: 'string', counter: 0, transports: ['internal'], backupEligible: true, backedUp: true, deviceType: 'multiDevice', aaguid: ICLOUD },
    );
    assert.equal(verdict.userVerified, true);
  });

  it('records a device-bound credential as such', async () => {
    const authenticator = new SoftAuthenticator({ backupEligible: false, backedUp: false, userVerified: false });
    const { options, challenge } = await registrationOptions({ rp: RP, user: USER, existing: [] });
    const verdict = await verifyRegistration({ rp: RP, response: authenticator.register(options, RP.origin), expectedChallenge: challenge });
    assert.ok(verdict.ok);
    assert.deepEqual([verdict.credential.backupEligible, verdict.credential.backedUp, verdict.credential.deviceType, verdict.userVerified], [false, false, 'singleDevice', false]);
  });

  it('refuses another challenge, another origin and a response for another RP ID', async () => {
    const authenticator = new SoftAuthenticator();
    const { options, challenge } = await registrationOptions({ rp: RP, user: USER, existing: [] });
    const other = await registrationOptions({ rp: RP, user: USER, existing: [] });
    assert.deepEqual(await verifyRegistration({ rp: RP, response: authenticator.register(options, RP.origin), expectedChallenge: other.challenge }), { ok: false, reason: 'challenge_mismatch' });
    assert.deepEqual(await verifyRegistration({ rp: RP, response: authenticator.register(options, 'https://evil.example'), expectedChallenge: challenge }), { ok: false, reason: 'origin_mismatch' });
    const phished = authenticator.register({ ...options, rp: { ...options.rp, id: 'evil.example' } }, RP.origin);
    const verdict = await verifyRegistration({ rp: RP, response: phished, expectedChallenge: challenge });
    assert.equal(verdict.ok ? 'ok' : verdict.reason, 'verification_failed');
  });
});

describe('verifyAuthentication', () => {
  it('accepts a valid assertion and returns the new counter, backup state and UV', async () => {
    const { authenticator, stored } = await registered({ backupEligible: true, backedUp: true });
    const { options, challenge } = await authenticationOptions({ rp: RP });
    const verdict = await verifyAuthentication({ rp: RP, response: authenticator.authenticate(options, RP.origin), expectedChallenge: challenge, credential: stored });
    assert.deepEqual(verdict, { ok: true, newCounter: 1, backedUp: true, userVerified: true });
  });

  it('accepts authenticators that never count (counter stays 0)', async () => {
    const { authenticator, stored } = await registered({ counts: false });
    for (let i = 0; i < 2; i++) {
      const { options, challenge } = await authenticationOptions({ rp: RP });
      const verdict = await verifyAuthentication({ rp: RP, response: authenticator.authenticate(options, RP.origin), expectedChallenge: challenge, credential: stored });
      assert.deepEqual(verdict.ok && verdict.newCounter, 0);
    }
  });

  it('possible clone: a counter at or below the stored one is refused as counter_regressed', async () => {
    const { authenticator, stored } = await registered();
    for (const [storedCounter, sent] of [[10, 10], [10, 3], [10, 0]] as const) {
      const { options, challenge } = await authenticationOptions({ rp: RP });
      const response = authenticator.authenticate(options, RP.origin, { counter: sent });
      const verdict = await verifyAuthentication({ rp: RP, response, expectedChallenge: challenge, credential: { ...stored, counter: storedCounter } });
      assert.equal(verdict.ok ? 'ok' : verdict.reason, 'counter_regressed', `stored ${storedCounter}, sent ${sent}`);
    }
    assert.equal(counterRegressed(0, 0), false);
    assert.equal(counterRegressed(0, 1), false);
    assert.equal(counterRegressed(4, 5), false);
  });

  it('forgery: a bad signature never raises a clone alarm, even with a regressed counter', async () => {
    const { authenticator, stored } = await registered();
    const { options, challenge } = await authenticationOptions({ rp: RP });
    const response = authenticator.authenticate(options, RP.origin, { counter: 1 });
    const tampered = { ...response, response: { ...response.response, signature: authenticator.authenticate(options, RP.origin, { counter: 2 }).response.signature } };
    const verdict = await verifyAuthentication({ rp: RP, response: tampered, expectedChallenge: challenge, credential: { ...stored, counter: 50 } });
    assert.equal(verdict.ok ? 'ok' : verdict.reason, 'bad_signature');
  });

  it('refuses a response for another credential, challenge, origin, RP ID or user handle', async () => {
    const { authenticator, stored } = await registered();
    const { options, challenge } = await authenticationOptions({ rp: RP });
    const reason = async (response: ReturnType<SoftAuthenticator['authenticate']>, credential = stored, expected = challenge): Promise<string> => {
      const verdict = await verifyAuthentication({ rp: RP, response, expectedChallenge: expected, credential });
      return verdict.ok ? 'ok' : verdict.reason;
    };
    assert.equal(await reason(authenticator.authenticate(options, RP.origin), { ...stored, credentialId: 'someone-else' }), 'unknown_credential');
    assert.equal(await reason(authenticator.authenticate(options, RP.origin, { challenge: 'b2xkLWNoYWxsZW5nZQ' })), 'challenge_mismatch');
    assert.equal(await reason(authenticator.authenticate(options, 'https://id.example.test.evil.example')), 'origin_mismatch');
    assert.equal(await reason(authenticator.authenticate(options, RP.origin, { rpId: 'evil.example' })), 'verification_failed');
    assert.equal(await reason(authenticator.authenticate(options, RP.origin, { userHandle: userHandleFor('mallory') })), 'user_handle_mismatch');
    assert.equal(await reason(authenticator.authenticate(options, RP.origin, { userHandle: null })), 'ok', 'the user handle is optional (non-discoverable use)');
  });
});

describe('response parsing', () => {
  it('accepts the browser JSON shape and refuses anything else', async () => {
    const authenticator = new SoftAuthenticator();
    const { options } = await registrationOptions({ rp: RP, user: USER, existing: [] });
    const registration = authenticator.register(options, RP.origin);
    assert.ok(parseRegistrationResponse(JSON.parse(JSON.stringify(registration))));
    const assertion = authenticator.authenticate((await authenticationOptions({ rp: RP })).options, RP.origin);
    assert.ok(parseAuthenticationResponse(JSON.parse(JSON.stringify(assertion))));
    for (const bad of [null, 'x', [], {}, { ...registration, type: 'password' }, { ...registration, rawId: 'other' }, { ...registration, response: { clientDataJSON: 'a b' } }]) {
      assert.equal(parseRegistrationResponse(bad), null, JSON.stringify(bad).slice(0, 60));
    }
    assert.equal(parseAuthenticationResponse({ ...assertion, response: { ...assertion.response, signature: 42 } }), null);
    assert.equal(parseAuthenticationResponse(registration), null, 'a registration is not an assertion');
  });
});

describe('default passkey names', () => {
  it('names known providers by AAGUID, others by browser and OS, and numbers duplicates', () => {
    assert.equal(defaultPasskeyName(ICLOUD, CHROME_LINUX), 'iCloud Keychain');
    assert.equal(defaultPasskeyName(ICLOUD.toUpperCase(), null), 'iCloud Keychain');
    assert.equal(defaultPasskeyName('ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4', null), 'Google Password Manager');
    assert.equal(defaultPasskeyName('08987058-cadc-4b81-b6e1-30de50dcbe96', null), 'Windows Hello');
    assert.equal(defaultPasskeyName('bada5566-a7aa-401f-bd96-45619a55120d', null), '1Password');
    assert.equal(defaultPasskeyName('00000000-0000-0000-0000-000000000000', CHROME_LINUX), 'Chrome on Linux');
    assert.equal(defaultPasskeyName(null, null), 'Passkey');
    assert.equal(defaultPasskeyName(null, 'curl/8.0'), 'Passkey');
    assert.equal(defaultPasskeyName(ICLOUD, null, ['iCloud Keychain', 'iCloud Keychain (2)']), 'iCloud Keychain (3)');
  });

  it('normalizes user-chosen names', () => {
    assert.equal(normalizePasskeyName('  Work\tlaptop \n'), 'Work laptop');
    assert.equal(normalizePasskeyName('   '), null);
    assert.equal(normalizePasskeyName('x'.repeat(65)), null);
    assert.equal(normalizePasskeyName('x'.repeat(64)), 'x'.repeat(64));
  });
});
