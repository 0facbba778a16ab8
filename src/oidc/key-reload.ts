// Key rotation on one node reaches the others without a restart: each node polls the stored signing keys and, when
// the set changed, rebuilds oidc-provider's keystore (published JWKS and the signing key) in place.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { every, singleFlight } from '../domain/background-refresh.js';
import type { SigningKeyStore } from '../store/store.js';
import { toJwks } from './signing-keys.js';

/** oidc-provider builds its keystore once from `jwks`; this internal initializer (v9) rebuilds it from new keys. */
type KeystoreInitializer = (this: Provider, jwks: { keys: Record<string, unknown>[] }) => void;

export interface KeyReloader {
  /** Re-reads the stored keys and swaps the keystore if they changed; returns whether it did. */
  refresh(): Promise<boolean>;
  close(): void;
}

export async function createKeyReloader(provider: Provider, options: { keys: SigningKeyStore; logger: Logger; pollIntervalMs: number; initialKids: string[] }): Promise<KeyReloader> {
  const { default: initialize } = (await import('oidc-provider/lib/helpers/initialize_keystore.js' as string)) as { default: KeystoreInitializer };
  let current = options.initialKids.join(',');
  async function check(): Promise<boolean> {
    const keys = await options.keys.list();
    const kids = keys.map((k) => k.kid).join(',');
    if (kids === current || keys.length === 0) return false;
    initialize.call(provider, toJwks(keys));
    current = kids;
    options.logger.info({ kids: keys.map((k) => k.kid) }, 'signing keys reloaded');
    return true;
  }

  const refresh = singleFlight(check);
  const stop = every(options.pollIntervalMs, refresh, (error) => options.logger.warn({ err: error }, 'signing keys could not be reloaded; still using the previous ones'));
  return { refresh, close: stop };
}
