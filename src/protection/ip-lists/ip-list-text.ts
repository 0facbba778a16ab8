// Reads the text format of IP lists (one IP or CIDR per line, `#` or `;` comments) shared by the CLI and watched files.
import { parseCidr } from './cidr.js';

export interface IpListEntryInput {
  cidr: string;
  note: string | null;
}

export interface InvalidLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParsedIpList {
  /** Canonical CIDRs, each once (the first occurrence wins). */
  entries: IpListEntryInput[];
  invalid: InvalidLine[];
  /** Lines whose host bits were set (`10.1.2.3/8`): accepted as their network, but worth telling the operator. */
  widened: { line: number; text: string; cidr: string }[];
}

const LIST_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** List names are lowercase words such as `tor-exits`, `abuse` or `datacenter.aws`: they appear in events and CLI output. */
export function isValidListName(name: string): boolean {
  return LIST_NAME.test(name);
}

export const LIST_NAME_RULE = 'a list name is 1 to 64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit';

/**
 * Parses one list. A comment after the address (`1.2.3.0/24  # scanner`) becomes the entry's note;
 * blank lines and whole-line comments are skipped. The common published formats (plain lists, FireHOL
 * `.netset`, Spamhaus DROP with `;`) parse as they are.
 */
export function parseIpListText(text: string): ParsedIpList {
  const entries: IpListEntryInput[] = [];
  const invalid: InvalidLine[] = [];
  const widened: ParsedIpList['widened'] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const comment = raw.search(/[#;]/);
    const body = (comment === -1 ? raw : raw.slice(0, comment)).trim();
    if (!body) return;
    const note = comment === -1 ? null : raw.slice(comment + 1).trim() || null;
    const parsed = parseCidr(body);
    if (!parsed) {
      invalid.push({ line: i + 1, text: body.slice(0, 100), reason: 'not an IP address or CIDR' });
      return;
    }
    if (parsed.hostBitsSet) widened.push({ line: i + 1, text: body, cidr: parsed.cidr.text });
    if (seen.has(parsed.cidr.text)) return;
    seen.add(parsed.cidr.text);
    entries.push({ cidr: parsed.cidr.text, note: note ? note.slice(0, 200) : null });
  });
  return { entries, invalid, widened };
}

/** "line 3: "foo" is not an IP address or CIDR", at most `max` of them plus a count of the rest. */
export function describeInvalidLines(invalid: readonly InvalidLine[], max = 20): string[] {
  const shown = invalid.slice(0, max).map((l) => `line ${l.line}: "${l.text}" is ${l.reason}`);
  if (invalid.length > max) shown.push(`… and ${invalid.length - max} more invalid line(s)`);
  return shown;
}
