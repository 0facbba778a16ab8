// The machine a run happened on, and how busy it was with other work while a benchmark ran (this box is shared).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
  uvThreadpoolSize: number;
  loadAverage1m: number;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, UV_THREADPOOL_SIZE=${m.uvThreadpoolSize}, load average ${m.loadAverage1m}`;
}

/** Busy and total CPU time of the whole machine (all cores), in seconds, from /proc/stat. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const hz = 100;
    return { busy: (total - idle) / hz, total: total / hz };
  } catch {
    return null;
  }
}

export interface CpuWindow {
  /** Seconds of wall time. */
  seconds: number;
  /** Share of all cores busy (0..1). */
  machineBusy: number | null;
  /** Share of all cores used by this benchmark's own processes (client and servers). */
  ours: number;
  /** Share of all cores used by something else (other engineers' tests): machineBusy - ours. */
  foreign: number | null;
}

/**
 * Starts a CPU window. `ownCpuSeconds` returns the CPU seconds (user+system) used so far by our own processes
 * (this one plus the server children); the window reports how much of the machine something else used.
 */
export function startCpuWindow(ownCpuSeconds: () => Promise<number>): { stop(): Promise<CpuWindow> } {
  const started = performance.now();
  const m0 = machineCpu();
  const own0 = ownCpuSeconds();
  return {
    async stop() {
      const m1 = machineCpu();
      const own1 = await ownCpuSeconds();
      const seconds = (performance.now() - started) / 1000;
      const cores = os.availableParallelism();
      const ours = (own1 - (await own0)) / (seconds * cores);
      const machineBusy = m0 && m1 ? (m1.busy - m0.busy) / (m1.total - m0.total) : null;
      return {
        seconds: round(seconds, 2),
        machineBusy: machineBusy === null ? null : round(machineBusy, 3),
        ours: round(ours, 3),
        foreign: machineBusy === null ? null : round(Math.max(0, machineBusy - ours), 3),
      };
    },
  };
}

export function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};
