// Benchmark 2: the blocked path. Login attempts from a blocked (account, IP) pair and from a throttled IP are refused
// before any hashing; how many per second, against a bare Fastify route in the same process layout with the same
// client (autocannon). The argon2 counter must not move during the blocked runs.
import { pathToFileURL } from 'node:url';
import { cannon, type CannonResult } from './lib/cannon.js';
import { Connection, csrfIn } from './lib/http.js';
import { startCpuWindow } from './lib/machine.js';
import { Browser, counters, DESKTOP_CHROME_UA, type BenchUser } from './lib/portcullis.js';
import { fmt, newResult, noteDisturbance, printFigures, ratioFigure, writeResult, type BenchResult, type Figure } from './lib/report.js';
import { costPerOp, costSnapshot, ownCpu, startServerProcess, type OpCost, type ServerProcess } from './lib/server.js';

const CONFIG = {
  bot: { loginMode: 'never' },
  passkeys: { offerAfterPasswordLogin: false },
  // The attacker IPs arrive in X-Forwarded-For from the benchmark client on loopback, as behind a reverse proxy.
  trustProxy: 'loopback',
};
const BLOCKED_IP = '203.0.113.7';

/** autocannon records latency in whole milliseconds: a bare route's p50 of 0 means "under 1 ms", and has no ratio. */
function latencyFigure(name: string, value: number, baselineName: string, baseline: number): Figure {
  return baseline > 0
    ? { name, value, unit: 'ms', baseline: { name: baselineName, value: baseline, unit: 'ms' }, ratio: value / baseline }
    : { name, value, unit: 'ms', baseline: { name: `${baselineName}, under autocannon's 1 ms resolution`, value: baseline, unit: 'ms' } };
}
const THROTTLED_IP = '203.0.113.8';

/** Fails `times` logins from one browser; returns the status of the last one. */
async function failLogins(browser: Browser, connection: Connection, emails: (i: number) => string, times: number): Promise<number> {
  let status = 0;
  for (let i = 0; i < times; i++) {
    const page = await browser.send(connection, 'GET', '/login');
    const res = await browser.send(connection, 'POST', '/login', { csrf: csrfIn(page.body), email: emails(i), password: `wrong password ${i}` });
    status = res.status;
  }
  return status;
}

/** The fixed request autocannon repeats: this browser's cookies and CSRF token, a wrong password. */
async function fixedAttempt(browser: Browser, connection: Connection, email: string, ip: string) {
  const page = await browser.send(connection, 'GET', '/login');
  return {
    headers: {
      'user-agent': DESKTOP_CHROME_UA,
      'x-forwarded-for': ip,
      'content-type': 'application/x-www-form-urlencoded',
      cookie: browser.jar.header('/login') ?? '',
    },
    body: new URLSearchParams({ csrf: csrfIn(page.body), email, password: 'still the wrong password' }).toString(),
  };
}

