// Renders the configuration reference (docs/config.md) from the schema's defaults and descriptions.
import { formatDuration } from './duration.js';
import { parseConfig } from './load-config.js';
import { OPTION_DOCS } from './schema.js';
import { DEFAULT_RISK_RULES, describeRule } from '../protection/risk/risk-policy.js';

const DURATIONS = new Set(['geoipPollInterval', 'sessionIdleTimeout', 'sessionAbsoluteTimeout', 'tokens.accessTokenTtl', 'tokens.idTokenTtl', 'tokens.authorizationCodeTtl', 'tokens.interactionTtl', 'setupLinkTtl', 'links.verifyEmailTtl', 'links.resetPasswordTtl', 'mail.retryBaseDelay', 'mail.pollInterval', 'bruteForce.blockDuration', 'bruteForce.emailInterval', 'bruteForce.unblockLinkTtl', 'bruteForce.loginLinkTtl', 'throttle.refillEvery', 'throttle.alertInterval', 'breach.online.timeout', 'breach.online.cacheTtl', 'ipLists.pollInterval', 'passkeys.offerSnooze', 'risk.rememberDevicesFor', 'risk.historyWindow', 'risk.adminAlertInterval', 'risk.emailCodeTtl', 'webhooks.retryBaseDelay', 'webhooks.pollInterval', 'webhooks.timeout']);

export function renderConfigReference(): string {
  const defaults = parseConfig({}) as unknown as Record<string, unknown>;
  const rows = Object.entries(OPTION_DOCS).map(([path, doc]) => {
    const raw = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], defaults);
    const value =
      DURATIONS.has(path) && typeof raw === 'number'
        ? formatDuration(raw)
        : raw === '' || (Array.isArray(raw) && raw.length === 0)
          ? '(none)'
          : Array.isArray(raw) && typeof raw[0] === 'object'
            ? 'see below'
            : String(raw);
    return `| \`${path}\` | ${doc.env ? `\`${doc.env}\`` : '(JSON file only)'} | \`${value}\` | ${doc.description}${doc.secret ? ' **Secret:** redacted by `portcullis config`.' : ''} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand; a test fails when it is stale. -->',
    '',
    'Settings come from environment variables and, optionally, a JSON file named by `PORTCULLIS_CONFIG` (keys are the JSON names below; nested names such as `argon2.memoryCost` are nested objects). Environment variables win over the file. The configuration is validated once at start; an invalid value stops the process with a message naming the option and its variable.',
    '',
    'Durations are written like `90s`, `5m`, `24h` or `7d`.',
    '',
    '| JSON name | environment variable | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Default risk policy (`risk.rules`)',
    '',
    'Checked on every password login after the password proved correct (passkey logins are never assessed). Rules are listed in order; when several match, the strongest action wins (`block` over `require_mfa` over `log`). Set `risk.rules` in the JSON file to replace the whole list.',
    '',
    '```json',
    JSON.stringify(DEFAULT_RISK_RULES, null, 2),
    '```',
    '',
    ...DEFAULT_RISK_RULES.map((rule) => `- ${describeRule(rule)}`),
    '',
  ].join('\n');
}
