// `portcullis iplist import|list|remove`: the untrusted-IP lists (Tor exits, abusive ranges, data centers) kept in the store.
import { readFile } from 'node:fs/promises';
import { importIpList, removeIpListEntry } from '../protection/ip-lists/ip-list-admin.js';
import type { Command } from './commands.js';
import { withStore } from './context.js';
import { printTable, readAllStdin, UsageError } from './io.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const ipListImportCommand: Command = {
  name: 'iplist import',
  summary: 'Import IPs and CIDRs into an untrusted-IP list (all or nothing)',
  usage:
    'portcullis iplist import --list NAME FILE [--replace]\n\n' +
    '  FILE        one IP or CIDR per line; "-" reads standard input. Blank lines and comments\n' +
    '              (# or ;) are skipped; a comment after an address becomes its note.\n' +
    '  --replace   swap the whole list for the file (atomically) instead of adding to it\n' +
    '  Any invalid line is reported with its number and nothing is imported.\n' +
    '  A running server picks the change up within seconds (ipLists.pollInterval).',
  options: { list: { type: 'string' }, replace: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const file = positionals[0];
    if (typeof values.list !== 'string') throw new UsageError('--list is required');
    if (!file || positionals.length > 1) throw new UsageError('give exactly one FILE (or - for standard input)');
    const text = file === '-' ? await readAllStdin(io.stdin) : await readFile(file, 'utf8');
    await withStore(io, async ({ store, clock }) => {
      const result = await importIpList(store.ipLists, values.list as string, text, { replace: values.replace === true, now: clock.now() });
      for (const w of result.widened) io.stderr.write(`line ${w.line}: "${w.text}" has host bits set; imported as ${w.cidr}\n`);
      io.stdout.write(
        values.replace
          ? `List "${values.list}" now holds ${result.added} entr${result.added === 1 ? 'y' : 'ies'}.\n`
          : `Added ${result.added} new entr${result.added === 1 ? 'y' : 'ies'} to "${values.list}" (${result.parsed - result.added} already listed).\n`,
      );
    });
    return 0;
  },
};

export const ipListListCommand: Command = {
  name: 'iplist list',
  summary: 'Show the untrusted-IP lists, or the entries of one',
  usage: 'portcullis iplist list [--list NAME] [--json]\n\n  Without --list: each list with its size. With --list: its entries.',
  options: { list: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    await withStore(io, async ({ store }) => {
      if (typeof values.list === 'string') {
        const entries = (await store.ipLists.list(values.list)).map((e) => ({ cidr: e.cidr, note: e.note, addedAt: iso(e.addedAt) }));
        if (values.json) io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        else printTable(io.stdout, entries, ['cidr', 'note', 'addedAt']);
        return;
      }
      const lists = (await store.ipLists.summaries()).map((s) => ({ name: s.name, entries: s.entries, updatedAt: iso(s.updatedAt) }));
      if (values.json) io.stdout.write(`${JSON.stringify(lists, null, 2)}\n`);
      else printTable(io.stdout, lists, ['name', 'entries', 'updatedAt']);
    });
    return 0;
  },
};

export const ipListRemoveCommand: Command = {
  name: 'iplist remove',
  summary: 'Remove one IP or CIDR from an untrusted-IP list',
  usage: 'portcullis iplist remove --list NAME CIDR',
  options: { list: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const cidr = positionals[0];
    if (typeof values.list !== 'string') throw new UsageError('--list is required');
    if (!cidr || positionals.length > 1) throw new UsageError('give exactly one IP or CIDR to remove');
    await withStore(io, async ({ store, clock }) => {
      const removed = await removeIpListEntry(store.ipLists, values.list as string, cidr, clock.now());
      io.stdout.write(`Removed ${removed} from "${values.list}".\n`);
    });
    return 0;
  },
};
