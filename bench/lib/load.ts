// A bounded closed-loop load runner: N workers repeat an operation for a fixed time, after an uncounted warm-up.
import { percentiles } from './report.js';

export interface LoadResult {
  /** Operations that finished between the end of the warm-up and the end of the run (whenever they started). */
  ops: number;
  errors: number;
  seconds: number;
  perSec: number;
  latencyMs: ReturnType<typeof percentiles>;
  /** The first few error messages, for the report. */
  errorSamples: string[];
  /** Operations that finished after the warm-up, including those still running at the end (for per-operation costs). */
  opsIncludingTail: number;
  /** The recorded latencies (ms), to merge runs; left out of the JSON files. */
  samples: number[];
}

/** One result from several runs of the same load (e.g. split around a baseline, to cancel drift on a noisy machine). */
export function mergeLoads(runs: LoadResult[]): LoadResult {
  const samples = runs.flatMap((r) => r.samples);
  const ops = runs.reduce((a, r) => a + r.ops, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    ops,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    seconds,
    perSec: ops / seconds,
    latencyMs: percentiles(samples),
    errorSamples: runs.flatMap((r) => r.errorSamples).slice(0, 5),
    opsIncludingTail: runs.reduce((a, r) => a + r.opsIncludingTail, 0),
    samples,
  };
}

export interface LoadOptions {
  workers: number;
  durationMs: number;
  warmupMs?: number;
  /** Called when the counted phase starts (e.g. to start a CPU window or a memory sampler). */
  onMeasureStart?: () => void;
}

/**
 * Runs `op(worker, i)` from `workers` loops. `op` returns the latency to record in ms (it may sum several requests),
 * or throws to count an error. Every loop stops at the end of the run; nothing runs unbounded.
 */
export async function closedLoop(options: LoadOptions, op: (worker: number, iteration: number) => Promise<number>): Promise<LoadResult> {
  const warmupMs = options.warmupMs ?? 0;
  const t0 = performance.now();
  const measureStart = t0 + warmupMs;
  const end = measureStart + options.durationMs;
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let ops = 0;
  let tail = 0;
  let errors = 0;
  let started = false;
  const startTimer = setTimeout(() => {
    started = true;
    options.onMeasureStart?.();
  }, warmupMs);
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const opStart = performance.now();
        try {
          const ms = await op(worker, i);
          if (started) tail++;
          // Completions inside the window, divided by its length, as the raw baselines count: counting only the
          // operations that also started inside it would lose about one per worker per window.
          const finished = performance.now();
          if (finished >= measureStart && finished <= end) {
            ops++;
            latencies.push(ms);
          }
        } catch (error) {
          if (opStart >= measureStart) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push((error as Error).message.slice(0, 300));
          }
          // An erroring operation must not spin: give the server a moment.
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  clearTimeout(startTimer);
  if (!started) options.onMeasureStart?.();
  const seconds = options.durationMs / 1000;
  return { ops, errors, seconds, perSec: ops / seconds, latencyMs: percentiles(latencies), errorSamples, opsIncludingTail: tail, samples: latencies };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