export async function runBlockedPath(options: { quick: boolean }): Promise<BenchResult> {
  // durationSec per target, in two halves; warmupSec per target, uncounted.
  const s = options.quick ? { durationSec: 2, warmupSec: 1, connections: 10 } : { durationSec: 12, warmupSec: 2, connections: 10 };
  const result = newResult('blocked-path', '2. The blocked path vs a bare Fastify route', options.quick, {
    ...s,
    config: CONFIG,
    client: 'autocannon, pipelining 1, the same fixed POST /login (cookies, CSRF token, wrong password) for every run',
    baseline: 'bare Fastify 5 + @fastify/formbody in its own process, GET/POST /login -> 200 "ok"',
    order: 'an uncounted warm-up of each target, then bare, blocked, throttled, throttled, blocked, bare (each half the duration)',
    blockedPair: `victim account from ${BLOCKED_IP} after 10 wrong passwords (bruteForce.threshold default 10)`,
    throttledIp: `${THROTTLED_IP} after 100 failed logins over 100 unknown identifiers (throttle.failedLoginsPerDay default 100)`,
  });
  const t0 = performance.now();
  const bare: ServerProcess = await startServerProcess();
  const server: ServerProcess = await startServerProcess();
  const connection = new Connection(0);
  try {
    const { port: barePort } = await bare.call<{ port: number }>('startBareFastify');
    const { port } = await server.call<{ port: number }>('startPortcullis', { config: CONFIG });
    const [victim] = await server.call<BenchUser[]>('seedUsers', { prefix: 'victim', count: 1, password: 'Bench-victim-pw-7Qx' });
    const conn = new Connection(port);

    // The blocked pair: 10 wrong passwords for the victim from BLOCKED_IP; the 11th attempt must be refused (429).
    const blockedBrowser = new Browser({ 'user-agent': DESKTOP_CHROME_UA, 'x-forwarded-for': BLOCKED_IP });
    await failLogins(blockedBrowser, conn, () => victim!.email, 10);
    const blockedReq = await fixedAttempt(blockedBrowser, conn, victim!.email, BLOCKED_IP);
    // The throttled IP: 100 failures over distinct unknown identifiers empty its bucket.
    const throttledBrowser = new Browser({ 'user-agent': DESKTOP_CHROME_UA, 'x-forwarded-for': THROTTLED_IP });
    await failLogins(throttledBrowser, conn, (i) => `nobody${i}@bench.example.com`, 100);
    const throttledReq = await fixedAttempt(throttledBrowser, conn, 'someone-else@bench.example.com', THROTTLED_IP);
    for (const [name, req, expect] of [['blocked', blockedReq, 'blocked after too many failed attempts'], ['throttled', throttledReq, 'Too many failed sign-ins have come from your network']] as const) {
      const probe = await conn.request({ method: 'POST', path: '/login', headers: req.headers, body: req.body });
      if (probe.status !== 429 || !probe.body.includes(expect)) throw new Error(`the ${name} attempt was not refused as expected: ${probe.status} ${probe.body.slice(0, 200)}`);
    }
    conn.close();

    const run = async (phase: string, target: ServerProcess, p: number, req: { headers: Record<string, string>; body: string }): Promise<CannonResult & { cost: ReturnType<typeof costPerOp> }> => {
      const cpu = startCpuWindow(ownCpu([target]));
      const c0 = await costSnapshot(target);
      const r = await cannon({ port: p, method: 'POST', path: '/login', headers: req.headers, body: req.body, connections: s.connections, durationSec: s.durationSec / 2 });
      const cost = costPerOp(c0, await costSnapshot(target), r.total);
      result.cpu[phase] = await cpu.stop();
      return { ...r, cost };
    };

    // An uncounted warm-up of each target (JIT, autocannon, the refusal memory), then the measured runs in the
    // palindromic order bare, blocked, throttled, throttled, blocked, bare (each half the duration): a machine that
    // gets busier or quieter during the run then weighs on all three alike.
    const targets = { bare: [bare, barePort, blockedReq], blocked: [server, port, blockedReq], throttled: [server, port, throttledReq] } as const;
    for (const [, p, req] of Object.values(targets)) {
      await cannon({ port: p, method: 'POST', path: '/login', headers: req.headers, body: req.body, connections: s.connections, durationSec: s.warmupSec });
    }
    const halves: Record<keyof typeof targets, Array<CannonResult & { cost: ReturnType<typeof costPerOp> }>> = { bare: [], blocked: [], throttled: [] };
    const counted: Record<'blocked' | 'throttled', number> = { blocked: 0, throttled: 0 };
    for (const [i, name] of (['bare', 'blocked', 'throttled', 'throttled', 'blocked', 'bare'] as const).entries()) {
      const [target, p, req] = targets[name];
      const c0 = await counters(server);
      halves[name].push(await run(`${name}_${i < 3 ? 1 : 2}`, target, p, req));
      if (name !== 'bare') counted[name] += (await counters(server)).argon2Verifies - c0.argon2Verifies;
    }
    const merge = (runs: Array<CannonResult & { cost: ReturnType<typeof costPerOp> }>) => {
      const total = runs.reduce((a, r) => a + r.total, 0);
      const seconds = runs.reduce((a, r) => a + r.seconds, 0);
      const statusCodes: Record<string, number> = {};
      for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
      const avg = (f: (r: CannonResult) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
      // Every per-request cost of the halves, weighted by the requests each half served.
      const weighted = (f: (c: OpCost) => number) => Math.round((runs.reduce((a, r) => a + f(r.cost) * r.total, 0) / total) * 1000) / 1000;
      return {
        perSec: total / seconds,
        total,
        seconds,
        latencyMs: { p50: avg((r) => r.latencyMs.p50), p90: avg((r) => r.latencyMs.p90), p99: avg((r) => r.latencyMs.p99), max: Math.max(...runs.map((r) => r.latencyMs.max)), mean: avg((r) => r.latencyMs.mean) },
        statusCodes,
        errors: runs.reduce((a, r) => a + r.errors, 0),
        timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
        cost: {
          serverCpuMs: weighted((c) => c.serverCpuMs),
          serverMainThreadMs: weighted((c) => c.serverMainThreadMs),
          serverMainThreadCpuMs: weighted((c) => c.serverMainThreadCpuMs),
          serverSystemCpuMs: weighted((c) => c.serverSystemCpuMs),
          clientCpuMs: weighted((c) => c.clientCpuMs),
          sqlStatements: weighted((c) => c.sqlStatements),
        },
      };
    };
    const [bare1, bare2] = halves.bare as [(typeof halves.bare)[number], (typeof halves.bare)[number]];
    const blocked = merge(halves.blocked);
    const throttled = merge(halves.throttled);

    const barePerSec = (bare1.perSec + bare2.perSec) / 2;
    const bareP50 = (bare1.latencyMs.p50 + bare2.latencyMs.p50) / 2;
    const bareP99 = (bare1.latencyMs.p99 + bare2.latencyMs.p99) / 2;
    const bareCpuMs = Math.round(((bare1.cost.serverCpuMs + bare2.cost.serverCpuMs) / 2) * 1000) / 1000;
    const verifiesBlocked = counted.blocked;
    const verifiesThrottled = counted.throttled;
    const baseline = { name: 'bare Fastify req/s', value: barePerSec, unit: 'req/s' };
    const costNote = (r: typeof blocked) => `server CPU ${r.cost.serverCpuMs} ms/request, ${r.cost.sqlStatements} SQL statements; status codes ${JSON.stringify(r.statusCodes)}`;
    result.figures.push(
      { name: 'bare Fastify POST /login (baseline)', value: barePerSec, unit: 'req/s', note: `before ${fmt(bare1.perSec)}, after ${fmt(bare2.perSec)} req/s; p50 ${bareP50} ms, p99 ${bareP99} ms; server CPU ${bareCpuMs} ms/request` },
      ratioFigure('blocked (account, IP) attempts', blocked.perSec, 'req/s', baseline, { min: 0.5 }),
      latencyFigure('blocked: latency p50', blocked.latencyMs.p50, 'bare p50', bareP50),
      { ...latencyFigure('blocked: latency p99', blocked.latencyMs.p99, 'bare p99', bareP99), note: costNote(blocked) },
      { name: 'argon2 verifies during blocked run', value: verifiesBlocked, unit: '', target: '= 0', met: verifiesBlocked === 0 },
      ratioFigure('throttled IP attempts', throttled.perSec, 'req/s', baseline, { min: 0.5 }),
      latencyFigure('throttled: latency p50', throttled.latencyMs.p50, 'bare p50', bareP50),
      { ...latencyFigure('throttled: latency p99', throttled.latencyMs.p99, 'bare p99', bareP99), note: costNote(throttled) },
      { name: 'argon2 verifies during throttled run', value: verifiesThrottled, unit: '', target: '= 0', met: verifiesThrottled === 0 },
      // CPU per request moves far less than req/s when other work shares the machine.
      { name: 'server CPU per blocked attempt', value: blocked.cost.serverCpuMs, unit: 'ms', baseline: { name: 'bare', value: bareCpuMs, unit: 'ms' }, ratio: blocked.cost.serverCpuMs / bareCpuMs },
      { name: 'server CPU per throttled attempt', value: throttled.cost.serverCpuMs, unit: 'ms', baseline: { name: 'bare', value: bareCpuMs, unit: 'ms' }, ratio: throttled.cost.serverCpuMs / bareCpuMs },
    );
    result.details = {
      bareBefore: bare1,
      bareAfter: bare2,
      blocked: { ...blocked, argon2Verifies: verifiesBlocked, halves: halves.blocked },
      throttled: { ...throttled, argon2Verifies: verifiesThrottled, halves: halves.throttled },
    };
    for (const [name, r, code] of [['blocked', blocked, '429'], ['throttled', throttled, '429']] as const) {
      const other = r.total - (r.statusCodes[code] ?? 0);
      if (other > 0 || r.errors > 0) result.warnings.push(`${name}: ${other} responses other than ${code}, ${r.errors} connection errors`);
    }
    if (Math.abs(bare1.perSec - bare2.perSec) / barePerSec > 0.2) result.warnings.push(`the bare baseline moved by more than 20% between before and after (${fmt(bare1.perSec)} vs ${fmt(bare2.perSec)} req/s): the machine was busy`);
    noteDisturbance(result);
  } finally {
    connection.close();
    await Promise.all([server.stop(), bare.stop()]);
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  printFigures(result);
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runBlockedPath({ quick: process.argv.includes('--quick') });
