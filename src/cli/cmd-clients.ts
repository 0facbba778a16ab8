// `portcullis client add|add-api|list`.
import { addApiClient, addClient, describeClient } from '../admin/clients.js';
import { ADMIN_SCOPES } from '../admin/principal.js';
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

export const clientAddApiCommand: Command = {
  name: 'client add-api',
  summary: 'Register a management-API client (client credentials) with its scopes',
  usage:
    'portcullis client add-api --id ID --scopes SCOPE[,SCOPE…] [--org NAME] [--name NAME] [--json]\n\n' +
    `  --scopes        comma-separated: ${ADMIN_SCOPES.join(', ')}\n` +
    '  --org NAME      confine the client to one organization: it acts as that organization\'s admin\n' +
    '  --name NAME     a display name (default: the id)\n\n' +
    'The secret is printed once (only a hash is stored). See docs/api.md.',
  options: {
    id: { type: 'string' },
    scopes: { type: 'string', multiple: true },
    org: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    if (typeof values.id !== 'string') throw new UsageError('--id is required');
    const scopes = list(values.scopes).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
    if (scopes.length === 0) throw new UsageError(`--scopes is required (${ADMIN_SCOPES.join(', ')})`);
    await withStore(io, async ({ store, clock, config }) => {
      const orgName = (values.org as string | undefined) ?? null;
      const { client, secret } = await addApiClient(store, clock, { clientId: values.id as string, scopes, orgName, ...(typeof values.name === 'string' ? { name: values.name } : {}) });
      const granted = String(client.metadata.scope);
      const tokenUrl = `${config.issuer}/token`;
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ clientId: client.clientId, clientSecret: secret, scopes: granted.split(' '), org: orgName, tokenUrl, apiUrl: `${config.publicUrl}/api/v1` }, null, 2)}\n`);
        return;
      }
      io.stdout.write(
        [
          `Registered API client ${client.clientId} (scopes: ${granted}${orgName ? `; confined to organization "${orgName}"` : '; operator: every organization'}).`,
          'Client secret (shown once, only a hash is stored):',
          `  ${secret}`,
          '',
          'Get an access token (client credentials), then call the API with it:',
          `  curl -s -u '${client.clientId}:${secret}' -d grant_type=client_credentials --data-urlencode 'scope=${granted}' ${tokenUrl}`,
          `  curl -s -H 'Authorization: Bearer <access_token>' ${config.publicUrl}/api/v1/users`,
          `API reference (OpenAPI): ${config.publicUrl}/api/v1/openapi.json`,
          '',
        ].join('\n'),
      );
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
