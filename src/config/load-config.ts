// Reads env plus an optional JSON file, validates once against the schema, and freezes the result.
import { readFileSync } from 'node:fs';
import { PortcullisError } from '../domain/errors.js';
import { configSchema, OPTION_DOCS, type ParsedConfig } from './schema.js';

export interface Config extends Omit<ParsedConfig, 'signupEnabled'> {
  readonly signupEnabled: boolean;
  /** The secret actually in use: configured, or generated into the data folder in development. */
  readonly secretSource: 'configured' | 'generated' | 'unset';
  readonly cookieSecure: boolean;
  readonly issuer: string;
  readonly isProduction: boolean;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] = (node[part] as Record<string, unknown> | undefined) ?? {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

export function readConfigInput(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const file = env.PORTCULLIS_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new PortcullisError('config_invalid', { detail: `PORTCULLIS_CONFIG=${file} could not be read as JSON: ${(error as Error).message}` });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PortcullisError('config_invalid', { detail: `PORTCULLIS_CONFIG=${file} must hold a JSON object` });
    }
    Object.assign(input, parsed);
  }
  for (const [path, doc] of Object.entries(OPTION_DOCS)) {
    if (doc.env && env[doc.env] !== undefined && env[doc.env] !== '') setPath(input, path, env[doc.env]);
  }
  return input;
}

function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      const env = OPTION_DOCS[path]?.env;
      return `  - ${path}${env ? ` (${env})` : ''}: ${issue.message}`;
    })
    .join('\n');
}

/** Validates and freezes; throws a PortcullisError listing every bad option and how to fix it. */
export function parseConfig(input: Record<string, unknown>, secretSource: Config['secretSource'] = 'configured'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new PortcullisError('config_invalid', { detail: `Invalid configuration:\n${formatIssues(result.error.issues)}` });
  }
  const parsed = result.data;
  const config: Config = {
    ...parsed,
    signupEnabled: parsed.signupEnabled ?? parsed.nodeEnv !== 'production',
    secretSource: parsed.secret ? secretSource : 'unset',
    cookieSecure: parsed.publicUrl.startsWith('https://'),
    issuer: `${parsed.publicUrl}/oidc`,
    isProduction: parsed.nodeEnv === 'production',
  };
  return deepFreeze(config);
}

/** Production refuses defaults that are only safe on a developer's laptop. */
export function assertProductionSafe(config: Config): void {
  if (!config.isProduction) return;
  const problems: string[] = [];
  if (config.secretSource !== 'configured') problems.push('PORTCULLIS_SECRET must be set (at least 32 random characters); generated secrets are for development only.');
  if (!config.smtpUrl) problems.push('PORTCULLIS_SMTP_URL must be set; the dev mailbox is for development only.');
  if (config.metrics.enabled && !config.metrics.token) problems.push('PORTCULLIS_METRICS_TOKEN must be set while metrics are on (or set PORTCULLIS_METRICS=false); /metrics would be open to anyone.');
  if (!config.cookieSecure && !config.allowHttpInProduction) problems.push('PORTCULLIS_PUBLIC_URL must be https (or set PORTCULLIS_ALLOW_HTTP=true behind a TLS-terminating proxy).');
  if (problems.length > 0) {
    throw new PortcullisError('config_invalid', { detail: `Refusing to start in production:\n${problems.map((p) => `  - ${p}`).join('\n')}` });
  }
}

export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(config));
  for (const [path, doc] of Object.entries(OPTION_DOCS)) {
    if (!doc.secret) continue;
    const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], out);
    if (typeof value === 'string' && value !== '') setPath(out, path, redactValue(path, value));
  }
  return out;
}

function redactValue(path: string, value: string): string {
  if (path === 'secret') return '[redacted]';
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return '[redacted]';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
