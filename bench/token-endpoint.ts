// Benchmark 4: the token endpoint. Refresh-token grants (rotating, chained per connection) and client-credentials
// grants per second on Portcullis, against the same grants on a bare oidc-provider (its default in-memory adapter,
// the same client and token settings) in the same server process and the same run.
import { createHash, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Connection, csrfIn, pathOf } from './lib/http.js';
import { closedLoop, mergeLoads, type LoadResult } from './lib/load.js';
import { startCpuWindow } from './lib/machine.js';
import { Browser, type BenchUser } from './lib/portcullis.js';
import { newResult, noteDisturbance, printFigures, ratioFigure, writeResult, type BenchResult } from './lib/report.js';
import { costOverWindows, costSnapshot, ownCpu, startServerProcess, type CostSnapshot, type OpCost, type ServerProcess } from './lib/server.js';

const CONFIG = { bot: { loginMode: 'never' }, passkeys: { offerAfterPasswordLogin: false } };
const SPA = 'bench-spa';
const API = 'bench-api';
const REDIRECT_URI = 'https://app.example.com/callback';
const PUBLIC_ORIGIN = 'http://localhost:3000';

/** A real sign-in through Portcullis: authorize (PKCE), the hosted login form, the code exchange. Returns the refresh token. */
async function refreshTokenByLogin(port: number, user: BenchUser): Promise<string> {
  const connection = new Connection(port);
  const browser = new Browser();
  try {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: SPA,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: REDIRECT_URI,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('hex'),
    });
    const auth = await browser.send(connection, 'GET', `/oidc/auth?${query}`);
    if (auth.status !== 303) throw new Error(`authorize answered ${auth.status}`);
    const page = await browser.send(connection, 'GET', pathOf(String(auth.headers.location)));
    const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
    if (page.status !== 200 || !action) throw new Error(`login page answered ${page.status}`);
    let res = await browser.send(connection, 'POST', action, { csrf: csrfIn(page.body), email: user.email, password: user.password });
    for (let hop = 0; hop < 8 && res.status >= 300 && res.status < 400; hop++) {
      const to = String(res.headers.location);
      if (!to.startsWith('/') && !to.startsWith(`${PUBLIC_ORIGIN}/`)) break;
      res = await browser.send(connection, 'GET', pathOf(to));
    }
    const code = new URL(String(res.headers.location ?? 'x:')).searchParams.get('code');
    if (!code) throw new Error(`no authorization code (status ${res.status}, location ${res.headers.location})`);
    const token = await connection.request({
      method: 'POST',
      path: '/oidc/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: SPA, redirect_uri: REDIRECT_URI }).toString(),
    });
    const refresh = (JSON.parse(token.body) as { refresh_token?: string }).refresh_token;
    if (token.status !== 200 || !refresh) throw new Error(`code exchange answered ${token.status}: ${token.body.slice(0, 200)}`);
    return refresh;
  } finally {
    connection.close();
  }
}

interface GrantRun extends LoadResult {
  cost: OpCost;
}

interface GrantTarget {
  port: number;
  path: string;
  body: (worker: number) => string;
  headers: Record<string, string>;
  onToken?: (worker: number, json: Record<string, unknown>) => void;
}

