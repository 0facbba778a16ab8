// Operator actions on stored IP lists (import, remove), shared by the CLI and any future admin page.
import { PortcullisError } from '../../domain/errors.js';
import type { IpListStore } from '../../store/store.js';
import { normalizeCidr } from './cidr.js';
import { describeInvalidLines, isValidListName, LIST_NAME_RULE, parseIpListText, type ParsedIpList } from './ip-list-text.js';

export interface ImportResult {
  /** Entries that were not on the list before (with `replace`, the new size of the list). */
  added: number;
  parsed: number;
  widened: ParsedIpList['widened'];
}

function assertListName(name: string): void {
  if (!isValidListName(name)) throw new PortcullisError('invalid_input', { message: `"${name}" is not a valid list name: ${LIST_NAME_RULE}.` });
}

/**
 * Imports list text all or nothing: one invalid line rejects the whole import, so a truncated or wrong file
 * never half-replaces a list. The error lists the bad lines with their numbers.
 */
export async function importIpList(store: IpListStore, listName: string, text: string, options: { replace: boolean; now: number }): Promise<ImportResult> {
  assertListName(listName);
  const parsed = parseIpListText(text);
  if (parsed.invalid.length > 0) {
    const lines = describeInvalidLines(parsed.invalid);
    throw new PortcullisError('invalid_input', { message: `${parsed.invalid.length} invalid line(s); nothing was imported:\n  ${lines.join('\n  ')}` });
  }
  const added = options.replace ? await store.replace(listName, parsed.entries, options.now) : await store.add(listName, parsed.entries, options.now);
  return { added, parsed: parsed.entries.length, widened: parsed.widened };
}

/** Removes one CIDR (or IP) from a list; throws not_found when it was not on it. */
export async function removeIpListEntry(store: IpListStore, listName: string, cidrText: string, now: number): Promise<string> {
  assertListName(listName);
  const cidr = normalizeCidr(cidrText);
  if (!cidr) throw new PortcullisError('invalid_input', { message: `"${cidrText}" is not an IP address or CIDR.` });
  if (!(await store.remove(listName, cidr, now))) {
    throw new PortcullisError('not_found', { message: `${cidr} is not on list "${listName}". See: portcullis iplist list --list ${listName}` });
  }
  return cidr;
}
