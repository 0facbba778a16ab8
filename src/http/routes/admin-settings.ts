// Console settings (operators only; the service refuses organization admins): the effective attack-protection settings
// per section with each option's documentation, a form per section that posts a patch of the changed values, a reset
// to the deployment's values, and the history of runtime changes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OPTION_DOCS } from '../../config/schema.js';
import { formatDuration, parseDuration } from '../../config/duration.js';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import { RUNTIME_KEYS, RUNTIME_SECTIONS, type ProtectionSettings, type RuntimeSection } from '../../settings/runtime-settings.js';
import type { SettingsRecord } from '../../store/store.js';
import { sendHtml } from '../link-pages.js';
import { settingsPage, type SettingFieldView, type SettingKind, type SettingsSectionView } from '../views/admin-settings-page.js';
import { doneUrl, noticeFrom, type ConsoleContext, type ConsoleKit } from './admin-common.js';
import type { ConsoleDeps } from './admin-console.js';

type FieldSpec =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'duration' }
  | { kind: 'bool' }
  | { kind: 'enum'; options: readonly string[] }
  | { kind: 'text' }
  | { kind: 'json' }
  | { kind: 'group'; fields: Record<string, Exclude<FieldSpec, { kind: 'group' }>> };

const MODES = ['never', 'when_risky', 'always'] as const;

/** How each runtime key is edited; the type makes a new RUNTIME_KEYS entry a compile error until it is listed here. */
const FIELDS: { [S in RuntimeSection]: Record<(typeof RUNTIME_KEYS)[S][number], FieldSpec> } = {
  bruteForce: {
    threshold: { kind: 'int', min: 1, max: 100 },
    blockDuration: { kind: 'duration' },
    emailInterval: { kind: 'duration' },
    unblockLinkTtl: { kind: 'duration' },
    loginLinkTtl: { kind: 'duration' },
    accountLockout: { kind: 'bool' },
    accountLockoutThreshold: { kind: 'int', min: 1, max: 100_000 },
  },
  throttle: {
    failedLoginsPerDay: { kind: 'int', min: 1, max: 1_000_000 },
    refillEvery: { kind: 'duration' },
    alertEmail: { kind: 'text' },
    alertInterval: { kind: 'duration' },
  },
  bot: {
    loginMode: { kind: 'enum', options: MODES },
    signupMode: { kind: 'enum', options: MODES },
    resetMode: { kind: 'enum', options: MODES },
    sensitivity: { kind: 'enum', options: ['low', 'medium', 'high'] },
    monitorOnly: { kind: 'bool' },
  },
  breach: {
    minCount: { kind: 'int', min: 1, max: 1_000_000_000 },
    actions: {
      kind: 'group',
      fields: { block: { kind: 'bool' }, notifyUser: { kind: 'bool' }, notifyAdmins: { kind: 'enum', options: ['off', 'immediate', 'daily'] } },
    },
  },
  risk: {
    enabled: { kind: 'bool' },
    rules: { kind: 'json' },
    rememberDevicesFor: { kind: 'duration' },
    maxTravelSpeedKmh: { kind: 'int', min: 100, max: 100_000 },
    historyWindow: { kind: 'duration' },
    notifyNewDevice: { kind: 'bool' },
    notifyAdmins: { kind: 'bool' },
    adminAlertInterval: { kind: 'duration' },
    emailCodeTtl: { kind: 'duration' },
  },
};

const TITLES: Record<RuntimeSection, string> = {
  bruteForce: 'Brute-force protection',
  throttle: 'Failed-login throttling per IP',
  bot: 'Bot detection (CAPTCHA)',
  breach: 'Breached passwords',
  risk: 'Risk assessment',
};

type LeafSpec = Exclude<FieldSpec, { kind: 'group' }>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a current value shows in its input. */
function display(spec: LeafSpec, value: unknown): string | boolean {
  switch (spec.kind) {
    case 'bool':
      return value === true;
    case 'duration':
      return typeof value === 'number' ? formatDuration(value) : String(value ?? '');
    case 'json':
      return JSON.stringify(value ?? null, null, 2);
    default:
      return String(value ?? '');
  }
}

/** A submitted form value as the patch value, and whether it differs from the value in force. */
function parseLeaf(spec: LeafSpec, path: string, raw: unknown, current: unknown): { value: unknown; changed: boolean } {
  if (raw !== undefined && typeof raw !== 'string') throw new PortcullisError('invalid_input', { message: `${path}: send one value.` });
  const text = (raw ?? '').trim();
  switch (spec.kind) {
    case 'bool': {
      const value = raw === 'true';
      return { value, changed: value !== current };
    }
    case 'int': {
      if (!/^-?\d{1,15}$/.test(text)) throw new PortcullisError('invalid_input', { message: `${path}: enter a whole number from ${spec.min} to ${spec.max}.` });
      const value = Number(text);
      return { value, changed: value !== current };
    }
    case 'duration': {
      if (!text) throw new PortcullisError('invalid_input', { message: `${path}: enter a duration such as 90s, 30m, 24h or 7d.` });
      return { value: text, changed: parseDuration(text) !== current };
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new PortcullisError('invalid_input', { message: `${path}: not valid JSON (${(error as Error).message}).` });
      }
      return { value, changed: JSON.stringify(value) !== JSON.stringify(current) };
    }
    default:
      return { value: spec.kind === 'text' ? (raw ?? '').trim() : text, changed: (spec.kind === 'text' ? (raw ?? '').trim() : text) !== current };
  }
}

