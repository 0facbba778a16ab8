// Reads url-encoded form fields with type and length checks, so bad input becomes a clear 400.
import { PortcullisError } from '../domain/errors.js';

export function formField(body: unknown, name: string, options: { max: number; required?: boolean; label?: string }): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  const label = options.label ?? name;
  if (value === undefined || value === '') {
    if (options.required === false) return '';
    throw new PortcullisError('invalid_input', { message: `${label} is required.` });
  }
  if (typeof value !== 'string') throw new PortcullisError('invalid_input', { message: `${label} must be sent once, as text.` });
  if (value.length > options.max) throw new PortcullisError('invalid_input', { message: `${label} is too long (at most ${options.max} characters).` });
  return value;
}

export const UID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
