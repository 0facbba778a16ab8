// Attack-protection settings that admins change at runtime: a sparse overlay on the deployment's configuration,
// validated by the same schema, stored with who changed it, and picked up by every node within a poll interval.
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { configSchema } from '../config/schema.js';
import { PortcullisError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import { every } from '../domain/background-refresh.js';
import type { SettingsRecord, SettingsStore } from '../store/store.js';

/** What may change at runtime, per section. Deployment facts (CAPTCHA provider and keys, breach index, URLs) may not. */
export const RUNTIME_KEYS = {
  bruteForce: ['threshold', 'blockDuration', 'emailInterval', 'unblockLinkTtl', 'loginLinkTtl', 'accountLockout', 'accountLockoutThreshold'],
  throttle: ['failedLoginsPerDay', 'refillEvery', 'alertEmail', 'alertInterval'],
  bot: ['loginMode', 'signupMode', 'resetMode', 'sensitivity', 'monitorOnly'],
  breach: ['minCount', 'actions'],
  risk: ['enabled', 'rules', 'rememberDevicesFor', 'maxTravelSpeedKmh', 'historyWindow', 'notifyNewDevice', 'notifyAdmins', 'adminAlertInterval', 'emailCodeTtl'],
} as const;

export type RuntimeSection = keyof typeof RUNTIME_KEYS;
export const RUNTIME_SECTIONS = Object.keys(RUNTIME_KEYS) as RuntimeSection[];

/** The effective protection settings: the deployment's configuration with the stored overlay applied. */
export interface ProtectionSettings {
  bruteForce: Config['bruteForce'];
  throttle: Config['throttle'];
  bot: Config['bot'];
  breach: Config['breach'];
  risk: Config['risk'];
}

export interface RuntimeSettings {
  /** The settings in force on this node now (no I/O). */
  current(): ProtectionSettings;
  /** The stored overlay and its metadata (null: nothing changed at runtime). */
  overlay(): SettingsRecord | null;
  /** Re-reads the store if another node (or this one) changed the settings; returns whether anything changed. */
  refresh(): Promise<boolean>;
  /**
   * Validates `patch` (sections → keys → values, as in the config file), merges it into the overlay and stores it as
   * `actor`. A `null` value removes that key from the overlay (back to the deployment's value).
   */
  update(patch: unknown, actor: string): Promise<SettingsRecord>;
  history(limit: number): Promise<SettingsRecord[]>;
  close(): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describeIssues(error: z.ZodError, section: string): string {
  return error.issues.map((i) => `${[section, ...i.path].join('.')}: ${i.message}`).join('; ');
}

/** Applies an overlay to the deployment's sections and validates the result with the config schema. */
export function effectiveSettings(config: Config, overlay: Record<string, unknown>): ProtectionSettings {
  const out: Record<string, unknown> = {};
  for (const section of RUNTIME_SECTIONS) {
    const base = config[section] as Record<string, unknown>;
    const changes = isObject(overlay[section]) ? (overlay[section] as Record<string, unknown>) : {};
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(changes)) {
      merged[key] = isObject(value) && isObject(base[key]) ? { ...(base[key] as Record<string, unknown>), ...value } : value;
    }
    const parsed = configSchema.shape[section].safeParse(merged);
    if (!parsed.success) throw new PortcullisError('invalid_input', { message: `Invalid settings: ${describeIssues(parsed.error, section)}` });
    out[section] = parsed.data;
  }
  return out as unknown as ProtectionSettings;
}

/** Checks a patch's shape (known sections and keys only) and merges it into the current overlay. */
export function mergePatch(overlay: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  if (!isObject(patch)) throw new PortcullisError('invalid_input', { message: 'Send the settings as a JSON object of sections, e.g. {"bruteForce": {"threshold": 5}}.' });
  const next: Record<string, unknown> = structuredClone(overlay);
  for (const [section, changes] of Object.entries(patch)) {
    const allowed = Object.hasOwn(RUNTIME_KEYS, section) ? (RUNTIME_KEYS as Record<string, readonly string[]>)[section] : undefined;
    if (!allowed) throw new PortcullisError('invalid_input', { message: `"${section}" cannot be changed at runtime. Sections: ${RUNTIME_SECTIONS.join(', ')}.` });
    if (!isObject(changes)) throw new PortcullisError('invalid_input', { message: `"${section}" must be an object of settings.` });
    const target = isObject(next[section]) ? (next[section] as Record<string, unknown>) : {};
    for (const [key, value] of Object.entries(changes)) {
      if (!allowed.includes(key)) throw new PortcullisError('invalid_input', { message: `"${section}.${key}" cannot be changed at runtime. Allowed: ${allowed.join(', ')}.` });
      if (value === null) delete target[key];
      else target[key] = value;
    }
    if (Object.keys(target).length === 0) delete next[section];
    else next[section] = target;
  }
  return next;
}

export async function openRuntimeSettings(options: { config: Config; store: SettingsStore; clock: Clock; pollIntervalMs: number; onWarning?: (message: string) => void }): Promise<RuntimeSettings> {
  const { config, store, clock } = options;
  let record = await store.get();
  let settings = safeEffective(record);

  function safeEffective(candidate: SettingsRecord | null): ProtectionSettings {
    try {
      return effectiveSettings(config, candidate?.values ?? {});
    } catch (error) {
      // A stored overlay that no longer validates (for example after a deployment change) must not stop the server.
      options.onWarning?.(`stored runtime settings are invalid, using the deployment's: ${(error as Error).message}`);
      return effectiveSettings(config, {});
    }
  }

  async function refresh(): Promise<boolean> {
    const latest = await store.get();
    if ((latest?.revision ?? 0) === (record?.revision ?? 0)) return false;
    record = latest;
    settings = safeEffective(record);
    return true;
  }

  const stop = every(options.pollIntervalMs, refresh, (error) => options.onWarning?.(`runtime settings could not be reloaded: ${(error as Error).message}`));

  return {
    current: () => settings,
    overlay: () => record,
    refresh,
    async update(patch, actor) {
      await refresh();
      const values = mergePatch(record?.values ?? {}, patch);
      const applied = effectiveSettings(config, values);
      const stored = await store.put(values, actor, record?.revision ?? 0, clock.now());
      if (!stored) throw new PortcullisError('conflict', { message: 'Someone else changed the settings at the same time. Reload them and try again.' });
      record = stored;
      settings = applied;
      return stored;
    },
    history: (limit) => store.history(limit),
    close: stop,
  };
}
