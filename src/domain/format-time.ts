// The one human time format of pages and emails: minute precision, always UTC, so it reads the same everywhere.
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
