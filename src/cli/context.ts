// Opens what a CLI command needs (config, store, hasher) and always closes it.
import { loadConfig, type Config } from '../config/index.js';
import { createHasher, openStore } from '../app.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './io.js';

export interface CliContext {
  config: Config;
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
}

export async function withStore<T>(io: CliIo, action: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const store = await openStore(config);
  try {
    return await action({ config, store, hasher: createHasher(config), clock: systemClock });
  } finally {
    await store.close();
  }
}