/** The patch for one section: only the keys whose submitted value differs (a changed group is sent whole). */
export function sectionPatch(section: RuntimeSection, body: Record<string, unknown>, current: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(FIELDS[section]) as [string, FieldSpec][]) {
    const path = `${section}.${key}`;
    if (spec.kind === 'group') {
      const now = isObject(current[key]) ? current[key] : {};
      const value: Record<string, unknown> = {};
      let changed = false;
      for (const [sub, subSpec] of Object.entries(spec.fields)) {
        const parsed = parseLeaf(subSpec, `${path}.${sub}`, body[`${key}.${sub}`], now[sub]);
        value[sub] = parsed.value;
        changed ||= parsed.changed;
      }
      if (changed) patch[key] = value;
    } else {
      const parsed = parseLeaf(spec, path, body[key], current[key]);
      if (parsed.changed) patch[key] = parsed.value;
    }
  }
  return patch;
}

function overlayHas(overlay: SettingsRecord | null, section: string, key: string, sub?: string): boolean {
  const values = overlay?.values?.[section];
  if (!isObject(values) || !(key in values)) return false;
  if (sub === undefined) return true;
  const group = values[key];
  return isObject(group) && sub in group;
}

function sectionView(section: RuntimeSection, effective: ProtectionSettings, overlay: SettingsRecord | null, submitted: Record<string, unknown> | null, error: string | null): SettingsSectionView {
  const current = effective[section] as unknown as Record<string, unknown>;
  const fields: SettingFieldView[] = [];
  // After a refused save the form shows what was typed, so nothing has to be typed again.
  const shown = (spec: LeafSpec, name: string, value: unknown): string | boolean => {
    if (!submitted) return display(spec, value);
    const raw = submitted[name];
    if (spec.kind === 'bool') return raw === 'true';
    return typeof raw === 'string' ? raw : display(spec, value);
  };
  const leaf = (spec: LeafSpec, name: string, path: string, value: unknown, overridden: boolean): SettingFieldView => ({
    name,
    path,
    kind: spec.kind as SettingKind,
    value: shown(spec, name, value),
    ...(spec.kind === 'enum' ? { options: spec.options } : {}),
    ...(spec.kind === 'int' ? { min: spec.min, max: spec.max } : {}),
    help: OPTION_DOCS[path]?.description ?? '',
    overridden,
  });
  for (const [key, spec] of Object.entries(FIELDS[section]) as [string, FieldSpec][]) {
    const path = `${section}.${key}`;
    if (spec.kind === 'group') {
      const group = isObject(current[key]) ? current[key] : {};
      for (const [sub, subSpec] of Object.entries(spec.fields)) fields.push(leaf(subSpec, `${key}.${sub}`, `${path}.${sub}`, group[sub], overlayHas(overlay, section, key, sub)));
    } else {
      fields.push(leaf(spec, key, path, current[key], overlayHas(overlay, section, key)));
    }
  }
  return { key: section, title: TITLES[section], fields, error };
}

function sectionOf(request: FastifyRequest): RuntimeSection {
  const section = (request.params as { section?: string }).section ?? '';
  if (!(RUNTIME_SECTIONS as string[]).includes(section)) throw new PortcullisError('not_found', { message: 'There is no such settings section.' });
  return section as RuntimeSection;
}

export function adminSettingsRoutes(deps: ConsoleDeps, kit: ConsoleKit) {
  const { admin } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext, status = 200, failed: { section: RuntimeSection; message: string; body: Record<string, unknown> | null } | null = null) {
    const { effective, overlay } = await admin.getSettings(ctx.principal);
    const history = await admin.settingsHistory(ctx.principal, 20);
    const actors = await kit.actorNames(ctx.principal, [overlay?.updatedBy, ...history.map((h) => h.updatedBy)]);
    const sections = RUNTIME_SECTIONS.map((s) => sectionView(s, effective, overlay, failed?.section === s ? (failed.body ?? null) : null, failed?.section === s ? failed.message : null));
    return sendHtml(reply, status, settingsPage(ctx.frame, { csrfToken: ctx.csrfToken, notice: failed ? null : noticeFrom(request), overlay, sections, history, actors }));
  }

  return async (app: FastifyInstance): Promise<void> => {
    app.get('/admin/settings', kit.page('settings', async (request, reply, ctx) => render(request, reply, ctx)));

    app.post(
      '/admin/settings/:section',
      kit.action('settings', async (request, reply, ctx) => {
        const section = sectionOf(request);
        const body = isObject(request.body) ? request.body : {};
        try {
          const { effective } = await admin.getSettings(ctx.principal);
          const patch = sectionPatch(section, body, effective[section] as unknown as Record<string, unknown>);
          if (Object.keys(patch).length === 0) return reply.redirect(`${doneUrl('/admin/settings', 'settings_unchanged')}#section-${section}`, 303);
          await admin.updateSettings(ctx.principal, { [section]: patch });
          return reply.redirect(`${doneUrl('/admin/settings', 'settings_saved')}#section-${section}`, 303);
        } catch (error) {
          if (isPortcullisError(error) && (error.code === 'invalid_input' || error.code === 'conflict')) return render(request, reply, ctx, error.status, { section, message: error.publicMessage, body });
          throw error;
        }
      }),
    );

    app.post(
      '/admin/settings/:section/reset',
      kit.action('settings', async (request, reply, ctx) => {
        const section = sectionOf(request);
        const patch = Object.fromEntries(RUNTIME_KEYS[section].map((key) => [key, null]));
        try {
          await admin.updateSettings(ctx.principal, { [section]: patch });
        } catch (error) {
          if (isPortcullisError(error) && (error.code === 'invalid_input' || error.code === 'conflict')) return render(request, reply, ctx, error.status, { section, message: error.publicMessage, body: null });
          throw error;
        }
        return reply.redirect(`${doneUrl('/admin/settings', 'settings_reset')}#section-${section}`, 303);
      }),
    );
  };
}
