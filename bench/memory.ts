// Benchmark 6: server memory. RSS of the Portcullis server process idle (before and after the geolocation data is
// loaded by a first sign-in) and under the login load of benchmark 1, against a bare Fastify process measured in the
// same run. Both processes run under tsx, as `npm start` does.
import { pathToFileURL } from 'node:url';
import { Connection } from './lib/http.js';
import { startCpuWindow } from './lib/machine.js';
import { Browser, formLogin, type BenchUser } from './lib/portcullis.js';
import { newResult, noteDisturbance, printFigures, writeResult, type BenchResult } from './lib/report.js';
import { ownCpu, startServerProcess, type ServerProcess } from './lib/server.js';
import { LOGIN_CONFIG, loginLoad } from './login-throughput.js';

const MiB = 2 ** 20;
const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

export async function runMemory(options: { quick: boolean }): Promise<BenchResult> {
  const s = options.quick ? { users: 16, loadMs: 3000, warmupMs: 1000, workers: 8, sampleEveryMs: 250 } : { users: 64, loadMs: 15_000, warmupMs: 2000, workers: 8, sampleEveryMs: 250 };
  const result = newResult('memory', '6. Server memory (RSS)', options.quick, {
    ...s,
    config: LOGIN_CONFIG,
    idle: 'after two full GCs (--expose-gc), a few seconds after start',
    load: 'the login load of benchmark 1 (GET + POST /login, right password), RSS sampled every 250 ms',
    baseline: 'a bare Fastify 5 process (same child script under tsx, without Portcullis loaded), idle after two GCs',
  });
  const t0 = performance.now();
  const bare: ServerProcess = await startServerProcess({ exposeGc: true });
  const server: ServerProcess = await startServerProcess({ exposeGc: true });
  try {
    await bare.call('startBareFastify');
    const { port } = await server.call<{ port: number }>('startPortcullis', { config: LOGIN_CONFIG });
    const users = await server.call<BenchUser[]>('seedUsers', { prefix: 'mem', count: s.users, password: 'Bench-mem-pw-7Qx' });
    const bareIdle = await bare.memory(true);
    const beforeGeo = await server.memory(true);

    // A first sign-in runs risk assessment, which loads the geolocation data (lazily, on first use).
    const connection = new Connection(port);
    const first = await formLogin(new Browser(), connection, users[0]!);
    connection.close();
    if (first.status !== 303) throw new Error(`the first sign-in answered ${first.status}`);
    const idle = await server.memory(true);

    const samples: number[] = [];
    let sampler: NodeJS.Timeout | undefined;
    let cpu: ReturnType<typeof startCpuWindow> | undefined;
    const load = await loginLoad(port, users, {
      workers: s.workers,
      durationMs: s.loadMs,
      warmupMs: s.warmupMs,
      onMeasureStart: () => {
        cpu = startCpuWindow(ownCpu([server]));
        sampler = setInterval(() => void server.memory().then((m) => samples.push(m.rss), () => undefined), s.sampleEveryMs);
      },
    });
    clearInterval(sampler);
    result.cpu.login_load = await cpu!.stop();
    const afterLoad = await server.memory(true);
    const peak = Math.max(...samples);
    const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
    const bareRss = bareIdle.rss;

    result.figures.push(
      { name: 'bare Fastify process, idle (baseline)', value: mib(bareRss), unit: 'MiB' },
      { name: 'Portcullis idle, before geolocation data', value: mib(beforeGeo.rss), unit: 'MiB', baseline: { name: 'bare', value: mib(bareRss), unit: 'MiB' }, ratio: beforeGeo.rss / bareRss },
      { name: 'Portcullis idle, geolocation data loaded', value: mib(idle.rss), unit: 'MiB', baseline: { name: 'bare', value: mib(bareRss), unit: 'MiB' }, ratio: idle.rss / bareRss, note: `+${mib(idle.rss - beforeGeo.rss)} MiB for the geolocation data; heap used ${mib(idle.heapUsed)} MiB, external ${mib(idle.external)} MiB` },
      { name: 'Portcullis under login load, peak', value: mib(peak), unit: 'MiB', baseline: { name: 'idle', value: mib(idle.rss), unit: 'MiB' }, ratio: peak / idle.rss, note: `mean ${mib(mean)} MiB over ${samples.length} samples at ${load.perSec.toFixed(1)} logins/s (argon2id m=19456 KiB: about 19 MiB per verify in flight, up to UV_THREADPOOL_SIZE at once)` },
      { name: 'Portcullis idle again after the load', value: mib(afterLoad.rss), unit: 'MiB', baseline: { name: 'idle', value: mib(idle.rss), unit: 'MiB' }, ratio: afterLoad.rss / idle.rss, note: `heap used ${mib(afterLoad.heapUsed)} MiB (was ${mib(idle.heapUsed)} MiB)` },
    );
    result.details = { bareIdle, beforeGeo, idle, afterLoad, underLoad: { peak, mean, sampleCount: samples.length, logins: load.ops, loginsPerSec: load.perSec, errors: load.errors } };
    if (load.errors) result.warnings.push(`${load.errors} failed logins during the load: ${load.errorSamples.join(' | ')}`);
    if (idle.rss - beforeGeo.rss < 20 * MiB) result.warnings.push('RSS grew by less than 20 MiB at the first sign-in: the geolocation data may not have been loaded');
    noteDisturbance(result);
  } finally {
    await Promise.all([server.stop(), bare.stop()]);
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  printFigures(result);
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runMemory({ quick: process.argv.includes('--quick') });
