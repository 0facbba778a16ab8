// Builds a real app (real SQLite or PostgreSQL, real argon2) in a temp folder for in-process HTTP tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/create-logger.js';
import type { Clock } from '../../src/domain/clock.js';

export interface TestApp extends App {
  logs: string[];
  dispose(): Promise<void>;
}

/** Fast argon2 parameters keep tests quick; security tests that care about cost pass their own. */
export const FAST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export async function createTestApp(overrides: Record<string, unknown> = {}, options: { clock?: Clock } = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-app-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const config = parseConfig({
    nodeEnv: 'test',
    dataDir,
    secret: 'test-secret-test-secret-test-secret-0123456789',
    publicUrl: 'http://localhost:3000',
    logLevel: 'info',
    argon2: FAST_ARGON2,
    // In-process tests drive the pages with a bare HTTP client, which the bot signals rightly flag.
    // Bot-detection tests pass their own `bot` settings (the defaults challenge such clients).
    bot: { loginMode: 'never', signupMode: 'never', resetMode: 'never' },
    // Likewise the passkey offer after a password login is an extra page; passkey tests switch it back on.
    passkeys: { offerAfterPasswordLogin: false },
    ...overrides,
  });
  const app = await createApp({ config, logger: createLogger('info', sink), clock: options.clock });
  await app.server.ready();
  return {
    ...app,
    logs,
    async dispose() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
