// Online mode against a local server speaking the HIBP range format: k-anonymity, padding, cache, timeouts, fail modes.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBreachChecker, type BreachChecker, type BreachCheckerOptions } from '../../src/protection/breached/breach-checker.js';
import { createHibpRangeClient, HibpUnavailableError } from '../../src/protection/breached/hibp-range-client.js';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();
const LEAKED = 'Tr0ub4dor&3-not-in-common-list';
const PADDED_ONLY = 'padding-only-suffix-password';
const SAFE = 'a long passphrase nobody has leaked 7319';

type Behaviour = 'ok' | 'slow' | 'error' | 'garbage';

describe('HIBP range API (online mode)', () => {
  let server: Server;
  let host: string;
  let behaviour: Behaviour;
  let requests: { url: string; headers: IncomingHttpHeaders }[];
  let dataDir: string;
  const checkers: BreachChecker[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pc-hibp-'));
    server = createServer((req, res) => {
      requests.push({ url: req.url ?? '', headers: req.headers });
      if (behaviour === 'slow') {
        setTimeout(() => res.end(), 6000).unref();
        return;
      }
      if (behaviour === 'error') {
        res.writeHead(500).end('oops');
        return;
      }
      if (behaviour === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('<html>maintenance</html>');
        return;
      }
      const prefix = (req.url ?? '').replace('/range/', '');
      const lines: string[] = [];
      for (const password of [LEAKED, PADDED_ONLY]) {
        const hash = sha1(password);
        if (hash.startsWith(prefix)) lines.push(`${hash.slice(5)}:${password === LEAKED ? 123_456 : 0}`);
      }
      // Padding lines (count 0) with random-looking suffixes, as the real API adds with Add-Padding: true.
      for (let i = 0; i < 20; i++) lines.push(`${sha1(`pad${i}${prefix}`).slice(5)}:0`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.sort().join('\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    behaviour = 'ok';
    requests = [];
  });
  after(async () => {
    for (const checker of checkers) checker.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const checker = (online: BreachCheckerOptions['online'] = {}, extra: Partial<BreachCheckerOptions> = {}): BreachChecker => {
    const c = createBreachChecker({ mode: 'online', dataDir, online: { host, timeoutMs: 1500, ...online }, ...extra });
    checkers.push(c);
    return c;
  };

  it('reports a listed password with its count class, and sends only 5 hex characters with Add-Padding', async () => {
    const verdict = await checker().check(LEAKED);
    assert.deepEqual(verdict, { breached: true, source: 'online', countClass: 17 });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.url, `/range/${sha1(LEAKED).slice(0, 5)}`);
    assert.match(requests[0]?.url ?? '', /^\/range\/[0-9A-F]{5}$/);
    assert.equal(requests[0]?.headers['add-padding'], 'true');
    const everything = JSON.stringify(requests);
    assert.ok(!everything.includes(sha1(LEAKED).slice(5, 15)) && !everything.includes(LEAKED), 'neither the password nor the rest of its hash leaves the process');
  });

  it('a miss is not breached, and padding lines (count 0) never count', async () => {
    const c = checker();
    assert.deepEqual(await c.check(SAFE), { breached: false, source: 'online' });
    assert.deepEqual(await c.check(PADDED_ONLY), { breached: false, source: 'online' });
  });

  it('a cached range answers without a second request (the cache is per checker and expires)', async () => {
    let now = 1_000_000;
    const c = checker({ cacheTtlMs: 60_000 }, { now: () => now });
    await c.check(LEAKED);
    await c.check(LEAKED);
    assert.equal(requests.length, 1);
    now += 60_001;
    await c.check(LEAKED);
    assert.equal(requests.length, 2, 'expired entries are fetched again');
    await checker().check(LEAKED);
    assert.equal(requests.length, 3, 'another checker has its own cache');
  });

  it('the minimum count class applies to online counts', async () => {
    assert.deepEqual(await checker({}, { minCountClass: 18 }).check(LEAKED), { breached: false, source: 'online' });
  });

  for (const failure of ['slow', 'error', 'garbage'] as const) {
    it(`${failure === 'slow' ? 'a timeout' : failure === 'error' ? 'a 500 answer' : 'a malformed answer'}: fail-open accepts, fail-closed refuses, neither is cached`, async () => {
      behaviour = failure;
      const errors: HibpUnavailableError[] = [];
      const open = checker({ failMode: 'open' }, { onOnlineError: (e) => errors.push(e) });
      const started = Date.now();
      assert.deepEqual(await open.check(SAFE), { breached: false, source: 'online', unavailable: true });
      // The slow server answers after 6 s; getting `unavailable` earlier shows the 1.5 s timeout fired.
      if (failure === 'slow') assert.ok(Date.now() - started < 5000, 'the timeout bounds the wait');
      assert.equal(errors[0]?.reason, failure === 'slow' ? 'timeout' : failure === 'error' ? 'http_status' : 'malformed');
      assert.ok(!errors[0]?.message.includes(sha1(SAFE).slice(5)), 'the error does not carry the hash');
      const closed = checker({ failMode: 'closed' });
      assert.deepEqual(await closed.check(SAFE), { breached: true, source: 'online', unavailable: true, countClass: null });
      behaviour = 'ok';
      assert.deepEqual(await closed.check(SAFE), { breached: false, source: 'online' }, 'a failure is not cached');
    });
  }

  it('an unreachable host is a network failure', async () => {
    const client = createHibpRangeClient({ host: 'http://127.0.0.1:9', timeoutMs: 500 });
    await assert.rejects(client.lookup(sha1(SAFE)), (e: unknown) => e instanceof HibpUnavailableError && (e.reason === 'network' || e.reason === 'timeout'));
  });

  it('the bundled common list and the test prefix answer before any request', async () => {
    const c = checker({}, { testPrefix: 'pwned-test-' });
    assert.deepEqual(await c.check('password'), { breached: true, source: 'offline', countClass: null });
    assert.deepEqual(await c.check('pwned-test-anything'), { breached: true, source: 'test_prefix', countClass: null });
    assert.equal(requests.length, 0);
  });
});
