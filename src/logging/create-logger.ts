// JSON logs through pino that never carry secrets: no cookies, no auth headers, no token-bearing paths or query values.
import pino, { type DestinationStream, type Logger } from 'pino';

const SAFE_QUERY = new Set(['client_id', 'response_type', 'scope', 'redirect_uri', 'prompt', 'response_mode', 'code_challenge_method', 'post_logout_redirect_uri', 'ui_locales', 'max_age']);
const TOKEN_SEGMENT = /^[A-Za-z0-9_-]{12,}\.[A-Za-z0-9_-]{20,}$/;

/** Keeps the route shape for debugging while dropping every value that could be a credential. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q))
    .split('/')
    .map((segment) => (TOKEN_SEGMENT.test(segment) ? '[token]' : segment))
    .join('/');
  if (q === -1) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  const parts: string[] = [];
  for (const [key, value] of params) parts.push(`${key}=${SAFE_QUERY.has(key) ? value : '[redacted]'}`);
  return `${path}?${parts.join('&')}`;
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.code',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string; headers?: Record<string, unknown> }) => ({
          method: req.method,
          url: redactUrl(req.url ?? ''),
          ip: req.ip,
          userAgent: req.headers?.['user-agent'],
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
