// `portcullis migrate`, `config` and `keys rotate`.
import { loadConfig, redactedConfig } from '../config/index.js';
import { OPTION_DOCS } from '../config/schema.js';
import { generateSigningKey } from '../oidc/signing-keys.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or upgrade the database schema',
  usage: 'portcullis migrate',
  options: {},
  async run(_args, io) {
    await withStore(io, async ({ store }) => {
      io.stdout.write(`Database (${store.kind}) is up to date.\n`);
    });
    return 0;
  },
};

export const configCommand: Command = {
  name: 'config',
  summary: 'Print the effective configuration, secrets redacted',
  usage: 'portcullis config [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const config = redactedConfig(loadConfig(io.env));
    if (values.json) {
      io.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return 0;
    }
    const flat = (node: Record<string, unknown>, prefix = ''): [string, unknown][] =>
      Object.entries(node).flatMap(([k, v]) =>
        v && typeof v === 'object' && !Array.isArray(v) ? flat(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
      );
    for (const [key, value] of flat(config)) {
      const env = OPTION_DOCS[key]?.env;
      io.stdout.write(`${key.padEnd(28)} ${JSON.stringify(value)}${env ? `   (${env})` : ''}\n`);
    }
    return 0;
  },
};

export const keysRotateCommand: Command = {
  name: 'keys rotate',
  summary: 'Add a new signing key; running servers sign with it within seconds, old keys stay published',
  usage: 'portcullis keys rotate',
  options: {},
  async run(_args, io) {
    await withStore(io, async ({ store, clock }) => {
      // Unsealing the existing keys first proves PORTCULLIS_SECRET is the servers' one: a key sealed with another
      // secret would make every node fail to start.
      await store.signingKeys.list();
      const key = generateSigningKey(clock.now());
      await store.signingKeys.add(key);
      await store.events.append({ code: 'keys_rotated', outcome: 'info', details: { kid: key.kid } }, clock.now());
      const all = await store.signingKeys.list();
      io.stdout.write(`Added signing key ${key.kid} (${key.alg}). ${all.length} key(s) published; running servers pick it up within seconds (no restart), and tokens signed with the older keys still verify.\n`);
    });
    return 0;
  },
};