/** One timed run of token requests from `workers` keep-alive connections; returns the load and its cost window. */
async function grantRun(server: ServerProcess, t: GrantTarget, workers: number, durationMs: number, warmupMs: number): Promise<{ load: LoadResult; window: [CostSnapshot, CostSnapshot] }> {
  const connections = Array.from({ length: workers }, () => new Connection(t.port));
  let c0: Promise<CostSnapshot> | undefined;
  try {
    const load = await closedLoop({ workers, durationMs, warmupMs, onMeasureStart: () => (c0 = costSnapshot(server)) }, async (w) => {
      const res = await connections[w]!.request({ method: 'POST', path: t.path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...t.headers }, body: t.body(w) });
      if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${res.body.slice(0, 200)}`);
      t.onToken?.(w, JSON.parse(res.body) as Record<string, unknown>);
      return res.ms;
    });
    return { load, window: [await c0!, await costSnapshot(server)] };
  } finally {
    for (const c of connections) c.close();
  }
}

/**
 * Portcullis and the bare provider in the order P, B, B, P (each half the time), so that a machine getting busier or
 * quieter during the pair affects both sides alike.
 */
async function pairedRuns(server: ServerProcess, p: GrantTarget, b: GrantTarget, s: { workers: number; durationMs: number; warmupMs: number }): Promise<{ portcullis: GrantRun; bare: GrantRun }> {
  const half = s.durationMs / 2;
  const order: ['p' | 'b', GrantTarget][] = [['p', p], ['b', b], ['b', b], ['p', p]];
  const runs: Record<'p' | 'b', { loads: LoadResult[]; windows: [CostSnapshot, CostSnapshot][] }> = { p: { loads: [], windows: [] }, b: { loads: [], windows: [] } };
  for (const [side, target] of order) {
    const r = await grantRun(server, target, s.workers, half, s.warmupMs);
    runs[side].loads.push(r.load);
    runs[side].windows.push(r.window);
  }
  const merged = (side: 'p' | 'b'): GrantRun => {
    const load = mergeLoads(runs[side].loads);
    return { ...load, cost: costOverWindows(runs[side].windows, load.opsIncludingTail) };
  };
  return { portcullis: merged('p'), bare: merged('b') };
}

export async function runTokenEndpoint(options: { quick: boolean }): Promise<BenchResult> {
  // durationMs per side, split in two halves (P, B, B, P); each half starts with an uncounted warm-up.
  const s = options.quick ? { workers: 8, durationMs: 2000, warmupMs: 300 } : { workers: 8, durationMs: 10_000, warmupMs: 1000 };
  const result = newResult('token-endpoint', '4. Token endpoint vs bare oidc-provider', options.quick, {
    ...s,
    config: CONFIG,
    order: 'Portcullis, bare, bare, Portcullis (each half the duration) for each grant type',
    refresh: `${s.workers} connections, each with its own refresh token chain (rotation on every use); Portcullis chains come from real sign-ins (authorize + hosted login + code exchange), bare ones are minted with its Grant and RefreshToken models`,
    clientCredentials: 'client_secret_basic, scope users:read; Portcullis stores the secret as a SHA-256 hash, the bare provider in plain text',
    bare: 'oidc-provider 9.13.3, default in-memory adapter, same clients, scopes, claims, TTLs, rotateRefreshToken and issueRefreshToken, RS256 2048-bit key, served by node:http in the same process as Portcullis',
  });
  const t0 = performance.now();
  const server: ServerProcess = await startServerProcess();
  try {
    const { port } = await server.call<{ port: number }>('startPortcullis', { config: CONFIG });
    const users = await server.call<BenchUser[]>('seedUsers', { prefix: 'app', count: s.workers, password: 'Bench-app-pw-7Qx' });
    await server.call('addPublicClient', { clientId: SPA, redirectUri: REDIRECT_URI });
    const { secret } = await server.call<{ secret: string }>('addApiClient', { clientId: API, scopes: ['users:read'] });
    const { port: barePort } = await server.call<{ port: number }>('startBareOidc', { apiSecret: secret });

    const portcullisChains = await Promise.all(users.map((u) => refreshTokenByLogin(port, u)));
    const bareChains = await server.call<string[]>('mintBareRefreshTokens', { count: s.workers });
    const refreshBody = (chains: string[]) => (w: number) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: chains[w]!, client_id: SPA }).toString();
    const rotate = (chains: string[]) => (w: number, json: Record<string, unknown>) => {
      if (typeof json.refresh_token !== 'string') throw new Error('no rotated refresh token in the response');
      chains[w] = json.refresh_token;
    };
    const basic = { authorization: `Basic ${Buffer.from(`${API}:${secret}`).toString('base64')}` };
    const ccBody = () => 'grant_type=client_credentials&scope=users%3Aread';

    let cpu = startCpuWindow(ownCpu([server]));
    const refresh = await pairedRuns(
      server,
      { port, path: '/oidc/token', body: refreshBody(portcullisChains), headers: {}, onToken: rotate(portcullisChains) },
      { port: barePort, path: '/token', body: refreshBody(bareChains), headers: {}, onToken: rotate(bareChains) },
      s,
    );
    result.cpu.refresh = await cpu.stop();
    cpu = startCpuWindow(ownCpu([server]));
    const cc = await pairedRuns(server, { port, path: '/oidc/token', body: ccBody, headers: basic }, { port: barePort, path: '/token', body: ccBody, headers: basic }, s);
    result.cpu.client_credentials = await cpu.stop();
    const [pRefresh, bRefresh, pCc, bCc] = [refresh.portcullis, refresh.bare, cc.portcullis, cc.bare];

    const note = (p: GrantRun, b: GrantRun) =>
      `p50 ${p.latencyMs.p50} ms vs ${b.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms vs ${b.latencyMs.p99} ms; server CPU ${p.cost.serverCpuMs} vs ${b.cost.serverCpuMs} ms per grant, ${p.cost.sqlStatements} SQL statements per grant`;
    result.figures.push(
      { name: 'bare oidc-provider refresh grants (baseline)', value: bRefresh.perSec, unit: 'grants/s' },
      { ...ratioFigure('Portcullis refresh grants', pRefresh.perSec, 'grants/s', { name: 'bare', value: bRefresh.perSec }, { min: 0.7 }), note: note(pRefresh, bRefresh) },
      { name: 'bare oidc-provider client-credentials grants (baseline)', value: bCc.perSec, unit: 'grants/s' },
      { ...ratioFigure('Portcullis client-credentials grants', pCc.perSec, 'grants/s', { name: 'bare', value: bCc.perSec }, { min: 0.7 }), note: note(pCc, bCc) },
      // CPU per grant moves far less than grants/s when other work shares the machine: the throughput ratio a
      // CPU-bound server would reach is its inverse.
      { name: 'server CPU per refresh grant', value: pRefresh.cost.serverCpuMs, unit: 'ms', baseline: { name: 'bare', value: bRefresh.cost.serverCpuMs, unit: 'ms' }, ratio: pRefresh.cost.serverCpuMs / bRefresh.cost.serverCpuMs, note: `CPU-bound throughput ratio ${(bRefresh.cost.serverCpuMs / pRefresh.cost.serverCpuMs).toFixed(2)}` },
      { name: 'server CPU per client-credentials grant', value: pCc.cost.serverCpuMs, unit: 'ms', baseline: { name: 'bare', value: bCc.cost.serverCpuMs, unit: 'ms' }, ratio: pCc.cost.serverCpuMs / bCc.cost.serverCpuMs, note: `CPU-bound throughput ratio ${(bCc.cost.serverCpuMs / pCc.cost.serverCpuMs).toFixed(2)}` },
    );
    result.details = { portcullisRefresh: pRefresh, bareRefresh: bRefresh, portcullisClientCredentials: pCc, bareClientCredentials: bCc };
    for (const [name, r] of Object.entries(result.details) as [string, GrantRun][]) {
      if (r.errors) result.warnings.push(`${name}: ${r.errors} failed grants: ${r.errorSamples.join(' | ')}`);
    }
    noteDisturbance(result);
  } finally {
    await server.stop();
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  printFigures(result);
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runTokenEndpoint({ quick: process.argv.includes('--quick') });
