// autocannon for the benchmarks that repeat one fixed request (the same client for a route and its baseline).
import autocannon from 'autocannon';

export interface CannonResult {
  perSec: number;
  total: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

export async function cannon(options: {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSec: number;
}): Promise<CannonResult> {
  const r = await autocannon({
    url: `http://127.0.0.1:${options.port}${options.path}`,
    method: options.method,
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    pipelining: 1,
    duration: options.durationSec,
    timeout: 10,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    perSec: total / r.duration,
    total,
    seconds: r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}
