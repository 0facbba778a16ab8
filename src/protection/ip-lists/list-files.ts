// Operator list files (config `ipLists.files`): read, parsed, and re-read only when their stat changes.
import { readFile, stat } from 'node:fs/promises';
import { describeInvalidLines, parseIpListText, type IpListEntryInput } from './ip-list-text.js';

export interface ListFile {
  name: string;
  path: string;
}

/** What identifies a version of a file: a rename-over changes the inode, an edit changes mtime or size. */
type Fingerprint = string;

interface LoadedFile {
  fingerprint: Fingerprint | null;
  entries: IpListEntryInput[];
}

export interface ListFileSet {
  /** True when any file's fingerprint differs from the one last loaded. */
  changed(): Promise<boolean>;
  /** Re-reads changed files; a file that cannot be read keeps its last good entries. */
  load(): Promise<{ name: string; entries: IpListEntryInput[] }[]>;
}

async function fingerprint(path: string): Promise<Fingerprint | null> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

export function listFileSet(files: readonly ListFile[], warn: (message: string) => void): ListFileSet {
  const loaded = new Map<ListFile, LoadedFile>(files.map((f) => [f, { fingerprint: null, entries: [] }]));
  return {
    async changed() {
      for (const file of files) if ((await fingerprint(file.path)) !== loaded.get(file)?.fingerprint) return true;
      return false;
    },
    async load() {
      for (const file of files) {
        const state = loaded.get(file) as LoadedFile;
        const current = await fingerprint(file.path);
        if (current !== null && current === state.fingerprint) continue;
        let text: string;
        try {
          text = await readFile(file.path, 'utf8');
        } catch (error) {
          state.fingerprint = current;
          warn(`IP list file "${file.name}" (${file.path}) could not be read, keeping its last ${state.entries.length} entries: ${(error as Error).message}`);
          continue;
        }
        const parsed = parseIpListText(text);
        if (parsed.invalid.length) warn(`IP list file "${file.name}" (${file.path}): skipped ${parsed.invalid.length} invalid line(s): ${describeInvalidLines(parsed.invalid, 5).join('; ')}`);
        state.fingerprint = current;
        state.entries = parsed.entries;
      }
      return files.map((f) => ({ name: f.name, entries: (loaded.get(f) as LoadedFile).entries }));
    },
  };
}
