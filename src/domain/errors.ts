// The one error family: a stable code, an HTTP status, a public sentence (safe to show) and a debug detail (logs only).
export const ERROR_CODES = {
  invalid_input: { status: 400, message: 'The request was not valid. Check the fields and try again.' },
  invalid_credentials: { status: 401, message: 'Incorrect email or password.' },
  unauthorized: { status: 401, message: 'Authentication is required: send a valid access token, or sign in.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  csrf_failed: { status: 403, message: 'This form has expired or was not sent from this site. Reload the page and try again.' },
  not_found: { status: 404, message: 'This page does not exist.' },
  interaction_expired: { status: 400, message: 'This sign-in attempt has expired. Go back to the application and start again.' },
  link_invalid: { status: 410, message: 'This link is invalid, has expired or was already used. Request a new one.' },
  conflict: { status: 409, message: 'This already exists.' },
  payload_too_large: { status: 413, message: 'The request is too large.' },
  unsupported_media_type: { status: 415, message: 'This content type is not supported.' },
  rate_limited: { status: 429, message: 'Too many attempts. Wait a while and try again.' },
  service_unavailable: { status: 503, message: 'Sign-in is temporarily unavailable. Please try again in a minute.' },
  config_invalid: { status: 500, message: 'The server is misconfigured.' },
  internal: { status: 500, message: 'Something went wrong on our side. Try again in a moment.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly publicMessage: string;
  readonly detail: string | undefined;
  /** Sent as `Retry-After` (seconds) with the response, when set. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: { message?: string; detail?: string; retryAfterSeconds?: number } = {}) {
    const spec = ERROR_CODES[code];
    super(options.detail ?? options.message ?? spec.message);
    this.name = 'PortcullisError';
    this.code = code;
    this.status = spec.status;
    this.publicMessage = options.message ?? spec.message;
    this.detail = options.detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isPortcullisError(value: unknown): value is PortcullisError {
  return value instanceof PortcullisError;
}
