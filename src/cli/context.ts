// Opens what a CLI command needs (config, store, hasher) and always closes it.
import { loadConfig, type Config } from '../config/index.js';
import { createHasher, createMailer, openStore } from '../app.js';
import type { Mailer } from '../mail/templates/template-types.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import { createBreachChecker } from '../protection/breached/breach-checker.js';
import { breachCheckerOptions } from '../protection/breached/checker-options.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './io.js';

export interface CliContext {
  config: Config;
  store: Store;
  hasher: PasswordHasher;
  breach: { check(password: string): Promise<{ breached: boolean; source: string }> };
  /** Enqueues mail in the durable outbox; a running server delivers it. */
  mailer: Mailer;
  clock: Clock;
}

export async function withStore<T>(io: CliIo, action: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const store = await openStore(config);
  try {
    let checker: ReturnType<typeof createBreachChecker> | undefined;
    try {
      // Built on first use only: commands that set no password never load the breach index.
      const breach = { check: (password: string) => (checker ??= createBreachChecker(breachCheckerOptions(config))).check(password) };
      return await action({ config, store, hasher: createHasher(config), clock: systemClock, breach, mailer: createMailer(config, store, systemClock) });
    } finally {
      checker?.close();
    }
  } finally {
    await store.close();
  }
}
