// Builds a PWDX file from an HIBP or plain-password file: streams sorted HIBP input, external-sorts anything else.
import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ExternalSorter } from './external-sort.js';
import { detectFormat, forEachLine, parseHibpLine, parsePlainLine, type HashEntry, type InputFormat } from './input-lines.js';
import { countClassOf } from './pwdx-format.js';
import { PwdxWriter, type PwdxWriteSummary } from './pwdx-writer.js';
import { createSha1Prefix } from './sha1-prefix.js';

export interface BuildProgress {
  phase: 'read' | 'merge';
  bytesRead: number;
  totalBytes: number;
  lines: number;
  /** During the merge phase of an external sort: entries merged so far, of entriesToMerge. */
  merged: number;
  entriesToMerge: number;
}

export interface BuildOptions {
  input: string;
  /** Replaced atomically (written to a temp file in the same folder, then renamed over it). */
  output: string;
  format?: InputFormat | 'auto';
  /** Drops HIBP entries seen fewer times (entries without a count, as in plain lists, are always kept). */
  minCount?: number;
  runSize?: number;
  maxFanIn?: number;
  tmpDir?: string;
  keyBytes?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BuildProgress) => void;
}

export interface BuildSummary extends PwdxWriteSummary {
  format: InputFormat;
  strategy: 'streamed' | 'external-sort';
  lines: number;
  droppedBelowMinCount: number;
  keyBytes: number;
  seconds: number;
}

class UnsortedInput extends Error {}

export async function buildPwdxIndex(options: BuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const format = !options.format || options.format === 'auto' ? detectFormat(options.input) : options.format;
  const temp = `${options.output}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    let result: Omit<BuildSummary, 'seconds' | 'format' | 'keyBytes'> | null = null;
    if (format === 'hibp') result = await streamSorted(options, temp);
    result ??= await externalSort(options, format, temp);
    renameSync(temp, options.output);
    return { ...result, format, keyBytes: options.keyBytes ?? 5, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Sorted HIBP input goes straight into the writer; returns null (and the caller sorts) at the first out-of-order line. */
async function streamSorted(options: BuildOptions, temp: string): Promise<Omit<BuildSummary, 'seconds' | 'format' | 'keyBytes'> | null> {
  const minCount = options.minCount ?? 1;
  const totalBytes = statSync(options.input).size;
  const writer = new PwdxWriter(temp, { expectedEntries: estimateEntries(options.input, minCount), keyBytes: options.keyBytes, minCount });
  const entry: HashEntry = { hi: 0, lo: 0, count: 0 };
  let lines = 0;
  let dropped = 0;
  let lastHi = 0;
  let lastLo = 0;
  try {
    await forEachLine(
      options.input,
      (buf, start, end) => {
        lines++;
        if (end === start) return;
        if (!parseHibpLine(buf, start, end, entry)) throw malformed(options.input, lines, buf.toString('latin1', start, Math.min(end, start + 60)));
        if (entry.hi < lastHi || (entry.hi === lastHi && entry.lo < lastLo)) throw new UnsortedInput();
        lastHi = entry.hi;
        lastLo = entry.lo;
        if (entry.count > 0 && entry.count < minCount) {
          dropped++;
          return;
        }
        writer.add(entry.hi, entry.lo, countClassOf(entry.count));
      },
      (bytesRead) => progress(options, { phase: 'read', bytesRead, totalBytes, lines, merged: 0, entriesToMerge: 0 }),
    );
  } catch (error) {
    writer.close();
    if (error instanceof UnsortedInput) return null;
    throw error;
  }
  return { ...writer.finish(), strategy: 'streamed', lines, droppedBelowMinCount: dropped };
}

async function externalSort(options: BuildOptions, format: InputFormat, temp: string): Promise<Omit<BuildSummary, 'seconds' | 'format' | 'keyBytes'>> {
  const minCount = options.minCount ?? 1;
  const totalBytes = statSync(options.input).size;
  const sorter = new ExternalSorter({ runSize: options.runSize, maxFanIn: options.maxFanIn, tmpDir: options.tmpDir ?? dirname(options.output) });
  const sha1 = createSha1Prefix();
  const entry: HashEntry = { hi: 0, lo: 0, count: 0 };
  let lines = 0;
  let dropped = 0;
  try {
    await forEachLine(
      options.input,
      (buf, start, end) => {
        lines++;
        if (format === 'plain') {
          if (parsePlainLine(buf, start, end, entry, sha1)) sorter.add(entry.hi, entry.lo, 0);
          return;
        }
        if (end === start) return;
        if (!parseHibpLine(buf, start, end, entry)) throw malformed(options.input, lines, buf.toString('latin1', start, Math.min(end, start + 60)));
        // max(count) >= minCount iff some duplicate has count >= minCount, so filtering before merging is exact.
        if (entry.count > 0 && entry.count < minCount) dropped++;
        else sorter.add(entry.hi, entry.lo, countClassOf(entry.count));
      },
      (bytesRead) => progress(options, { phase: 'read', bytesRead, totalBytes, lines, merged: 0, entriesToMerge: 0 }),
    );
    const writer = new PwdxWriter(temp, { expectedEntries: sorter.count, keyBytes: options.keyBytes, minCount });
    try {
      await sorter.finish(
        (hi, lo, c) => writer.add(hi, lo, c),
        (merged) => progress(options, { phase: 'merge', bytesRead: totalBytes, totalBytes, lines, merged, entriesToMerge: sorter.count }),
      );
    } catch (error) {
      writer.close();
      throw error;
    }
    return { ...writer.finish(), strategy: 'external-sort', lines, droppedBelowMinCount: dropped };
  } finally {
    sorter.dispose();
  }
}

async function progress(options: BuildOptions, p: BuildProgress): Promise<void> {
  options.onProgress?.(p);
  await yieldToLoop();
  options.signal?.throwIfAborted();
}

function malformed(path: string, line: number, text: string): Error {
  return new Error(`${path} line ${line} is not an HIBP "SHA1:COUNT" line (starts with ${JSON.stringify(text)}); use --format plain for a list of passwords`);
}

/**
 * Sizes the bucket table before the first entry is written. HIBP files are sorted by hash, so their first
 * 4 MiB is a fair sample of line length and of the share of entries that pass --min-count.
 */
function estimateEntries(path: string, minCount: number): number {
  const totalBytes = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(totalBytes, 4 * 1024 * 1024));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const entry: HashEntry = { hi: 0, lo: 0, count: 0 };
    let kept = 0;
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
      if (parseHibpLine(buf, start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl, entry) && !(entry.count > 0 && entry.count < minCount)) kept++;
      start = nl + 1;
    }
    if (n === totalBytes) return kept + 1;
    return Math.ceil(((kept + 1) / Math.max(1, start)) * totalBytes * 1.1);
  } finally {
    closeSync(fd);
  }
}
