// Benchmark 1: password logins per second through the hosted login form, against the physical limit: raw argon2id
// verifies per second on all cores with the same parameters, measured in the same server process just before.
import { pathToFileURL } from 'node:url';
import { Connection } from './lib/http.js';
import { closedLoop, mergeLoads, type LoadResult } from './lib/load.js';
import { startCpuWindow } from './lib/machine.js';
import { Browser, counters, eventDelta, formLogin, type BenchUser } from './lib/portcullis.js';
import { newResult, noteDisturbance, percentiles, printFigures, ratioFigure, writeResult, type BenchResult } from './lib/report.js';
import { costOverWindows, costSnapshot, ownCpu, startServerProcess, type CostSnapshot, type ServerProcess } from './lib/server.js';

/** The production argon2 parameters are the config defaults (m=19456 KiB, t=2, p=1): the benchmark sets none. */
export const LOGIN_CONFIG = {
  // Bare HTTP clients are rightly flagged by the bot signals; this benchmark measures the login itself.
  bot: { loginMode: 'never' },
  passkeys: { offerAfterPasswordLogin: false },
};

export interface LoginLoadOptions {
  workers: number;
  durationMs: number;
  warmupMs: number;
  onMeasureStart?: () => void;
  /** One browser per user, kept across calls (a returning person keeps their cookies); fresh ones when absent. */
  browsers?: Browser[];
}

/**
 * Full password logins from `workers` connections, each cycling through its own share of the users (so no two
 * logins of one account overlap). Each user keeps one browser (cookie jar) across its logins, like a returning person.
 */
export async function loginLoad(
  port: number,
  users: BenchUser[],
  options: LoginLoadOptions,
): Promise<LoadResult & { postMs: ReturnType<typeof percentiles>; postSamples: number[]; failures: Record<string, number> }> {
  const connections = Array.from({ length: options.workers }, () => new Connection(port));
  const browsers = options.browsers ?? users.map(() => new Browser());
  const postLatencies: number[] = [];
  const failures: Record<string, number> = {};
  let measuring = false;
  const onMeasureStart = () => {
    measuring = true;
    options.onMeasureStart?.();
  };
  try {
    const result = await closedLoop({ workers: options.workers, durationMs: options.durationMs, warmupMs: options.warmupMs, onMeasureStart }, async (worker, i) => {
      const mine = Math.max(1, Math.floor(users.length / options.workers));
      const index = (worker * mine + (i % mine)) % users.length;
      const timing = await formLogin(browsers[index]!, connections[worker]!, users[index]!);
      if (timing.status !== 303) {
        failures[timing.status] = (failures[timing.status] ?? 0) + 1;
        throw new Error(`login answered ${timing.status}`);
      }
      if (measuring) postLatencies.push(timing.postMs);
      return timing.getMs + timing.postMs;
    });
    return { ...result, postMs: percentiles(postLatencies), postSamples: postLatencies, failures };
  } finally {
    for (const c of connections) c.close();
  }
}

interface RawRun {
  verifies: number;
  seconds: number;
  perSec: number;
  latencies: number[];
}

