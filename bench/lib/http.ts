// A small HTTP/1.1 client for the custom load loops: one keep-alive connection per virtual client, and a cookie jar.
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

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

/**
 * One keep-alive HTTP/1.1 connection, like one browser tab or one autocannon connection. It writes requests and parses
 * responses itself on a raw socket: node:http's client cost about 1 ms of CPU per request, on the same two cores as
 * the server, and the load generator should take as little of them as it can. It understands what the servers here
 * send (Content-Length bodies); anything else (chunked transfer encoding) fails loudly rather than being misread.
 * Requests on one connection are sent one at a time.
 */
export class Connection {
  private socket: net.Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: Response) => void; reject: (e: Error) => void; started: number; head: boolean } | null = null;
  private timer: NodeJS.Timeout | null = null;
  constructor(readonly port: number, readonly host = '127.0.0.1') {}

  private connect(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = net.connect(this.port, this.host);
    socket.setNoDelay(true);
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = null;
      this.settle(null, error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before the response ended')));
    this.socket = socket;
    return socket;
  }

  private settle(response: Response | null, error?: Error): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (response) pending.resolve(response);
    else pending.reject(error ?? new Error('request failed'));
  }

  private parse(): void {
    const pending = this.pending;
    if (!pending) return;
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const lines = this.buffer.toString('latin1', 0, headEnd).split('\r\n');
    const status = Number(lines[0]?.split(' ')[1] ?? 0);
    const headers: IncomingHttpHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'set-cookie') (headers['set-cookie'] ??= []).push(value);
      else headers[name] = value;
    }
    if (headers['transfer-encoding']) {
      this.socket?.destroy();
      this.settle(null, new Error(`unsupported transfer-encoding ${String(headers['transfer-encoding'])}`));
      return;
    }
    const length = pending.head || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    if (this.buffer.length < bodyStart + length) return;
    const body = this.buffer.toString('utf8', bodyStart, bodyStart + length);
    this.buffer = this.buffer.subarray(bodyStart + length);
    if (headers.connection === 'close') this.socket?.destroy();
    this.settle({ status, headers, body, ms: performance.now() - pending.started });
  }

  request(options: RequestOptions): Promise<Response> {
    if (this.pending) return Promise.reject(new Error('one request at a time on a connection'));
    const started = performance.now();
    const method = options.method ?? 'GET';
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, started, head: method === 'HEAD' };
      const timeoutMs = options.timeoutMs ?? 30_000;
      this.timer = setTimeout(() => {
        this.socket?.destroy();
        this.settle(null, new Error(`timeout after ${timeoutMs} ms: ${method} ${options.path}`));
      }, timeoutMs);
      let head = `${method} ${options.path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\nconnection: keep-alive\r\n`;
      for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
      if (options.body !== undefined) head += `content-length: ${Buffer.byteLength(options.body)}\r\n`;
      this.connect().write(options.body === undefined ? `${head}\r\n` : `${head}\r\n${options.body}`);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
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
