// `portcullis client add|list`.
import { addClient, describeClient } from '../admin/clients.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';
import { printTable, UsageError } from './io.js';

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);

export const clientAddCommand: Command = {
  name: 'client add',
  summary: 'Register an OIDC client (redirect URIs must match exactly)',
  usage:
    'portcullis client add --id ID --redirect-uri URI [--redirect-uri URI2] [--post-logout-redirect-uri URI]\n' +
    '                      [--public | --secret S] [--first-party] [--name NAME] [--json]\n\n' +
    '  --public        a browser or mobile app without a secret; PKCE is required\n' +
    '  --secret S      a confidential client with this secret (32+ characters); omit to generate one\n' +
    '  --first-party   your own app: users are not asked for consent',
  options: {
    id: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    public: { type: 'boolean' },
    secret: { type: 'string' },
    'first-party': { type: 'boolean' },
    name: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    if (typeof values.id !== 'string') throw new UsageError('--id is required');
    await withStore(io, async ({ store, clock }) => {
      const { client, secret } = await addClient(store, clock, {
        clientId: values.id as string,
        redirectUris: list(values['redirect-uri']),
        postLogoutRedirectUris: list(values['post-logout-redirect-uri']),
        public: Boolean(values.public),
        secret: (values.secret as string | undefined) ?? null,
        firstParty: Boolean(values['first-party']),
        name: (values.name as string | undefined) ?? null,
      });
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ ...describeClient(client), clientSecret: values.secret ? undefined : secret }, null, 2)}\n`);
        return;
      }
      io.stdout.write(`Registered client ${client.clientId}.\n`);
      if (secret && !values.secret) io.stdout.write(`Client secret (shown once, only a hash is stored):\n  ${secret}\n`);
    });
    return 0;
  },
};

export const clientListCommand: Command = {
  name: 'client list',
  summary: 'List registered OIDC clients',
  usage: 'portcullis client list [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async ({ store }) => {
      const clients = (await store.clients.list()).map(describeClient);
      if (values.json) io.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
      else printTable(io.stdout, clients, ['clientId', 'type', 'firstParty', 'redirectUris']);
    });
    return 0;
  },
};
