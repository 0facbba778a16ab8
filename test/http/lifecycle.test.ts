// Key rotation across restarts, password hash upgrades at login, and graceful shutdown of the real process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { runCli } from '../../src/cli/run-cli.js';
import { createPasswordHasher, parseArgon2Params } from '../../src/crypto/password-hasher.js';
import { FAST_ARGON2, type TestApp } from '../helpers/app.js';
import { authorizeWithLogin, exchangeCode, seedPublicClient } from '../helpers/oidc-flow.js';

function appOn(dataDir: string, argon2 = FAST_ARGON2): Promise<TestApp> {
  const logs: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) });
  const config = parseConfig({ nodeEnv: 'test', dataDir, secret: 'lifecycle-secret-lifecycle-secret-0123456789', argon2, logLevel: 'info', bot: { loginMode: 'never' }, passkeys: { offerAfterPasswordLogin: false } });
  return createApp({ config, logger: createLogger('info', sink) }).then(async (app) => {
    await app.server.ready();
    return { ...app, logs, dispose: () => app.close() };
  });
}

async function jwks(app: TestApp): Promise<{ kid: string; [k: string]: unknown }[]> {
  const response = await app.server.inject({ method: 'GET', url: '/oidc/jwks' });
  return (JSON.parse(response.body) as { keys: { kid: string }[] }).keys;
}

function verifyJwt(token: string, keys: { kid: string; [k: string]: unknown }[]): { kid: string; valid: boolean } {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) return { kid: header.kid, valid: false };
  const valid = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(s, 'base64url'));
  return { kid: header.kid, valid };
}

test('keys rotate: the new key signs after a restart and tokens signed with the old key stay verifiable', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-keys-'));
  try {
    let app = await appOn(dataDir);
    const fixture = await seedPublicClient(app);
    const first = await authorizeWithLogin(app, fixture);
    const oldToken = (await exchangeCode(app.server, { code: first.code, verifier: first.verifier, clientId: fixture.clientId })).body.id_token as string;
    const before = await jwks(app);
    assert.equal(before.length, 1);
    assert.equal(verifyJwt(oldToken, before).valid, true);
    for (const key of before) assert.equal('d' in key, false, 'JWKS never publishes private key parts');
    await app.dispose();

    const out: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) });
    const env = { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_SECRET: 'lifecycle-secret-lifecycle-secret-0123456789' };
    assert.equal(await runCli(['keys', 'rotate'], { stdout: sink, stderr: sink, stdin: process.stdin, env }), 0, out.join(''));

    app = await appOn(dataDir);
    const after = await jwks(app);
    assert.equal(after.length, 2);
    assert.equal(verifyJwt(oldToken, after).valid, true, 'the old token still verifies against the published JWKS');
    const second = await authorizeWithLogin(app, fixture);
    const newToken = (await exchangeCode(app.server, { code: second.code, verifier: second.verifier, clientId: fixture.clientId })).body.id_token as string;
    const checked = verifyJwt(newToken, after);
    assert.equal(checked.valid, true);
    assert.notEqual(checked.kid, verifyJwt(oldToken, after).kid, 'the new key signs');
    assert.equal(checked.kid, after[0]?.kid);
    await app.dispose();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a stored hash is upgraded at login when the argon2 parameters change', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-rehash-'));
  try {
    let app = await appOn(dataDir, FAST_ARGON2);
    const fixture = await seedPublicClient(app);
    assert.deepEqual(parseArgon2Params(fixture.user.passwordHash ?? ''), FAST_ARGON2);
    await app.dispose();
    const stronger = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
    app = await appOn(dataDir, stronger);
    await authorizeWithLogin(app, fixture);
    const upgraded = (await app.store.users.findById(fixture.user.id))?.passwordHash ?? '';
    assert.deepEqual(parseArgon2Params(upgraded), stronger);
    assert.equal(await createPasswordHasher(stronger).verify(upgraded, fixture.password), true);
    assert.ok((await app.store.events.list({ userId: fixture.user.id, limit: 10 })).some((e) => e.code === 'password_rehashed'));
    await app.dispose();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test('the real server starts with nothing configured, prints the setup link and demo, and exits cleanly on SIGTERM', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-serve-'));
  const port = await freePort();
  const child = spawn(process.execPath, [new URL('../../bin/portcullis.js', import.meta.url).pathname, 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PUBLIC_URL: `http://localhost:${port}`, PORTCULLIS_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', () => undefined);
  try {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('/demo') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(stdout, new RegExp(`http://localhost:${port}/setup/\\S+`), 'prints a one-time setup link');
    assert.match(stdout, new RegExp(`http://localhost:${port}/demo`), 'prints the demo page');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const setupPath = new RegExp(`http://localhost:${port}(/setup/\\S+)`).exec(stdout)?.[1] ?? '';
    assert.equal((await fetch(`http://127.0.0.1:${port}${setupPath}`)).status, 200, 'the setup link opens');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'graceful shutdown exits 0');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
