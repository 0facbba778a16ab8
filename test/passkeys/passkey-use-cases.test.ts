// Passkey use-cases on every backend: registration, usernameless login, replay, expiry, clones, the 20-passkey cap, and management.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import {
  beginPasskeyLogin,
  beginPasskeyRegistration,
  finishPasskeyLogin,
  finishPasskeyRegistration,
  listPasskeys,
  MAX_PASSKEYS_PER_USER,
  removePasskey,
  renamePasskey,
} from '../../src/account/passkeys.js';
import { relyingParty, userHandleFor } from '../../src/authn/webauthn.js';
import { CHALLENGE_TTL_MS } from '../../src/authn/webauthn-challenges.js';
import { PortcullisError } from '../../src/domain/errors.js';
import type { User } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { newUser, passkeyDeps, passkeyRow, PUBLIC_URL } from './fixtures.js';
import { SoftAuthenticator } from './soft-authenticator.js';

const RP = relyingParty(PUBLIC_URL, 'Portcullis');
const ORIGIN = RP.origin;
const CONTEXT = { ip: '203.0.113.5', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' };
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';

for (const backend of backends()) {
  describe(`${backend.name}: passkey use-cases`, () => {
    let context: Awaited<ReturnType<typeof backend.create>>;
    let store: Store;
    before(async () => {
      context = await backend.create();
      store = context.store;
    });
    after(async () => {
      await context.dispose();
    });

    async function enroll(user: User, deps = passkeyDeps(store), authenticator = new SoftAuthenticator({ aaguid: ICLOUD, backupEligible: true, backedUp: true })) {
      const options = await beginPasskeyRegistration(deps, user, RP, `session-${user.id}`);
      const result = await finishPasskeyRegistration(deps, user, RP, `session-${user.id}`, JSON.parse(JSON.stringify(authenticator.register(options, ORIGIN))), CONTEXT);
      return { deps, authenticator, result };
    }

    it('registration stores a synced passkey named after its provider, logs it and emails the user', async () => {
      const user = await newUser(store);
      const { deps, result } = await enroll(user);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.passkey.name, 'iCloud Keychain');
      assert.equal(result.passkey.synced, true);
      const [stored] = await store.passkeys.listForUser(user.id);
      assert.deepEqual([stored?.backupEligible, stored?.backedUp, stored?.deviceType, stored?.aaguid, stored?.createdAt], [true, true, 'multiDevice', ICLOUD, deps.clock.now()]);
      assert.deepEqual(await listPasskeys(deps, user), [result.passkey]);
      const [event] = await store.events.list({ userId: user.id, limit: 1 });
      assert.equal(event?.code, 'passkey_registered');
      assert.equal(event?.ip, CONTEXT.ip);
      assert.deepEqual(deps.mailer.sent.map((m) => [m.to, m.template]), [[user.email, 'passkey_added']]);
      assert.match(JSON.stringify(deps.mailer.sent[0]?.data), /iCloud Keychain.*https:\/\/id\.example\.test\/account/);
    });

    it('unknown providers are named after the browser; a second one gets a number', async () => {
      const user = await newUser(store);
      const first = await enroll(user, undefined, new SoftAuthenticator());
      const second = await enroll(user, undefined, new SoftAuthenticator());
      assert.deepEqual([first.result.ok && first.result.passkey.name, second.result.ok && second.result.passkey.name], ['Chrome on Linux', 'Chrome on Linux (2)']);
    });

    it('usernameless login finds the user from the credential alone and records the use', async () => {
      const user = await newUser(store);
      const { deps, authenticator } = await enroll(user);
      deps.clock.advance(60_000);
      const options = await beginPasskeyLogin(deps, RP, 'tx-login-1');
      assert.deepEqual(options.allowCredentials, []);
      const result = await finishPasskeyLogin(deps, RP, 'tx-login-1', authenticator.authenticate(options, ORIGIN), CONTEXT);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.user.id, user.id);
      assert.equal(result.userVerified, true);
      const [stored] = await store.passkeys.listForUser(user.id);
      assert.deepEqual([stored?.counter, stored?.lastUsedAt], [1, deps.clock.now()]);
      assert.equal((await store.events.list({ userId: user.id, limit: 1 }))[0]?.code, 'login_passkey_success');
    });

    it('replay: a response whose challenge was already used is refused', async () => {
      const user = await newUser(store);
      const { deps, authenticator } = await enroll(user);
      const options = await beginPasskeyLogin(deps, RP, 'tx-replay');
      const response = authenticator.authenticate(options, ORIGIN);
      assert.equal((await finishPasskeyLogin(deps, RP, 'tx-replay', response)).ok, true);
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-replay', response), { ok: false, reason: 'challenge_invalid' });
    });

    it('an old challenge (past 5 minutes) is refused, and so is a challenge issued to another transaction', async () => {
      const user = await newUser(store);
      const { deps, authenticator } = await enroll(user);
      const old = await beginPasskeyLogin(deps, RP, 'tx-old');
      deps.clock.advance(CHALLENGE_TTL_MS);
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-old', authenticator.authenticate(old, ORIGIN)), { ok: false, reason: 'challenge_invalid' });
      const elsewhere = await beginPasskeyLogin(deps, RP, 'tx-victim');
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-attacker', authenticator.authenticate(elsewhere, ORIGIN)), { ok: false, reason: 'challenge_invalid' });
    });

    it('possible clone: a counter below the stored one is refused and logged as passkey_clone_suspected', async () => {
      const user = await newUser(store);
      const { deps, authenticator } = await enroll(user);
      const [stored] = await store.passkeys.listForUser(user.id);
      assert.ok(stored);
      assert.equal(await store.passkeys.updateAfterUse(stored.credentialId, { counter: 1000, backedUp: true, lastUsedAt: deps.clock.now() }), true);
      const options = await beginPasskeyLogin(deps, RP, 'tx-clone');
      const result = await finishPasskeyLogin(deps, RP, 'tx-clone', authenticator.authenticate(options, ORIGIN), CONTEXT);
      assert.deepEqual(result, { ok: false, reason: 'counter_regressed' });
      const [event] = await store.events.list({ userId: user.id, limit: 1 });
      assert.equal(event?.code, 'passkey_clone_suspected');
      assert.equal(event?.outcome, 'failure');
      assert.equal((await store.passkeys.findByCredentialId(stored.credentialId))?.counter, 1000, 'the stored counter is kept');
    });

    it('an unknown credential, and one whose user handle names another user, are refused', async () => {
      const user = await newUser(store);
      const { deps, authenticator } = await enroll(user);
      const options = await beginPasskeyLogin(deps, RP, 'tx-handle');
      const forged = authenticator.authenticate(options, ORIGIN, { userHandle: userHandleFor('someone-else') });
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-handle', forged), { ok: false, reason: 'unknown_credential' });
      const stranger = new SoftAuthenticator();
      stranger.register(await beginPasskeyRegistration(deps, user, RP, 'unused'), ORIGIN);
      const again = await beginPasskeyLogin(deps, RP, 'tx-handle');
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-handle', stranger.authenticate(again, ORIGIN)), { ok: false, reason: 'unknown_credential' });
      assert.deepEqual(await finishPasskeyLogin(deps, RP, 'tx-handle', { hello: 'world' }), { ok: false, reason: 'malformed_response' });
    });

    it('a registration challenge is bound to the user and the session key', async () => {
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const deps = passkeyDeps(store);
      const options = await beginPasskeyRegistration(deps, alice, RP, 'session-a');
      const response = new SoftAuthenticator().register(options, ORIGIN);
      assert.deepEqual(await finishPasskeyRegistration(deps, mallory, RP, 'session-a', response), { ok: false, reason: 'challenge_invalid' });
      const options2 = await beginPasskeyRegistration(deps, alice, RP, 'session-a');
      const response2 = new SoftAuthenticator().register(options2, ORIGIN);
      assert.deepEqual(await finishPasskeyRegistration(deps, alice, RP, 'session-b', response2), { ok: false, reason: 'challenge_invalid' });
      assert.equal(await store.passkeys.countForUser(alice.id), 0);
    });

    it(`at most ${MAX_PASSKEYS_PER_USER} passkeys per user: begin refuses, and finish refuses if the cap was reached meanwhile`, async () => {
      const user = await newUser(store);
      const deps = passkeyDeps(store);
      for (let i = 0; i < MAX_PASSKEYS_PER_USER - 1; i++) await store.passkeys.add(passkeyRow(user.id), MAX_PASSKEYS_PER_USER);
      const options = await beginPasskeyRegistration(deps, user, RP, 's');
      await store.passkeys.add(passkeyRow(user.id), MAX_PASSKEYS_PER_USER);
      const late = await finishPasskeyRegistration(deps, user, RP, 's', new SoftAuthenticator().register(options, ORIGIN));
      assert.deepEqual(late, { ok: false, reason: 'limit_reached' });
      await assert.rejects(beginPasskeyRegistration(deps, user, RP, 's'), (e: unknown) => e instanceof PortcullisError && e.code === 'invalid_input' && /20 passkeys/.test(e.publicMessage));
      assert.equal(await store.passkeys.countForUser(user.id), MAX_PASSKEYS_PER_USER);
      assert.equal(deps.mailer.sent.length, 0);
    });

    it('the same authenticator response cannot register twice', async () => {
      const user = await newUser(store);
      const deps = passkeyDeps(store);
      const authenticator = new SoftAuthenticator();
      const options = await beginPasskeyRegistration(deps, user, RP, 's');
      const response = authenticator.register(options, ORIGIN);
      assert.equal((await finishPasskeyRegistration(deps, user, RP, 's', response)).ok, true);
      assert.deepEqual(await finishPasskeyRegistration(deps, user, RP, 's', response), { ok: false, reason: 'challenge_invalid' });
    });

    it('rename and remove: only the owner can, names are validated, removal is logged and emailed', async () => {
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const { deps, result } = await enroll(alice);
      assert.ok(result.ok);
      const id = result.passkey.credentialId;
      assert.equal(await renamePasskey(deps, mallory, id, 'mine now'), false);
      await assert.rejects(renamePasskey(deps, alice, id, '   '), (e: unknown) => e instanceof PortcullisError && e.code === 'invalid_input');
      assert.equal(await renamePasskey(deps, alice, id, '  Phone  '), true);
      assert.equal((await listPasskeys(deps, alice))[0]?.name, 'Phone');
      assert.equal(await removePasskey(deps, mallory, id), false);
      assert.equal(deps.mailer.sent.filter((m) => m.template === 'passkey_removed').length, 0);
      assert.equal(await removePasskey(deps, alice, id, CONTEXT), true);
      assert.deepEqual(await listPasskeys(deps, alice), []);
      const removal = deps.mailer.sent.find((m) => m.template === 'passkey_removed');
      assert.equal(removal?.to, alice.email);
      assert.match(JSON.stringify(removal?.data), /"passkeyName":"Phone"/);
      assert.deepEqual((await store.events.list({ userId: alice.id, limit: 2 })).map((e) => e.code), ['passkey_removed', 'passkey_renamed']);
    });
  });
}
