// Benchmark 3: under attack. A credential-stuffing load (many identifiers, 50 IPs in X-Forwarded-For, bare clients
// that never run the login page's script) while 20 people log in normally from their own browsers (browser proof,
// a second or so to fill the form, their device cookie kept). Default bot mode (when_risky, medium sensitivity).
import { pathToFileURL } from 'node:url';
import { Connection, csrfIn } from './lib/http.js';
import { closedLoop, sleep } from './lib/load.js';
import { startCpuWindow } from './lib/machine.js';
import { Browser, counters, DESKTOP_CHROME_UA, eventDelta, formLogin, type BenchUser } from './lib/portcullis.js';
import { fmt, newResult, noteDisturbance, percentiles, printFigures, ratioFigure, writeResult, type BenchResult } from './lib/report.js';
import { costPerOp, costSnapshot, ownCpu, startServerProcess, type ServerProcess } from './lib/server.js';

const CONFIG = {
  // The bot settings stay at their defaults (loginMode when_risky, sensitivity medium, image CAPTCHA with proof of work).
  trustProxy: 'loopback',
  passkeys: { offerAfterPasswordLogin: false },
};
const ATTACKER_IPS = Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 1}`);
const legitIp = (i: number): string => `192.0.2.${i + 1}`;
/** Time a person takes between the page appearing and pressing "Sign in" (the medium threshold flags < 800 ms). */
const THINK_MS = 1200;

interface LegitRun {
  totalMs: number[];
  postMs: number[];
  ok: number;
  failed: Record<string, number>;
}

/**
 * Each legitimate user logs in `logins` times from its own IP and browser, one login every `everyMs` (people do not
 * sign in more than a few times a minute; the medium threshold flags more than 10 attempts per IP per minute).
 */
async function legitLogins(port: number, users: BenchUser[], browsers: Browser[], logins: number, everyMs: number): Promise<LegitRun> {
  const run: LegitRun = { totalMs: [], postMs: [], ok: 0, failed: {} };
  await Promise.all(
    users.map(async (user, i) => {
      const connection = new Connection(port);
      try {
        await sleep(Math.floor((everyMs * i) / users.length)); // staggered, so the logins spread over the run
        for (let n = 0; n < logins; n++) {
          const started = performance.now();
          try {
            const t = await formLogin(browsers[i]!, connection, user, { withProof: true, thinkMs: THINK_MS });
            if (t.status === 303) {
              run.ok++;
              run.totalMs.push(t.getMs + t.postMs);
              run.postMs.push(t.postMs);
            } else run.failed[t.status] = (run.failed[t.status] ?? 0) + 1;
          } catch (error) {
            const key = (error as Error).message.slice(0, 80);
            run.failed[key] = (run.failed[key] ?? 0) + 1;
          }
          const wait = everyMs - (performance.now() - started);
          if (n < logins - 1 && wait > 0) await sleep(wait);
        }
      } finally {
        connection.close();
      }
    }),
  );
  return run;
}

export async function runUnderAttack(options: { quick: boolean }): Promise<BenchResult> {
  const s = options.quick
    ? { legitUsers: 20, idleLogins: 1, attackLogins: 1, everyMs: 3000, attackers: 12, attackWarmupMs: 1000, identifiers: 500, existingAccounts: 20 }
    : { legitUsers: 20, idleLogins: 3, attackLogins: 4, everyMs: 7500, attackers: 12, attackWarmupMs: 3000, identifiers: 5000, existingAccounts: 100 };
  const result = newResult('under-attack', '3. Legitimate logins during a credential-stuffing attack', options.quick, {
    ...s,
    thinkMs: THINK_MS,
    config: CONFIG,
    attacker: `${s.attackers} connections as fast as they go; each attempt GET /login then POST /login with a leaked (email, password) pair, no browser proof, a desktop Chrome user agent, X-Forwarded-For one of ${ATTACKER_IPS.length} IPs; ${s.identifiers} identifiers of which ${s.existingAccounts + s.legitUsers} exist`,
    legitimate: `${s.legitUsers} users, each from its own IP and browser (cookie jar kept), browser proof as web/captcha.ts computes it, ${THINK_MS} ms to fill the form, one login every ${s.everyMs} ms`,
  });
  const t0 = performance.now();
  const server: ServerProcess = await startServerProcess();
  try {
    const { port } = await server.call<{ port: number }>('startPortcullis', { config: CONFIG });
    const legit = await server.call<BenchUser[]>('seedUsers', { prefix: 'person', count: s.legitUsers, password: 'Bench-person-pw-7Qx' });
    const others = await server.call<BenchUser[]>('seedUsers', { prefix: 'customer', count: s.existingAccounts, password: 'Bench-customer-pw-7Qx' });
    // The leaked list: the existing accounts (legitimate users included) with wrong passwords, and many unknown addresses.
    const known = [...legit, ...others].map((u) => u.email);
    const identifiers = Array.from({ length: s.identifiers }, (_, i) => (i < known.length ? known[i]! : `leaked${i}@mail.example.net`));
    const browsers = legit.map((_, i) => new Browser({ 'user-agent': DESKTOP_CHROME_UA, 'x-forwarded-for': legitIp(i) }));

    // Baseline: the same people, the same logins, on the idle server.
    let cpu = startCpuWindow(ownCpu([server]));
    const idle = await legitLogins(port, legit, browsers, s.idleLogins, s.everyMs);
    result.cpu.idle = await cpu.stop();

    // The attack: closed-loop attackers; the legitimate logins start once it runs.
    const c0 = await counters(server);
    let stop = false;
    const attackStatuses: Record<string, number> = {};
    let attempts = 0;
    let attackCost0 = await costSnapshot(server);
    const attackStart = performance.now();
    const attack = Promise.all(
      Array.from({ length: s.attackers }, async (_, w) => {
        const connection = new Connection(port);
        try {
          for (let k = w; !stop; k += s.attackers) {
            const browser = new Browser({ 'user-agent': DESKTOP_CHROME_UA, 'x-forwarded-for': ATTACKER_IPS[k % ATTACKER_IPS.length]! });
            try {
              const page = await browser.send(connection, 'GET', '/login');
              const res = await browser.send(connection, 'POST', '/login', { csrf: csrfIn(page.body), email: identifiers[k % identifiers.length]!, password: `Summer${k}!` });
              const kind = res.status === 401 && res.body.includes('captcha') ? '401 challenge' : String(res.status);
              attackStatuses[kind] = (attackStatuses[kind] ?? 0) + 1;
              attempts++;
            } catch (error) {
              attackStatuses.error = (attackStatuses.error ?? 0) + 1;
              await sleep(10);
            }
          }
        } finally {
          connection.close();
        }
      }),
    );
    await sleep(s.attackWarmupMs);
    const c1 = await counters(server);
    const attempts1 = attempts;
    attackCost0 = await costSnapshot(server);
    cpu = startCpuWindow(ownCpu([server]));
    const underAttack = await legitLogins(port, legit, browsers, s.attackLogins, s.everyMs);
    const c2 = await counters(server);
    const attemptsDuring = attempts - attempts1;
    const attackCost = costPerOp(attackCost0, await costSnapshot(server), attemptsDuring);
    const attackSeconds = (performance.now() - attackStart) / 1000;
    result.cpu.attack = await cpu.stop();
    stop = true;
    await attack;

    // Verifications during the measured attack window: the argon2 counter less the legitimate logins' own verifies.
    const delta = eventDelta(c1, c2);
    const verifies = c2.argon2Verifies - c1.argon2Verifies;
    const attackerVerifies = Math.max(0, verifies - underAttack.ok);
    const attackerFailures = Object.entries(delta).filter(([code]) => code.startsWith('login_failed_')).reduce((a, [, n]) => a + n, 0);
    const reached = Math.max(attackerVerifies, attackerFailures);
    const legitTotal = s.legitUsers * s.attackLogins;
    const idleP = percentiles(idle.totalMs);
    const attackP = percentiles(underAttack.totalMs);
    const idlePost = percentiles(idle.postMs);
    const attackPost = percentiles(underAttack.postMs);
    const windowSeconds = result.cpu.attack.seconds;

    result.figures.push(
      { name: 'attack rate (login POSTs)', value: attemptsDuring / windowSeconds, unit: 'attempts/s', note: `${attemptsDuring} attempts in the measured ${fmt(windowSeconds)} s (${attempts} in all, over ${fmt(attackSeconds)} s); outcomes ${JSON.stringify(attackStatuses)}; server CPU ${attackCost.serverCpuMs} ms per attempt (legitimate logins included), ${attackCost.sqlStatements} SQL statements` },
      ratioFigure('legitimate logins that succeeded', underAttack.ok, 'logins', { name: 'logins tried', value: legitTotal, unit: 'logins' }, { min: 1 }),
      { ...ratioFigure('legitimate login p99 under attack (GET + POST)', attackP.p99, 'ms', { name: 'idle p99', value: idleP.p99, unit: 'ms' }, { max: 3 }), note: `p50 ${attackP.p50} ms vs idle ${idleP.p50} ms; POST /login alone p99 ${attackPost.p99} ms vs idle ${idlePost.p99} ms; ${attackP.count} and ${idleP.count} samples` },
      {
        name: 'attacker attempts that reached password verification',
        value: reached,
        unit: 'attempts',
        baseline: { name: 'attacker attempts', value: attemptsDuring, unit: 'attempts' },
        ratio: attemptsDuring ? reached / attemptsDuring : NaN,
        target: 'ratio <= 0.01',
        met: attemptsDuring > 0 && reached / attemptsDuring <= 0.01,
        note: `argon2 verifies in the window ${verifies} (legitimate logins ${underAttack.ok}); login_failed_* events ${attackerFailures}`,
      },
    );
    result.details = { idle: { ...idle, latency: idleP, post: idlePost }, underAttack: { ...underAttack, latency: attackP, post: attackPost }, attack: { attemptsDuring, attemptsTotal: attempts, statuses: attackStatuses, events: delta, argon2Verifies: verifies, cost: attackCost }, idleFailures: idle.failed };
    if (idle.ok !== s.legitUsers * s.idleLogins) result.warnings.push(`idle baseline: only ${idle.ok} of ${s.legitUsers * s.idleLogins} logins succeeded: ${JSON.stringify(idle.failed)}`);
    if (underAttack.ok !== legitTotal) result.warnings.push(`under attack: failed legitimate logins ${JSON.stringify(underAttack.failed)}`);
    if (attackP.count < 50) result.warnings.push(`only ${attackP.count} legitimate logins under attack: their p99 is close to their maximum`);
    noteDisturbance(result);
  } finally {
    await server.stop();
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  printFigures(result);
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runUnderAttack({ quick: process.argv.includes('--quick') });
