// Entry point for configuration: the only module that reads the process environment.
import { loadOrCreateDevSecret } from './secrets.js';
import { assertProductionSafe, parseConfig, readConfigInput, type Config } from './load-config.js';

export type { Config } from './load-config.js';
export { parseConfig, redactedConfig, assertProductionSafe } from './load-config.js';

/** Loads the configuration from the environment; in development a missing secret is generated. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = readConfigInput(env);
  let source: Config['secretSource'] = 'configured';
  const draft = parseConfig(input);
  if (!draft.secret && !draft.isProduction) {
    input.secret = loadOrCreateDevSecret(draft.dataDir);
    source = 'generated';
  }
  const config = parseConfig(input, source);
  assertProductionSafe(config);
  return config;
}
