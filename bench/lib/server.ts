// Starts a benchmark server process (bench/lib/server-child.ts) and talks to it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from './machine.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'server-child.ts');

export interface Usage {
  memory: NodeJS.MemoryUsage;
  cpuSeconds: number;
  /** Kernel-mode share of cpuSeconds (all threads). */
  systemCpuSeconds: number;
  /** CPU seconds of the main (JavaScript) thread alone, from /proc (Linux; 0 elsewhere). 10 ms resolution. */
  mainThreadCpuSeconds: number;
  /** Cumulative event-loop time (performance.eventLoopUtilization): active = the main thread was running code. */
  eventLoop: { activeMs: number; idleMs: number };
  /** SQL statements prepared so far (SQLite only). */
  sqlStatements: number;
}

export interface ServerProcess {
  readonly pid: number;
  usage(): Promise<Usage>;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** CPU seconds (user + system) used by the process so far. */
  cpuSeconds(): Promise<number>;
  /** Memory of the process (after two full GCs when `gc` is set and the process was started with exposeGc). */
  memory(gc?: boolean): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

export async function startServerProcess(options: { exposeGc?: boolean; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx', ...(options.exposeGc ? ['--expose-gc'] : []), ...(process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready: () => void;
  let failed: (e: Error) => void;
  const readyPromise = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  child.on('message', (message: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    if (message.id === 0) return ready();
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`server process: ${message.error}`));
  });
  child.on('exit', (code) => {
    const error = new Error(`server process exited with code ${code}`);
    failed(error);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  await readyPromise;
  const call = <T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, args });
    });
  return {
    pid: child.pid ?? -1,
    call,
    usage: () => call<Usage>('usage'),
    async cpuSeconds() {
      return (await call<{ cpuSeconds: number }>('usage')).cpuSeconds;
    },
    async memory(gc = false) {
      return (await call<{ memory: NodeJS.MemoryUsage }>('usage', { gc })).memory;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call('stop').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds of this process plus the given server processes: what the benchmark itself used. */
export function ownCpu(servers: ServerProcess[]): () => Promise<number> {
  return async () => processCpuSeconds() + (await Promise.all(servers.map((s) => s.cpuSeconds().catch(() => 0)))).reduce((a, b) => a + b, 0);
}

export interface CostSnapshot {
  server: Usage;
  clientCpuSeconds: number;
}

export async function costSnapshot(server: ServerProcess): Promise<CostSnapshot> {
  return { server: await server.usage(), clientCpuSeconds: processCpuSeconds() };
}

export interface OpCost {
  /** Server process CPU (all threads: main, libuv pool, GC) per operation. */
  serverCpuMs: number;
  /** Wall time the server's event loop was busy per operation (grows when the machine is overcommitted). */
  serverMainThreadMs: number;
  /** CPU of the server's main thread alone per operation (Linux): everything but the libuv pool (argon2) and GC helpers. */
  serverMainThreadCpuMs: number;
  /** Kernel-mode CPU of the server (all threads) per operation: syscalls, socket and file I/O, scheduling. */
  serverSystemCpuMs: number;
  clientCpuMs: number;
  sqlStatements: number;
}

/** What one operation cost between two snapshots: server CPU (all threads), its main-thread time, client CPU, SQL statements. */
export function costPerOp(a: CostSnapshot, b: CostSnapshot, ops: number): OpCost {
  return costOverWindows([[a, b]], ops);
}

/** The same over several measured windows of one load (their operations added up). */
export function costOverWindows(windows: [CostSnapshot, CostSnapshot][], ops: number): OpCost {
  const n = Math.max(1, ops);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const sum = (f: (a: CostSnapshot, b: CostSnapshot) => number) => windows.reduce((acc, [a, b]) => acc + f(a, b), 0);
  return {
    serverCpuMs: r((sum((a, b) => b.server.cpuSeconds - a.server.cpuSeconds) * 1000) / n),
    serverMainThreadMs: r(sum((a, b) => b.server.eventLoop.activeMs - a.server.eventLoop.activeMs) / n),
    serverMainThreadCpuMs: r((sum((a, b) => b.server.mainThreadCpuSeconds - a.server.mainThreadCpuSeconds) * 1000) / n),
    serverSystemCpuMs: r((sum((a, b) => b.server.systemCpuSeconds - a.server.systemCpuSeconds) * 1000) / n),
    clientCpuMs: r((sum((a, b) => b.clientCpuSeconds - a.clientCpuSeconds) * 1000) / n),
    sqlStatements: r(sum((a, b) => b.server.sqlStatements - a.server.sqlStatements) / n),
  };
}
