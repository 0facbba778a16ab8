// `portcullis user unblock`, `portcullis blocks list`, `portcullis ip throttled` and `portcullis ip release`.
import { listBlocks, listThrottled, releaseIp, unblockIdentifier } from '../admin/protection.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';
import { printTable, UsageError } from './io.js';
import { PortcullisError } from '../domain/errors.js';
import { resetTwoFactor } from '../account/two-factor.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const userUnblockCommand: Command = {
  name: 'user unblock',
  summary: 'Lift brute-force blocks for an account (from one IP, or all)',
  usage: 'portcullis user unblock <email> [--ip IP]',
  options: { ip: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const email = positionals[0];
    if (!email) throw new UsageError('give the email (or identifier) to unblock');
    await withStore(io, async ({ store, clock }) => {
      const cleared = await unblockIdentifier(store, clock, email, (values.ip as string | undefined) ?? null, 'cli');
      io.stdout.write(cleared > 0 ? `Unblocked ${email} (${cleared} IP record(s) cleared).\n` : `No block or failure count found for ${email}; nothing to do.\n`);
    });
    return 0;
  },
};

export const blocksListCommand: Command = {
  name: 'blocks list',
  summary: 'List (account, IP) pairs blocked by brute-force protection',
  usage: 'portcullis blocks list [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async ({ store, clock, config }) => {
      const blocks = await listBlocks(store, clock, config.bruteForce.threshold, config.bruteForce.blockDuration);
      if (values.json) io.stdout.write(`${JSON.stringify(blocks, null, 2)}\n`);
      else printTable(io.stdout, blocks.map((b) => ({ ...b, lastFailureAt: iso(b.lastFailureAt), blockedUntil: iso(b.blockedUntil) })), ['identifier', 'ipKey', 'failures', 'lastFailureAt', 'blockedUntil']);
    });
    return 0;
  },
};

export const ipThrottledCommand: Command = {
  name: 'ip throttled',
  summary: 'List IPs throttled for too many failed logins',
  usage: 'portcullis ip throttled [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async ({ store, clock, config }) => {
      const list = await listThrottled(store, clock, { capacity: config.throttle.failedLoginsPerDay, refillMs: config.throttle.refillEvery });
      if (values.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else printTable(io.stdout, list.map((t) => ({ ip: t.ipKey, tokens: t.tokens.toFixed(2), nextAllowedAt: iso(t.nextAllowedAt) })), ['ip', 'tokens', 'nextAllowedAt']);
    });
    return 0;
  },
};

export const ipReleaseCommand: Command = {
  name: 'ip release',
  summary: 'Release a throttled IP (restores its full failed-login allowance)',
  usage: 'portcullis ip release <ip>',
  options: {},
  allowPositionals: true,
  async run({ positionals }, io) {
    const ip = positionals[0];
    if (!ip) throw new UsageError('give the IP to release');
    await withStore(io, async ({ store, clock }) => {
      const released = await releaseIp(store, clock, ip, 'cli');
      io.stdout.write(released ? `Released ${ip}.\n` : `${ip} was not throttled; nothing to do.\n`);
    });
    return 0;
  },
};

export const userReset2faCommand: Command = {
  name: 'user reset-2fa',
  summary: "Remove a user's authenticator app and recovery codes (passkeys are kept); the user is emailed",
  usage: 'portcullis user reset-2fa <email|id>',
  options: {},
  allowPositionals: true,
  async run({ positionals }, io) {
    const key = positionals[0];
    if (!key) throw new UsageError('give the user email or id');
    await withStore(io, async (ctx) => {
      const user = (await ctx.store.users.findByEmail(key)) ?? (await ctx.store.users.findById(key));
      if (!user) throw new PortcullisError('not_found', { message: `No user "${key}". List users with: portcullis user list` });
      const { removed } = await resetTwoFactor({ store: ctx.store, clock: ctx.clock, mailer: ctx.mailer, publicUrl: ctx.config.publicUrl }, user.id, { via: 'cli' });
      const passkeys = await ctx.store.passkeys.countForUser(user.id);
      io.stdout.write(
        removed
          ? `Two-step verification reset for ${user.email}; ${passkeys} passkey(s) kept. The user was emailed.\n`
          : `${user.email} had no two-step verification; nothing to do.\n`,
      );
    });
    return 0;
  },
};
