// `portcullis breach import` (build the offline PWDX index, swapped in atomically) and `breach check` (password on stdin).
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../config/index.js';
import { createBreachChecker, pwnedIndexPath } from '../protection/breached/breach-checker.js';
import { breachCheckerOptions } from '../protection/breached/checker-options.js';
import { buildPwdxIndex, type BuildProgress } from '../protection/breached/pwdx-builder.js';
import { minCountOfClass } from '../protection/breached/pwdx-format.js';
import type { Command } from './commands.js';
import { readAllStdin, UsageError } from './io.js';

export const breachImportCommand: Command = {
  name: 'breach import',
  summary: 'Build the offline breached-password index from HIBP SHA1:COUNT lines or a plain password list',
  usage: [
    'portcullis breach import FILE [--min-count N] [--format hibp|plain]',
    '',
    'FILE is the HIBP Pwned Passwords text (`SHA1:COUNT` lines, as the official downloader writes them,',
    'sorted by hash: streamed straight through) or a plain list of passwords, one per line (hashed and',
    'sorted on disk). The format is detected from the first lines unless --format is given.',
    '',
    '  --min-count N   leave out hashes seen fewer than N times (a much smaller index; plain lists have no counts)',
    '',
    'Writes <data dir>/breach/pwned.pwdx (or breach.indexPath) through a temp file and an atomic rename;',
    'a running server picks the new index up within seconds. About 6 bytes per hash.',
  ].join('\n'),
  options: { 'min-count': { type: 'string' }, format: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('expected exactly one FILE to import');
    const input = positionals[0] as string;
    const format = (values.format as string | undefined) ?? 'auto';
    if (!['auto', 'hibp', 'plain'].includes(format)) throw new UsageError('--format must be hibp or plain');
    const minCount = values['min-count'] === undefined ? 1 : Number(values['min-count']);
    if (!Number.isInteger(minCount) || minCount < 1) throw new UsageError('--min-count must be a whole number of at least 1');
    try {
      if (!statSync(input).isFile()) throw new UsageError(`${input} is not a file`);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`cannot read ${input}: ${(error as Error).message}`);
    }
    const config = loadConfig(io.env);
    const output = pwnedIndexPath(config.dataDir, config.breach.indexPath || undefined);
    mkdirSync(dirname(output), { recursive: true });
    const bar = createProgressBar(io.stderr);
    const abort = new AbortController();
    const onSigint = (): void => abort.abort(new Error('interrupted; the previous index is unchanged'));
    process.once('SIGINT', onSigint);
    try {
      const summary = await buildPwdxIndex({ input, output, format: format as 'auto' | 'hibp' | 'plain', minCount, signal: abort.signal, onProgress: bar.update });
      bar.done();
      const mb = (summary.fileBytes / 1e6).toFixed(1);
      io.stdout.write(
        `Imported ${summary.entries.toLocaleString('en-US')} hashes from ${summary.lines.toLocaleString('en-US')} ${summary.format} lines into ${output} ` +
          `(${mb} MB, ${(summary.fileBytes / Math.max(1, summary.entries)).toFixed(2)} bytes per hash, ${summary.strategy}) in ${summary.seconds.toFixed(1)} s.\n`,
      );
      if (summary.duplicatesMerged > 0) io.stdout.write(`${summary.duplicatesMerged.toLocaleString('en-US')} duplicate hashes merged.\n`);
      if (summary.droppedBelowMinCount > 0) io.stdout.write(`${summary.droppedBelowMinCount.toLocaleString('en-US')} hashes seen fewer than ${minCount} times left out.\n`);
      if (minCount > 1 && summary.format === 'plain') io.stdout.write('Note: a plain list has no counts, so --min-count kept every password.\n');
      return 0;
    } finally {
      process.removeListener('SIGINT', onSigint);
      bar.done();
    }
  },
};

