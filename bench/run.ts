// `npm run bench`: the benchmark suite (not part of `npm test`). Every figure is reported beside a baseline measured in
// the same run, as a ratio, because absolute numbers drift on a shared, noisy machine.
//
//   npm run bench                          all six benchmarks (about 5 minutes)
//   npm run bench -- --quick               a smoke run, a few seconds each
//   npm run bench -- --only login,memory   some of them (names below; comma-separated or repeated)
//
// Each prints a table and writes bench/results/<name>.json (<name>.quick.json for --quick) with the machine description.
import os from 'node:os';
import { describeMachine, machineLine } from './lib/machine.js';
import { fmt, RESULTS_DIR, writeResult, newResult, type BenchResult } from './lib/report.js';
import { runLoginThroughput } from './login-throughput.js';
import { runBlockedPath } from './blocked-path.js';
import { runUnderAttack } from './under-attack.js';
import { runTokenEndpoint } from './token-endpoint.js';
import { runBreachBench } from './breach.js';
import { runMemory } from './memory.js';

const BENCHMARKS: { name: string; aliases: string[]; run: (o: { quick: boolean }) => Promise<BenchResult> }[] = [
  { name: 'login-throughput', aliases: ['login', '1'], run: runLoginThroughput },
  { name: 'blocked-path', aliases: ['blocked', '2'], run: runBlockedPath },
  { name: 'under-attack', aliases: ['attack', '3'], run: runUnderAttack },
  { name: 'token-endpoint', aliases: ['token', '4'], run: runTokenEndpoint },
  { name: 'breach', aliases: ['5'], run: runBreachBench },
  { name: 'memory', aliases: ['6'], run: runMemory },
];

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null } {
  let quick = false;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--only') only.push(...String(argv[++i] ?? '').split(','));
    else if (arg.startsWith('--only=')) only.push(...arg.slice(7).split(','));
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.name).join('|')}[,...]]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return { quick, only: only.length ? only.map((s) => s.trim()).filter(Boolean) : null };
}

const { quick, only } = parseArgs(process.argv.slice(2));
const selected = only
  ? only.map((name) => {
      const found = BENCHMARKS.find((b) => b.name === name || b.aliases.includes(name));
      if (!found) throw new Error(`no benchmark named "${name}"; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
      return found;
    })
  : BENCHMARKS;

const machine = describeMachine();
console.log(`Portcullis benchmarks${quick ? ' (quick smoke run)' : ''}`);
console.log(`Machine: ${machineLine(machine)}`);
if (machine.loadAverage1m > machine.cores * 0.5) {
  console.log(`Note: the 1-minute load average (${machine.loadAverage1m}) is high for ${machine.cores} cores: other work is running, so expect disturbed figures (each table shows the CPU share other processes took).`);
}
console.log(`Results go to ${RESULTS_DIR}/`);

const started = performance.now();
const results: BenchResult[] = [];
const failed: string[] = [];
for (const bench of selected) {
  try {
    results.push(await bench.run({ quick }));
  } catch (error) {
    failed.push(bench.name);
    console.error(`\n!! ${bench.name} failed: ${(error as Error).stack ?? error}`);
  }
}

// The summary: every figure that has a target or a ratio, one line each.
console.log(`\n== Summary (${((performance.now() - started) / 1000).toFixed(0)} s; load average now ${os.loadavg()[0]!.toFixed(2)}) ==`);
for (const r of results) {
  for (const f of r.figures) {
    if (f.target === undefined) continue;
    const shown = f.target.startsWith('ratio') && f.ratio !== undefined ? `ratio ${f.ratio.toFixed(3)}` : fmt(f.value, f.unit);
    console.log(`${f.met ? 'MET    ' : 'NOT MET'}  ${r.name.padEnd(17)} ${f.name.padEnd(52)} ${shown.padEnd(18)} target ${f.target}`);
  }
  const disturbed = r.warnings.filter((w) => w.startsWith('disturbed')).length;
  if (disturbed) console.log(`         ${r.name.padEnd(17)} (${disturbed} phase(s) disturbed by other processes; see its table)`);
}
const summary = newResult('summary', 'Benchmark summary', quick, { only: selected.map((b) => b.name) });
summary.seconds = Math.round((performance.now() - started) / 100) / 10;
summary.details = {
  results: results.map((r) => ({ name: r.name, seconds: r.seconds, figures: r.figures, warnings: r.warnings, cpu: r.cpu })),
  failed,
};
if (!only) console.log(`summary: ${writeResult(summary)}`);
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
