// A small HTTP/1.1 client for the custom load loops: one keep-alive connection per virtual client, and a cookie jar.
import http, { type IncomingHttpHeaders } from 'node:http';

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds from sending the request to the end of the body. */
  ms: number;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds before the request is abandoned (the run is bounded). */
  timeoutMs?: number;
}

/** One connection (maxSockets 1, keep-alive), like one browser tab or one autocannon connection. */
export class Connection {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly port: number, readonly host = '127.0.0.1') {}

  request(options: RequestOptions): Promise<Response> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
      const req = http.request(
        { host: this.host, port: this.port, method: options.method ?? 'GET', path: options.path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
          res.on('error', reject);
        },
      );
      req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 30_000} ms: ${options.method ?? 'GET'} ${options.path}`)));
      req.on('error', reject);
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/** Keeps cookies by (name, path) and sends those whose path prefixes the request path, as a browser does. */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  store(headers: IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=').map((s) => s.trim());
        const key = (k ?? '').toLowerCase();
        if (key === 'path') path = v || '/';
        else if (key === 'max-age' && Number(v) <= 0) expired = true;
        else if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name}|${path}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path });
    }
  }

  header(path: string): string | undefined {
    const pathname = path.split('?')[0] ?? '/';
    const matching = [...this.cookies.values()]
      .filter((c) => c.path === '/' || pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  get(name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.name === name)?.value;
  }

  delete(name: string): void {
    for (const [key, c] of this.cookies) if (c.name === name) this.cookies.delete(key);
  }
}

/** A browser-like client: one connection plus a cookie jar, with fixed extra headers (user agent, X-Forwarded-For). */
export class Client {
  readonly jar = new CookieJar();
  readonly connection: Connection;
  constructor(port: number, readonly headers: Record<string, string> = {}) {
    this.connection = new Connection(port);
  }

  async request(options: RequestOptions): Promise<Response> {
    const cookie = this.jar.header(options.path);
    const res = await this.connection.request({ ...options, headers: { ...this.headers, ...(options.headers ?? {}), ...(cookie ? { cookie } : {}) } });
    this.jar.store(res.headers);
    return res;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request({ method: 'GET', path, headers });
  }

  postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request({ method: 'POST', path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  }

  close(): void {
    this.connection.close();
  }
}

/** The hidden CSRF field of a rendered form. */
export function csrfIn(body: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error(`no csrf field in page: ${body.slice(0, 200)}`);
  return match[1];
}

/** Turns a Location on the public origin into a path (the bench servers listen on 127.0.0.1 under another origin). */
export function pathOf(location: string): string {
  if (location.startsWith('/')) return location;
  const url = new URL(location);
  return `${url.pathname}${url.search}`;
}
