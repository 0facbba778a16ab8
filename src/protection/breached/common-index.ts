// The bundled index: the common-password list shipped in @zxcvbn-ts/language-common (MIT), built once into the data folder.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openPwdxIndex, type PwdxIndex } from './pwdx-index.js';
import { PwdxWriter } from './pwdx-writer.js';
import { createSha1Prefix } from './sha1-prefix.js';

const PACKAGE = '@zxcvbn-ts/language-common';

export function commonIndexPath(dataDir: string): string {
  return join(dataDir, 'breach', 'common.pwdx');
}

/** Opens <dataDir>/breach/common.pwdx, (re)building it when it is missing, unreadable or from another list version. */
export function openCommonIndex(dataDir: string): PwdxIndex {
  const require = createRequire(import.meta.url);
  const version = (require(`${PACKAGE}/package.json`) as { version: string }).version;
  const sourceTag = crc32(`${PACKAGE}@${version}:passwords-common:pwdx1`);
  const path = commonIndexPath(dataDir);
  try {
    const index = openPwdxIndex(path, { verify: 'full' });
    if (index.header.sourceTag === sourceTag) return index;
    index.close();
  } catch {
    // missing or damaged: rebuilt below
  }
  // Loaded only when building: decompressing the list takes a few hundred milliseconds.
  const list = (require(PACKAGE) as { dictionary: { 'passwords-common': string[] } }).dictionary['passwords-common'];
  buildFromPasswords(list, path, sourceTag);
  return openPwdxIndex(path, { verify: 'full' });
}

/** Writes an index of a small in-memory password list (count unknown: class 0), atomically. */
export function buildFromPasswords(passwords: readonly string[], path: string, sourceTag = 0): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const keys = new BigUint64Array(passwords.length);
  const words = new Uint32Array(keys.buffer);
  const sha1 = createSha1Prefix();
  const out = { hi: 0, lo: 0 };
  passwords.forEach((password, i) => {
    const bytes = Buffer.from(password, 'utf8');
    sha1(bytes, 0, bytes.length, out);
    // little-endian words: lo first, so the 64-bit value sorts like the hash
    words[2 * i] = out.lo;
    words[2 * i + 1] = out.hi;
  });
  keys.sort();
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const writer = new PwdxWriter(temp, { expectedEntries: passwords.length, sourceTag });
    try {
      for (let i = 0; i < passwords.length; i++) writer.add(words[2 * i + 1] as number, words[2 * i] as number, 0);
    } catch (error) {
      writer.close();
      throw error;
    }
    writer.finish();
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}
