// The HIBP k-anonymity range API: only the first 5 hex characters of the SHA-1 leave the process, with padding.
import { createTtlLruCache } from './ttl-lru-cache.js';

export interface HibpRangeClientOptions {
  /** Default https://api.pwnedpasswords.com; a self-hosted mirror serving /range/{prefix} works the same. */
  host?: string;
  timeoutMs?: number;
  /** Range responses are cached per prefix, so the cache never holds a user's full hash. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface HibpRangeClient {
  /** The breach count of a SHA-1 (40 hex characters), or null when it is not listed. Throws HibpUnavailableError. */
  lookup(sha1Hex: string): Promise<{ count: number } | null>;
}

export type HibpFailure = 'timeout' | 'network' | 'http_status' | 'malformed';

export class HibpUnavailableError extends Error {
  constructor(
    readonly reason: HibpFailure,
    detail: string,
  ) {
    super(`HIBP range API unavailable (${reason}): ${detail}`);
    this.name = 'HibpUnavailableError';
  }
}

const LINE = /^([0-9A-Fa-f]{35}):(\d{1,15})$/;

export function createHibpRangeClient(options: HibpRangeClientOptions = {}): HibpRangeClient {
  const host = (options.host ?? 'https://api.pwnedpasswords.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 2000;
  const fetchImpl = options.fetch ?? fetch;
  // Value: the listed (non-padding) lines of one range as "SUFFIX:COUNT\n…", about 40 KB per prefix.
  const cache = createTtlLruCache<string>({ maxEntries: options.cacheMaxEntries ?? 500, ttlMs: options.cacheTtlMs ?? 3_600_000, now: options.now });

  async function fetchRange(prefix: string): Promise<string> {
    let response: Response;
    let body: string;
    try {
      response = await fetchImpl(`${host}/range/${prefix}`, {
        headers: { 'Add-Padding': 'true', 'User-Agent': 'Portcullis-breach-check' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new HibpUnavailableError('http_status', `GET ${host}/range/<prefix> answered ${response.status}`);
      }
      body = await response.text();
    } catch (error) {
      if (error instanceof HibpUnavailableError) throw error;
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new HibpUnavailableError('timeout', `no answer from ${host} within ${timeoutMs} ms`);
      throw new HibpUnavailableError('network', `${host}: ${(error as Error).message}`);
    }
    const listed: string[] = [];
    for (const raw of body.split('\n')) {
      const line = raw.trim();
      if (line === '') continue;
      const match = LINE.exec(line);
      if (!match) throw new HibpUnavailableError('malformed', `unexpected line in the range response from ${host}`);
      // Count 0 marks a padding line (Add-Padding: true), which hides the real size of the range.
      if (match[2] !== '0' && Number(match[2]) > 0) listed.push(`${(match[1] as string).toUpperCase()}:${Number(match[2])}\n`);
    }
    return listed.join('');
  }

  return {
    async lookup(sha1Hex) {
      if (!/^[0-9A-Fa-f]{40}$/.test(sha1Hex)) throw new TypeError('expected a SHA-1 as 40 hex characters');
      const hex = sha1Hex.toUpperCase();
      const prefix = hex.slice(0, 5);
      let range = cache.get(prefix);
      if (range === undefined) {
        range = await fetchRange(prefix);
        cache.set(prefix, range);
      }
      // Every line is 35 hex characters, a colon and a count, so a match of "SUFFIX:" is always a whole suffix.
      const at = range.indexOf(`${hex.slice(5)}:`);
      if (at === -1) return null;
      return { count: Number(range.slice(at + 36, range.indexOf('\n', at))) };
    },
  };
}