export const breachCheckCommand: Command = {
  name: 'breach check',
  summary: 'Check one password, read from stdin, against the breach data the server uses',
  usage: [
    'portcullis breach check [--json] < password',
    '',
    'Reads one password from stdin (never from the command line, where other users and the shell history',
    'would see it), e.g.  read -rs P && printf %s "$P" | portcullis breach check',
    'Prints whether it is breached and its count class (class k: seen roughly 2^(k-1) times or more).',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length > 0) {
      throw new UsageError('refusing a password on the command line (it would show in the process list and shell history); pipe it on stdin instead');
    }
    const password = (await readAllStdin(io.stdin)).replace(/\r?\n$/, '');
    if (password === '') throw new UsageError('expected one password on stdin');
    if (/[\r\n]/.test(password)) throw new UsageError('expected exactly one password on stdin (one line)');
    const config = loadConfig(io.env);
    const checker = createBreachChecker(breachCheckerOptions(config));
    try {
      const verdict = await checker.check(password);
      const countClass = verdict.breached ? verdict.countClass : null;
      const unavailable = 'unavailable' in verdict;
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ breached: verdict.breached, source: verdict.source, countClass, seenAtLeast: countClass ? minCountOfClass(countClass) : null, unavailable })}\n`);
      } else if (config.breach.mode === 'off' && verdict.source === 'none') {
        io.stdout.write('breach checking is off (breach.mode = off)\n');
      } else {
        io.stdout.write(`${describeVerdict(verdict.breached, verdict.source, countClass, unavailable)}\n`);
      }
      return 0;
    } finally {
      checker.close();
    }
  },
};

function describeVerdict(breached: boolean, source: string, countClass: number | null, unavailable: boolean): string {
  if (unavailable) return breached ? 'breached (the online API did not answer and breach.online.failMode is closed)' : 'not checked online: the API did not answer (breach.online.failMode is open, so this counts as not breached)';
  if (!breached) return source === 'online' ? 'not found (offline index and HIBP online)' : 'not found in the index';
  if (source === 'test_prefix') return 'breached (starts with the configured test prefix)';
  if (countClass === null) return `breached (listed without a count, ${source})`;
  return `breached (count class ${countClass}, roughly ${humanCount(minCountOfClass(countClass))}+ times, ${source})`;
}

function humanCount(n: number): string {
  if (n >= 1e9) return `${Math.floor(n / 1e9)}G`;
  if (n >= 1e6) return `${Math.floor(n / 1e6)}M`;
  if (n >= 1e3) return `${Math.floor(n / 1e3)}k`;
  return String(n);
}

/** Percent of bytes, lines/s and ETA on stderr: redrawn with \r at most 10 times a second on a TTY, a plain line every 10 s otherwise. */
function createProgressBar(out: NodeJS.WritableStream): { update: (p: BuildProgress) => void; done: () => void } {
  const tty = Boolean((out as { isTTY?: boolean }).isTTY);
  const started = performance.now();
  let lastDraw = -Infinity;
  let latest: BuildProgress | null = null;
  let drawnKey = '';
  let onLine = false;
  const key = (p: BuildProgress): string => `${p.phase}:${p.bytesRead}:${p.merged}`;
  const draw = (p: BuildProgress): void => {
    const seconds = (performance.now() - started) / 1000;
    const fraction = p.phase === 'read' ? p.bytesRead / Math.max(1, p.totalBytes) : p.merged / Math.max(1, p.entriesToMerge);
    const rate = p.lines / Math.max(seconds, 1e-3);
    const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const text = `${p.phase === 'read' ? 'reading' : 'merging'} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${humanCount(Math.round(rate))} lines/s  ETA ${formatEta(eta)}`;
    out.write(tty ? `\r${text}\u001b[K` : `${text}\n`);
    onLine = tty;
    drawnKey = key(p);
  };
  return {
    update(p) {
      latest = p;
      const now = performance.now();
      if (now - lastDraw < (tty ? 100 : 10_000)) return;
      lastDraw = now;
      draw(p);
    },
    /** Draws the final state once, then ends the line. */
    done() {
      if (latest && key(latest) !== drawnKey) draw(latest);
      latest = null;
      if (onLine) out.write('\n');
      onLine = false;
    },
  };
}

function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
