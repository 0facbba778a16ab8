// Shared pieces for the passkey tests: a settable clock, a mailer that records, a user, and a stored passkey row.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../src/domain/clock.js';
import type { User } from '../../src/domain/types.js';
import type { Mailer, TemplateData, TemplateName } from '../../src/mail/templates/template-types.js';
import type { PasskeyRecord, Store } from '../../src/store/store.js';
import type { PasskeyDeps } from '../../src/account/passkeys.js';

export const T0 = 1_700_000_000_000;
export const PUBLIC_URL = 'https://id.example.test';

export interface SentMail {
  to: string;
  template: TemplateName;
  data: TemplateData[TemplateName];
}

export function recordingMailer(): Mailer & { sent: SentMail[] } {
  const sent: SentMail[] = [];
  return {
    sent,
    async enqueue(to, template, data) {
      sent.push({ to, template, data });
      return `mail-${sent.length}`;
    },
  };
}

export function settableClock(start = T0): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export function passkeyDeps(store: Store, publicUrl = PUBLIC_URL): PasskeyDeps & { mailer: ReturnType<typeof recordingMailer>; clock: ReturnType<typeof settableClock> } {
  return { store, clock: settableClock(), mailer: recordingMailer(), publicUrl };
}

export async function newUser(store: Store, now = T0): Promise<User> {
  return store.users.create({ email: `pk-${randomBytes(5).toString('hex')}@example.test`, name: 'Passkey Tester', passwordHash: null, emailVerified: true }, now);
}

export function passkeyRow(userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomBytes(8).toString('hex'),
    userId,
    credentialId: randomBytes(16).toString('base64url'),
    publicKey: randomBytes(77).toString('base64url'),
    counter: 0,
    transports: ['internal', 'hybrid'],
    backupEligible: true,
    backedUp: true,
    deviceType: 'multiDevice',
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    name: 'iCloud Keychain',
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}
