// oidc-provider turns adapter metadata into a Client by hashing the metadata's JSON on every lookup, to find the
// instance it built before (a tenth of a client-credentials grant). Our adapter hands out one metadata object per
// cached client record (adapter.ts), so the instance is kept per object instead: a changed or expired record is a new
// object, and gets a fresh instance from the provider's own lookup.
import type Provider from 'oidc-provider';

interface ClientModel {
  find(id: unknown): Promise<unknown>;
  readonly adapter: { find(id: string): Promise<object | undefined | void> };
}

export function reuseClientInstances(provider: Provider): void {
  const Client = provider.Client as unknown as ClientModel;
  const lookup = Client.find.bind(Client);
  const built = new WeakMap<object, unknown>();
  Client.find = async (id: unknown) => {
    if (typeof id !== 'string' || id.length === 0) return lookup(id);
    const metadata = await Client.adapter.find(id);
    if (!metadata) return lookup(id);
    const known = built.get(metadata);
    if (known) return known;
    const client = await lookup(id);
    if (client) built.set(metadata, client);
    return client;
  };
}
