// What a CLI command may touch: its streams and environment, injected for tests.
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export class UsageError extends Error {}

export async function readAllStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export function printTable(out: NodeJS.WritableStream, rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    out.write('(none)\n');
    return;
  }
  const cell = (v: unknown) => (Array.isArray(v) ? v.join(',') : v === null || v === undefined ? '' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  out.write(`${line(columns)}\n`);
  for (const row of rows) out.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}
