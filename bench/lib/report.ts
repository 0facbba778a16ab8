// Tables on stdout and one JSON file per benchmark in bench/results/, each with the machine description.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, type CpuWindow, type Machine } from './machine.js';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** One reported figure: a value, the baseline it is compared with (measured in the same run), and the target if any. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline.value (or a ratio given directly). */
  ratio?: number;
  /** Human text of the target, e.g. "ratio >= 0.85". */
  target?: string;
  met?: boolean;
  note?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  machine: Machine;
  settings: Record<string, unknown>;
  figures: Figure[];
  /** How busy the machine was with other work during each measured phase. */
  cpu: Record<string, CpuWindow>;
  details: Record<string, unknown>;
  /** Warnings for the reader: disturbed measurements, errors seen. */
  warnings: string[];
}

export function newResult(name: string, title: string, quick: boolean, settings: Record<string, unknown>): BenchResult {
  return { name, title, quick, startedAt: new Date().toISOString(), seconds: 0, machine: describeMachine(), settings, figures: [], cpu: {}, details: {}, warnings: [] };
}

export function ratioFigure(
  name: string,
  value: number,
  unit: string,
  baseline: { name: string; value: number; unit?: string },
  target?: { min?: number; max?: number },
): Figure {
  const ratio = baseline.value > 0 ? value / baseline.value : NaN;
  const figure: Figure = { name, value, unit, baseline: { name: baseline.name, value: baseline.value, unit: baseline.unit ?? unit }, ratio };
  if (target) {
    figure.target = target.min !== undefined ? `ratio >= ${target.min}` : `ratio <= ${target.max}`;
    figure.met = target.min !== undefined ? ratio >= target.min : ratio <= (target.max as number);
  }
  return figure;
}

export const fmt = (n: number, unit = ''): string => {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const s = abs >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : abs >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(2);
  return unit ? `${s} ${unit}` : s;
};

/** Prints the figures as a table: figure, value, baseline, ratio, target, verdict. */
export function printFigures(result: BenchResult): void {
  const rows = result.figures.map((f) => [
    f.name,
    fmt(f.value, f.unit),
    f.baseline ? `${fmt(f.baseline.value, f.baseline.unit)} (${f.baseline.name})` : '',
    f.ratio !== undefined && Number.isFinite(f.ratio) ? f.ratio.toFixed(3) : '',
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'MET' : 'NOT MET',
  ]);
  const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(`\n== ${result.title}${result.quick ? ' (quick)' : ''} ==`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const f of result.figures) if (f.note) console.log(`  * ${f.name}: ${f.note}`);
  const phases = Object.entries(result.cpu);
  if (phases.length) {
    console.log(
      `  CPU use by phase (share of all cores; "other" = processes outside this benchmark): ` +
        phases.map(([k, w]) => `${k}: ours ${pct(w.ours)}, other ${w.foreign === null ? '?' : pct(w.foreign)}`).join('; '),
    );
  }
  for (const w of result.warnings) console.log(`  ! ${w}`);
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** Flags phases where other processes used a noticeable share of the machine. */
export function noteDisturbance(result: BenchResult, threshold = 0.15): void {
  for (const [phase, w] of Object.entries(result.cpu)) {
    if (w.foreign !== null && w.foreign >= threshold) {
      result.warnings.push(`disturbed: other processes used ${pct(w.foreign)} of the CPU during "${phase}"; its figures are less reliable`);
    }
  }
}

export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.name}${result.quick ? '.quick' : ''}.json`);
  // Raw latency samples are for merging runs; the files keep their percentiles only.
  writeFileSync(file, `${JSON.stringify(result, (key, value) => (key === 'samples' || key === 'latencies' ? undefined : value), 2)}\n`);
  return file;
}

/** Latency percentiles in milliseconds from a list of samples (ms). */
export function percentiles(samples: number[]): { count: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  if (samples.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { count: s.length, p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1] as number), mean: r(samples.reduce((a, b) => a + b, 0) / s.length) };
}
