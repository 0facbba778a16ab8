// Maps the two .mmdb record layouts we meet (MaxMind's nested City records, ip-location-db's flat ones) to one GeoLocation.

export interface GeoLocation {
  /** English country name, e.g. "Germany". */
  country: string | null;
  /** ISO 3166-1 alpha-2, e.g. "DE". */
  countryCode: string | null;
  /** First-level subdivision (state, region), e.g. "Bavaria". */
  region: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  /** MaxMind's accuracy radius. Null when the data has none (the flat layout never does). */
  accuracyKm: number | null;
}

/** ip-location-db's layout: `country_code, state1, state2, city, postcode, latitude, longitude, timezone`, "" for unknown. */
export interface FlatGeoRecord {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
}

type Names = { names?: Record<string, string> };

/** The parts of a GeoLite2-City / GeoIP2-City record we read. */
export interface NestedGeoRecord {
  country?: Names & { iso_code?: string };
  subdivisions?: (Names & { iso_code?: string })[];
  city?: Names;
  location?: { latitude?: number; longitude?: number; accuracy_radius?: number };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const english = (names: Names | undefined): string | null => text(names?.names?.en);

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** English name of an ISO country code ("DE" → "Germany"); the code itself when ICU does not know it. */
export function countryName(code: string | null): string | null {
  if (!code) return null;
  try {
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function fromFlatRecord(record: FlatGeoRecord): GeoLocation {
  const countryCode = text(record.country_code)?.toUpperCase() ?? null;
  return {
    country: countryName(countryCode),
    countryCode,
    region: text(record.state1),
    city: text(record.city),
    latitude: number(record.latitude),
    longitude: number(record.longitude),
    accuracyKm: null,
  };
}

export function fromNestedRecord(record: NestedGeoRecord): GeoLocation {
  const countryCode = text(record.country?.iso_code)?.toUpperCase() ?? null;
  return {
    country: english(record.country) ?? countryName(countryCode),
    countryCode,
    region: english(record.subdivisions?.[0]),
    city: english(record.city),
    latitude: number(record.location?.latitude),
    longitude: number(record.location?.longitude),
    accuracyKm: number(record.location?.accuracy_radius),
  };
}

/** Detects the layout per record, so one code path serves the bundled data and an operator's MaxMind file. */
export function toGeoLocation(record: unknown): GeoLocation | null {
  if (typeof record !== 'object' || record === null) return null;
  const location = 'country_code' in record ? fromFlatRecord(record as FlatGeoRecord) : fromNestedRecord(record as NestedGeoRecord);
  const empty = location.countryCode === null && location.latitude === null && location.city === null;
  return empty ? null : location;
}
