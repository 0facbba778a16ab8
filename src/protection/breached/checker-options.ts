// Maps the validated `breach` configuration to checker options, so the server and the CLI check the same way.
import type { Config } from '../../config/index.js';
import type { BreachCheckerOptions } from './breach-checker.js';
import { countClassOf } from './pwdx-format.js';

export function breachCheckerOptions(config: Pick<Config, 'dataDir' | 'breach'>): BreachCheckerOptions {
  const { breach } = config;
  return {
    mode: breach.mode,
    dataDir: config.dataDir,
    indexPath: breach.indexPath || undefined,
    // Count classes are powers of two, so minCount is applied rounded down to one (1000 acts as 512).
    minCountClass: countClassOf(breach.minCount),
    testPrefix: breach.testPrefix,
    online: { host: breach.online.host, timeoutMs: breach.online.timeout, cacheTtlMs: breach.online.cacheTtl, failMode: breach.online.failMode },
  };
}