export async function runLoginThroughput(options: { quick: boolean }): Promise<BenchResult> {
  // The baseline and the logins alternate in `rounds` slices each (raw, logins, logins, raw, raw, logins, ...; an even
  // number of rounds makes the order symmetric), so a machine that gets busier or quieter weighs on both sides alike. Each login slice starts with a
  // short uncounted ramp (the loop refills after the raw slice); one longer warm-up runs before the first round.
  const s = options.quick
    ? { users: 32, rounds: 2, rawMs: 3000, loginMs: 3000, warmupMs: 1000, sliceRampMs: 300, workers: 8, rawConcurrency: 8 }
    : { users: 160, rounds: 6, rawMs: 16_000, loginMs: 20_000, warmupMs: 10_000, sliceRampMs: 500, workers: 8, rawConcurrency: 8 };
  const result = newResult('login-throughput', '1. Login throughput vs the physical limit (raw argon2id)', options.quick, {
    ...s,
    argon2: 'config defaults m=19456 KiB, t=2, p=1',
    config: LOGIN_CONFIG,
    loop: 'per login: GET /login (CSRF cookie + token), POST /login (right password) -> 303 /account; session cookie dropped',
    order: `${s.rounds} rounds of one raw-argon2 slice (rawMs / rounds) and one login slice (loginMs / rounds), in the order raw, logins, logins, raw, raw, logins, ...`,
  });
  const t0 = performance.now();
  const server: ServerProcess = await startServerProcess();
  try {
    const { port } = await server.call<{ port: number }>('startPortcullis', { config: LOGIN_CONFIG });
    const users = await server.call<BenchUser[]>('seedUsers', { prefix: 'login', count: s.users, password: 'Bench-login-pw-7Qx' });
    const browsers = users.map(() => new Browser());
    const before = await counters(server);

    const rawRuns: RawRun[] = [];
    const rawWindows: [CostSnapshot, CostSnapshot][] = [];
    const loginRuns: Awaited<ReturnType<typeof loginLoad>>[] = [];
    const loginWindows: [CostSnapshot, CostSnapshot][] = [];
    const rss: number[] = [];

    // Baseline: the physical limit, in the same process as the server (same libuv threadpool), nothing else running.
    const rawSlice = async (round: number) => {
      const cpu = startCpuWindow(ownCpu([server]));
      const c0 = await costSnapshot(server);
      rawRuns.push(await server.call<RawRun>('argon2Raw', { durationMs: s.rawMs / s.rounds, concurrency: s.rawConcurrency }));
      rawWindows.push([c0, await costSnapshot(server)]);
      result.cpu[`raw_argon2_${round + 1}`] = await cpu.stop();
    };
    const loginSlice = async (round: number, warmupMs: number) => {
      let window: ReturnType<typeof startCpuWindow> | undefined;
      let cost0: Promise<CostSnapshot> | undefined;
      let sampler: NodeJS.Timeout | undefined;
      try {
        const load = await loginLoad(port, users, {
          workers: s.workers,
          durationMs: s.loginMs / s.rounds,
          warmupMs,
          browsers,
          onMeasureStart: () => {
            window = startCpuWindow(ownCpu([server]));
            cost0 = costSnapshot(server);
            sampler = setInterval(() => void server.memory().then((m) => rss.push(m.rss), () => undefined), 500);
          },
        });
        loginWindows.push([await cost0!, await costSnapshot(server)]);
        loginRuns.push(load);
        result.cpu[`logins_${round + 1}`] = await window!.stop();
      } finally {
        clearInterval(sampler);
      }
    };
    // The first login slice also carries the run's warm-up (JIT, statement cache, every user's first device record).
    for (let round = 0; round < s.rounds; round++) {
      const ramp = round === 0 ? s.warmupMs : s.sliceRampMs;
      if (round % 2 === 0) {
        await rawSlice(round);
        await loginSlice(round, ramp);
      } else {
        await loginSlice(round, ramp);
        await rawSlice(round);
      }
    }
    const after = await counters(server);
    // The raw slices use their own hasher, outside the server's verify counter: this counts the logins' verifies only.
    const verifies = after.argon2Verifies - before.argon2Verifies;

    const load = mergeLoads(loginRuns);
    const failures: Record<string, number> = {};
    for (const r of loginRuns) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    const raw = { perSec: rawRuns.reduce((a, r) => a + r.verifies, 0) / rawRuns.reduce((a, r) => a + r.seconds, 0), verifies: rawRuns.reduce((a, r) => a + r.verifies, 0) };
    const rawCost = costOverWindows(rawWindows, raw.verifies);
    const loginCost = costOverWindows(loginWindows, load.opsIncludingTail);
    const roundRatios = loginRuns.map((l, i) => l.perSec / rawRuns[i]!.perSec);
    const rawRates = rawRuns.map((r) => r.perSec);
    if ((Math.max(...rawRates) - Math.min(...rawRates)) / raw.perSec > 0.2) {
      result.warnings.push(`raw argon2 throughput moved by more than 20% between slices (${rawRates.map((r) => r.toFixed(1)).join(', ')} /s): the machine was busy; the interleaving spreads that over both sides`);
    }

    const rawLatency = percentiles(rawRuns.flatMap((r) => r.latencies));
    const postLatency = percentiles(loginRuns.flatMap((r) => r.postSamples));
    result.figures.push(
      { name: 'raw argon2id verify (baseline)', value: raw.perSec, unit: 'verifies/s', note: `${s.rawConcurrency} concurrent verifies; per slice ${rawRates.map((r) => r.toFixed(1)).join(', ')}/s; p50 ${rawLatency.p50} ms, p99 ${rawLatency.p99} ms per verify` },
      {
        ...ratioFigure('password logins (GET + POST /login)', load.perSec, 'logins/s', { name: 'raw verifies/s', value: raw.perSec, unit: 'verifies/s' }, { min: 0.85 }),
        note: `per round (logins / raw of the same round): ${roundRatios.map((r) => r.toFixed(2)).join(', ')}`,
      },
      { name: 'login latency p50 (GET + POST)', value: load.latencyMs.p50, unit: 'ms', baseline: { name: 'raw verify p50', value: rawLatency.p50, unit: 'ms' }, ratio: load.latencyMs.p50 / rawLatency.p50 },
      { name: 'login latency p99 (GET + POST)', value: load.latencyMs.p99, unit: 'ms', baseline: { name: 'raw verify p99', value: rawLatency.p99, unit: 'ms' }, ratio: load.latencyMs.p99 / rawLatency.p99 },
      { name: 'POST /login latency p50 / p99', value: postLatency.p50, unit: 'ms', note: `p99 ${postLatency.p99} ms` },
      {
        name: 'CPU per login (server + client)',
        value: loginCost.serverCpuMs + loginCost.clientCpuMs,
        unit: 'ms',
        baseline: { name: 'CPU per raw verify', value: rawCost.serverCpuMs, unit: 'ms' },
        ratio: (loginCost.serverCpuMs + loginCost.clientCpuMs) / rawCost.serverCpuMs,
        note:
          `server ${loginCost.serverCpuMs} ms (main thread ${loginCost.serverMainThreadCpuMs} ms of CPU, kernel ${loginCost.serverSystemCpuMs} ms over all threads; its event loop busy ${loginCost.serverMainThreadMs} ms per login, i.e. ${Math.round(loginCost.serverMainThreadMs * load.perSec / 10)}% of the time; ` +
          `${loginCost.sqlStatements} SQL statements), client ${loginCost.clientCpuMs} ms; a raw verify costs ${rawCost.serverCpuMs} ms of CPU. ` +
          `With the CPU saturated, logins/s / verifies/s cannot exceed ${(rawCost.serverCpuMs / (loginCost.serverCpuMs + loginCost.clientCpuMs)).toFixed(2)} (CPU per verify / CPU per login)`,
      },
    );
    result.details = {
      rawArgon2: { perSec: raw.perSec, verifies: raw.verifies, perSlice: rawRates, latencyMs: rawLatency, costPerVerify: rawCost },
      logins: { ...load, perSlice: loginRuns.map((l) => l.perSec), roundRatios, postMs: postLatency, failures, argon2VerifiesDuringRun: verifies, events: eventDelta(before, after), costPerLogin: loginCost },
      serverRssBytesDuringLoad: { sampleCount: rss.length, peak: Math.max(...rss), mean: rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length) },
    };
    if (load.errors) result.warnings.push(`${load.errors} failed logins: ${JSON.stringify(failures)} ${load.errorSamples.join(' | ')}`);
    noteDisturbance(result);
  } finally {
    await server.stop();
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  printFigures(result);
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runLoginThroughput({ quick: process.argv.includes('--quick') });
