// The composition root: the only place that picks concrete parts (SQLite or PostgreSQL, SMTP or dev mailbox) and wires them.
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { systemClock, type Clock } from './domain/clock.js';
import { deriveKey, hmac } from './crypto/hmac.js';
import { createPasswordHasher, type PasswordHasher, type PasswordHasherObserver } from './crypto/password-hasher.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { installHttpMetrics, metricsRoutes } from './http/routes/metrics.js';
import { observeEvents, type EventObserver } from './events/observe-events.js';
import { createWebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { createWebhookWorker, type WebhookWorker } from './webhooks/webhook-worker.js';
import { listDeliveries, listWebhooks, webhookSealKey } from './webhooks/webhook-admin.js';
import { createSqlStore } from './store/sql/sql-store.js';
import { createRedisProtection, type RedisProtection } from './store/redis/redis-protection.js';
import type { Store } from './store/store.js';
import { ensureSigningKeys, initialKeyId } from './oidc/signing-keys.js';
import { createSessionService } from './sessions/session-service.js';
import { sweepSessions, type SweepResult } from './sessions/session-sweeper.js';
import { createSessionLinks } from './oidc/session-link.js';
import { createAppLogout } from './oidc/app-logout.js';
import { createKeyReloader, type KeyReloader } from './oidc/key-reload.js';
import { frontChannelUrls } from './oidc/front-channel.js';
import { SESSION_COOKIE } from './http/auth-session.js';
import { sessionStatusRoutes } from './http/routes/session-status.js';
import { createFlowRepository } from './login/flow-repository.js';
import { createLogger } from './logging/create-logger.js';
import { buildServer } from './http/server.js';
import { createCsrf } from './http/csrf.js';
import { parseTrustProxy } from './http/client-ip.js';
import { providerPages } from './http/oidc-pages.js';
import { interactionRoutes } from './http/routes/interaction.js';
import { setupRoutes } from './http/routes/setup.js';
import { demoClientMetadata, demoRoutes, DEMO_CLIENT_ID, EXAMPLE_APP_CLIENT_ID, exampleAppClientMetadata } from './http/routes/demo.js';
import { healthRoutes } from './http/routes/health.js';
import { assetRoutes } from './http/routes/assets.js';
import { homeRoutes } from './http/routes/home.js';
import { logoutHook } from './http/logout-hook.js';
import { createSetupLinkIfNeeded } from './admin/setup-link.js';
import type { AccountDeps } from './account/account-deps.js';
import type { PasswordLoginDeps } from './http/password-login.js';
import { signupRoutes } from './http/routes/signup.js';
import { passwordRoutes } from './http/routes/password.js';
import { accountRoutes } from './http/routes/account.js';
import { protectionLinkRoutes } from './http/routes/protection-links.js';
import { protectionNotices } from './account/protection-notices.js';
import { sendBreachDigests } from './account/breached-password.js';
import type { ProtectionDeps } from './protection/protection-deps.js';
import { parseAllowlist } from './protection/ip/allowlist.js';
import { createRefusalMemo } from './protection/refusal-memo.js';
import { forgettingRefusals } from './protection/forgetting-refusals.js';
import type { LoginStepDeps } from './http/login/login-steps.js';
import { describeIpLocation, lazyGeoLocator, pollGeoData } from './protection/geo/geo-locator.js';
import { openIpReputation } from './protection/ip-lists/ip-reputation.js';
import { createRiskGuard, type RiskGuard } from './protection/risk/risk-guard.js';
import { openRuntimeSettings, type RuntimeSettings } from './settings/runtime-settings.js';
import { createAdminService, type AdminService } from './admin/admin-service.js';
import { principalForToken } from './oidc/api-tokens.js';
import { apiRoutes } from './http/api/api-routes.js';
import { adminConsoleRoutes } from './http/routes/admin-console.js';
import { readDeviceToken } from './http/device-cookie.js';
import { alertAdmins, loginRecorder, stepUpPort } from './account/risk-notices.js';
import { createBotGuard } from './protection/bot/bot-guard.js';
import { createBreachChecker } from './protection/breached/breach-checker.js';
import { breachCheckerOptions } from './protection/breached/checker-options.js';
import { botThresholds } from './protection/bot/sensitivity.js';
import { createCaptchaStore } from './protection/captcha/captcha-store.js';
import { createImageCaptcha } from './protection/captcha/image-captcha.js';
import { createPowCaptcha } from './protection/captcha/pow-captcha.js';
import { createSiteverifyCaptcha } from './protection/captcha/siteverify-captcha.js';
import { passkeyPort, secondFactorPort } from './account/login-ports.js';
import { relyingParty } from './authn/webauthn.js';
import { accountSecurityRoutes } from './http/routes/account-security.js';
import { EXTERNAL_CAPTCHA } from './http/views/captcha-markup.js';
import { DEFAULT_FLOW_LIMITS } from './login/login-flow.js';
import type { Mailer } from './mail/templates/template-types.js';
import type { MailTransport } from './mail/message.js';
import { createOutboxMailer } from './mail/outbox-mailer.js';
import { createOutboxWorker, type OutboxWorker } from './mail/outbox-worker.js';
import { createSmtpTransport } from './mail/smtp-transport.js';
import { createDevTransport } from './mail/dev-transport.js';
import { devMailRoutes } from './http/routes/dev-mail.js';

export interface AppOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
}

export interface App {
  config: Config;
  server: FastifyInstance;
  store: Store;
  provider: Provider;
  hasher: PasswordHasher;
  clock: Clock;
  logger: Logger;
  mailer: Mailer;
  /** Delivers webhook deliveries; `serve` starts it after listening, tests call runOnce(). */
  webhookWorker: WebhookWorker;
  /** Delivers the outbox; `serve` starts it after listening, tests call runOnce(). */
  mailWorker: OutboxWorker;
  createSetupLink(): Promise<string | null>;
  metrics: Metrics;
  /** Picks up signing keys rotated on any node (polled; tests call refresh()). */
  keys: KeyReloader;
  /** The console's and API's use-cases (tests drive them directly too). */
  admin: AdminService;
  /** Runtime attack-protection settings (tests call refresh() instead of waiting for the poll). */
  settings: RuntimeSettings;
  /** Ends sessions past their limits and sends back-channel logouts for every ended session; `serve` runs it every 15 s. */
  runSessionSweep(): Promise<SweepResult>;
  /** Periodic jobs (the daily breached-password summary); `serve` runs them hourly, and each sends at most once a day. */
  runPeriodicJobs(): Promise<void>;
  close(): Promise<void>;
}

/** The store, plus the Redis connection behind its counters when configured (for /healthz). */
export type OpenedStore = Store & { redis?: RedisProtection };

/** Opens the store (migrating it) and derives keys; shared by the server and the CLI. */
export async function openStore(config: Config, onWarning?: (message: string) => void): Promise<OpenedStore> {
  const store = createSqlStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sealKey: deriveKey(config.secret, 'seal-signing-keys'), onWarning });
  await store.migrate();
  if (!config.redisUrl) return store;
  // With Redis, the hot counters (brute-force slots, token buckets, once-keys) move there; records stay in SQL.
  const redis = createRedisProtection(config.redisUrl);
  return {
    ...store,
    attempts: redis.attempts,
    buckets: redis.buckets,
    once: redis.once,
    redis,
    async close() {
      await redis.close();
      await store.close();
    },
  };
}

/** The outbox mailer: the server and the CLI enqueue the same way; the server's worker delivers. */
export function createMailer(config: Config, store: Store, clock: Clock): Mailer {
  const branding = { productName: config.productName, logoUrl: config.logoUrl || null, supportContact: config.supportContact || null, publicUrl: config.publicUrl };
  return createOutboxMailer({ outbox: store.outbox, sealKey: deriveKey(config.secret, 'seal-mail'), branding, clock });
}

export function createHasher(config: Config, observer: PasswordHasherObserver = {}): PasswordHasher {
  return createPasswordHasher(config.argon2, observer);
}

export async function createApp(options: AppOptions): Promise<App> {
  const opened = await openStore(options.config, (message) => (options.logger ?? createLogger(options.config.logLevel)).warn(message));
  try {
    return await assembleApp(options, opened);
  } catch (error) {
    // A failed start must release the database and Redis connections, or the process would hang instead of exiting.
    await opened.close().catch(() => undefined);
    throw error;
  }
}

async function assembleApp(options: AppOptions, opened: OpenedStore): Promise<App> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({
    outboxDepth: () => opened.outbox.countByStatus(),
    webhookDepth: () => opened.webhooks.countPending(),
    onCollectError: (source, error) => logger.warn({ err: error, source }, 'metrics: queue depth unavailable'),
  });
  // Every appended security event is also seen by the observers (metrics; webhooks once wired).
  const eventObservers: EventObserver[] = [(event) => metrics.onEvent(event)];
  // Refused logins are remembered for 2 s; whatever lifts a block or a throttle through this node forgets them at once.
  const refusals = createRefusalMemo({ maxAgeMs: 2_000, maxEntries: 20_000, onRefused: (reason) => metrics.onRefusedFromMemory(reason) });
  const store: Store = {
    ...opened,
    events: observeEvents(opened.events, eventObservers, (error, event) => logger.error({ err: error, code: event.code }, 'event observer failed')),
    ...forgettingRefusals(opened, refusals),
  };
  // Every security event (several per login) consults the webhook list; a 2 s cache keeps that off the login path.
  const webhookDispatcher = createWebhookDispatcher({ store: opened, clock, logger, listCacheMs: 2_000 });
  eventObservers.push((event) => webhookDispatcher.onEvent(event));
  const webhookWorker = createWebhookWorker({
    store: opened,
    clock,
    logger,
    sealKey: webhookSealKey(config.secret),
    maxAttempts: config.webhooks.maxAttempts,
    retryBaseDelayMs: config.webhooks.retryBaseDelay,
    pollIntervalMs: config.webhooks.pollInterval,
    timeoutMs: config.webhooks.timeout,
  });
  const hasher = createHasher(config, { onVerify: (seconds) => metrics.observeVerify(seconds) });
  const keys = await ensureSigningKeys(store.signingKeys, clock.now(), initialKeyId(config.secret, clock.now()));
  const demoEnabled = config.demo && !config.isProduction;
  if (demoEnabled) {
    await store.clients.upsert({ clientId: DEMO_CLIENT_ID, metadata: demoClientMetadata(config.publicUrl), firstParty: true, createdAt: clock.now() });
    await store.clients.upsert({ clientId: EXAMPLE_APP_CLIENT_ID, metadata: exampleAppClientMetadata(), firstParty: true, createdAt: clock.now() });
  }
  const limits = { idleMs: config.sessionIdleTimeout, absoluteMs: config.sessionAbsoluteTimeout, touchEveryMs: 60_000 };
  const sessions = createSessionService(store.sessions, clock, limits, async (userId, knownOrgId) => {
    const orgId = knownOrgId !== undefined ? knownOrgId : (await store.users.findById(userId))?.orgId;
    return orgId ? store.orgs.findById(orgId) : null;
  });
  const links = createSessionLinks(store.oidc);
  // Loaded lazily so CLI commands that only need the store do not load oidc-provider (and its Node 20 warning).
  const [{ createProvider }, { createSessionBridge }] = await Promise.all([import('./oidc/provider.js'), import('./oidc/session-bridge.js')]);
  const provider = createProvider({
    config,
    store,
    clock,
    keys,
    cookieKeys: [hmac(deriveKey(config.secret, 'oidc-cookies'), 'v1')],
    pages: providerPages(config.productName),
    bridge: createSessionBridge({ sessions, links, clock, logger, cookieName: SESSION_COOKIE }),
  });
  const keyReloader = await createKeyReloader(provider, { keys: store.signingKeys, logger, pollIntervalMs: config.ipLists.pollInterval, initialKids: keys.map((k) => k.kid) });
  const appLogout = createAppLogout(provider, { links, models: store.oidc, clock, logger });
  const csrf = createCsrf(deriveKey(config.secret, 'csrf'), config.cookieSecure);
  logoutHook(provider, { sessions, store, clock, logger, issuer: config.issuer, productName: config.productName });
  provider.on('server_error', (_ctx, error) => logger.error({ err: error }, 'oidc-provider server error'));
  const mailSealKey = deriveKey(config.secret, 'seal-mail');
  const mailer = createMailer(config, store, clock);
  const transport: MailTransport = config.smtpUrl
    ? createSmtpTransport(config.smtpUrl)
    : createDevTransport(store.devMailbox, clock, (line) => logger.info({ devMail: true }, line), config.publicUrl);
  const mailWorker = createOutboxWorker({
    outbox: store.outbox,
    transport,
    sealKey: mailSealKey,
    clock,
    logger,
    from: config.mailFrom,
    maxAttempts: config.mail.maxAttempts,
    retryBaseDelayMs: config.mail.retryBaseDelay,
    pollIntervalMs: config.mail.pollInterval,
  });
  const breachChecker = createBreachChecker(breachCheckerOptions(config));
  // A damaged index must not lock everyone out: the failure is logged and the password is not treated as breached.
  const breach = {
    async check(password: string): Promise<{ breached: boolean; source: string }> {
      try {
        return await breachChecker.check(password);
      } catch (error) {
        logger.error({ err: error }, 'breached-password check failed; treating the password as not breached');
        return { breached: false, source: 'error' };
      }
    },
  };
  const geo = lazyGeoLocator({ dbPath: config.geoipDb || undefined });
  // The operator's file is updated in place (monthly GeoLite2 releases): loaded without a restart.
  const stopGeoPoll = pollGeoData(geo, config.geoipDb ? config.geoipPollInterval : 0, {
    reloaded: (source) => logger.info({ paths: source.paths, builtAt: source.builtAt }, 'geolocation data reloaded'),
    failed: (error) => logger.warn({ err: error }, 'geolocation data not reloaded; the data in use stays'),
  });
  const describeLocation = async (ip: string | null): Promise<string> => {
    if (!ip) return 'Unknown location';
    try {
      return describeIpLocation(await geo.get(), ip);
    } catch (error) {
      logger.warn({ err: error }, 'geolocation unavailable');
      return 'Unknown location';
    }
  };
  const adminDeps = { store, hasher, clock, breach };
  const account: AccountDeps = {
    describeLocation,
    breach,
    store,
    hasher,
    clock,
    mailer,
    publicUrl: config.publicUrl,
    verifyEmailTtlMs: config.links.verifyEmailTtl,
    resetPasswordTtlMs: config.links.resetPasswordTtl,
  };
  // Attack-protection settings can change at runtime (console, API); every reader below goes through live() per use.
  const runtime = await openRuntimeSettings({ config, store: store.settings, clock, pollIntervalMs: config.ipLists.pollInterval, onWarning: (m) => logger.warn(m) });
  const live = () => runtime.current();
  const notices = protectionNotices(account, {
    get emailIntervalMs() { return live().bruteForce.emailInterval; },
    get unblockLinkTtlMs() { return live().bruteForce.unblockLinkTtl; },
    get loginLinkTtlMs() { return live().bruteForce.loginLinkTtl; },
    get alertEmail() { return live().throttle.alertEmail; },
    get alertIntervalMs() { return live().throttle.alertInterval; },
    get throttleCapacity() { return live().throttle.failedLoginsPerDay; },
    get threshold() { return live().bruteForce.threshold; },
  });
  const protection: ProtectionDeps = {
    attempts: store.attempts,
    buckets: store.buckets,
    allowlist: parseAllowlist(config.ipAllowlist),
    get bruteForce() {
      const b = live().bruteForce;
      return { threshold: b.threshold, blockDurationMs: b.blockDuration, accountLockout: b.accountLockout, accountLockoutThreshold: b.accountLockoutThreshold };
    },
    get throttle() {
      return { capacity: live().throttle.failedLoginsPerDay, refillMs: live().throttle.refillEvery };
    },
    refusals,
    onBlockStarted: notices.onBlockStarted,
    onThrottled: notices.onThrottled,
  };
  const captchaStore = createCaptchaStore(store.oidc);
  const image = createImageCaptcha({ store: captchaStore, key: deriveKey(config.secret, 'captcha-image'), testHooks: config.nodeEnv === 'test' });
  const pow = createPowCaptcha({ store: captchaStore, key: deriveKey(config.secret, 'captcha-pow') });
  const external =
    config.bot.provider === 'turnstile' || config.bot.provider === 'hcaptcha' || config.bot.provider === 'recaptcha'
      ? createSiteverifyCaptcha({
          provider: config.bot.provider,
          siteKey: config.bot.siteKey,
          secret: config.bot.secretKey,
          verifyUrl: config.bot.verifyUrl || undefined,
          failMode: config.bot.failMode,
          bindingKey: deriveKey(config.secret, 'turnstile-cdata'),
        })
      : null;
  const reputation = await openIpReputation({ store: store.ipLists, files: config.ipLists.files, pollIntervalMs: config.ipLists.pollInterval, onWarning: (m) => logger.warn(m) });
  const bot = createBotGuard({
    counters: store.counters,
    once: store.once,
    reputation,
    proofKey: deriveKey(config.secret, 'browser-proof'),
    get thresholds() { return botThresholds(live().bot.sensitivity); },
    modes: {
      get login() { return live().bot.loginMode; },
      get signup() { return live().bot.signupMode; },
      get reset() { return live().bot.resetMode; },
    },
    get monitorOnly() { return live().bot.monitorOnly; },
    primary: external ?? (config.bot.provider === 'pow' ? pow : image),
    alternative: external || config.bot.provider === 'pow' ? null : pow,
  });
  const riskSettings = {
    get notifyAdmins() { return live().risk.notifyAdmins; },
    get adminAlertIntervalMs() { return live().risk.adminAlertInterval; },
    // The new-device email belongs to risk assessment: off with it.
    get notifyNewDevice() { return live().risk.enabled && live().risk.notifyNewDevice; },
    get emailCodeTtlMs() { return live().risk.emailCodeTtl; },
    codeKey: deriveKey(config.secret, 'step-up-code'),
  };
  // Devices and places are recorded even while assessment is off, so switching it on finds a baseline.
  const risk: RiskGuard = createRiskGuard({
    devices: store.devices,
    history: store.loginHistory,
    locate: async (ip) => (await geo.get()).locate(ip),
    reputation,
    deviceKey: deriveKey(config.secret, 'device-cookie'),
    settings: {
      get rules() { return live().risk.rules; },
      get rememberDevicesForMs() { return live().risk.rememberDevicesFor; },
      get maxTravelSpeedKmh() { return live().risk.maxTravelSpeedKmh; },
      get historyWindowMs() { return live().risk.historyWindow; },
    },
  });
  const sessionCookie = { secure: config.cookieSecure, maxAgeSeconds: Math.floor(config.sessionAbsoluteTimeout / 1000) };
  const login: PasswordLoginDeps = {
    attempt: { users: store.users, events: store.events, hasher, clock, protection, breach: { ...breach, get blockLogin() { return live().breach.actions.block; } }, bot,
      risk: { guard: risk, enabled: () => live().risk.enabled, onRisky: (args) => alertAdmins(account, riskSettings, args).then(() => undefined) } },
    sessions,
    account,
    sessionCookie,
    breachNotices: {
      get notifyUser() { return live().breach.actions.notifyUser; },
      get notifyAdmins() { return live().breach.actions.notifyAdmins; },
      emailIntervalMs: 3_600_000,
    },
  };
  const pages = { csrf, productName: config.productName };
  const admin = createAdminService({
    store,
    hasher,
    clock,
    mailer,
    publicUrl: config.publicUrl,
    breach,
    settings: runtime,
    sessionLimits: limits,
    get deviceRememberMs() { return live().risk.rememberDevicesFor; },
    describeLocation,
    notifySessionEnded: (id) => appLogout.sessionEnded(id),
  });
  const flows = createFlowRepository(store.oidc);
  const rp = relyingParty(config.publicUrl, config.productName);
  const steps: LoginStepDeps = {
    store,
    clock,
    csrf,
    flows,
    login,
    secondFactor: secondFactorPort(account),
    passkeys: config.passkeys.enabled ? passkeyPort(account, rp, { offer: config.passkeys.offerAfterPasswordLogin, snoozeMs: config.passkeys.offerSnooze }) : null,
    stepUp: stepUpPort(account, riskSettings),
    recorder: loginRecorder(account, risk, riskSettings),
    productName: config.productName,
    flowTtlMs: config.tokens.interactionTtl,
    flowLimits: DEFAULT_FLOW_LIMITS,
    signupEnabled: config.signupEnabled,
  };
  const plugins = [
    assetRoutes,
    healthRoutes(store, opened.redis ?? null),
    sessionStatusRoutes({ sessions, clients: store.clients, clock, publicUrl: config.publicUrl }),
    homeRoutes({ productName: config.productName, demoEnabled, issuer: config.issuer }),
    interactionRoutes({
      provider,
      store,
      clock,
      csrf,
      sessions,
      flows,
      productName: config.productName,
      steps,
    }),
    signupRoutes({ ...pages, account, signupEnabled: config.signupEnabled, signupPerIpPerMinute: config.signupPerIpPerMinute, bot }),
    passwordRoutes({ ...pages, account, resetPerIpPerMinute: config.signupPerIpPerMinute, bot }),
    protectionLinkRoutes({ ...pages, account, sessions, get loginLinkTtlMs() { return live().bruteForce.loginLinkTtl; }, sessionCookie, steps, secureCookies: config.cookieSecure }),
    accountRoutes({
      ...pages,
      account,
      sessions,
      steps,
      secureCookies: config.cookieSecure,
      passkeysEnabled: config.passkeys.enabled,
      // Read per page: the remember window can change at runtime.
      get deviceRememberMs() { return live().risk.rememberDevicesFor; },
      frontChannelFor: async (sessionId) => frontChannelUrls(provider, config.issuer, await appLogout.appsOf(sessionId)),
      deviceHashOf: (request) => {
        const token = readDeviceToken(request);
        return token ? risk.deviceHash(token) : null;
      },
    }),
    accountSecurityRoutes({ ...pages, account, sessions, rp, passkeysEnabled: config.passkeys.enabled }),
    setupRoutes({ ...adminDeps, csrf, productName: config.productName }),
    ...(config.metrics.enabled ? [metricsRoutes({ metrics, token: config.metrics.token })] : []),
    apiRoutes({ admin, authenticate: (token) => principalForToken(provider, token), clock, issuer: config.issuer, publicUrl: config.publicUrl }),
    adminConsoleRoutes({ admin, sessions, users: store.users, csrf, clock, productName: config.productName, webhooks: { list: () => listWebhooks({ store }), deliveries: (o) => listDeliveries({ store }, o) } }),
    ...(config.isProduction ? [] : [devMailRoutes({ devMailbox: store.devMailbox, outbox: store.outbox, productName: config.productName })]),
    ...(demoEnabled ? [demoRoutes({ issuer: config.issuer, publicUrl: config.publicUrl, productName: config.productName, secureCookie: config.cookieSecure })] : []),
  ];
  const server = await buildServer({ logger, trustProxy: parseTrustProxy(config.trustProxy), productName: config.productName, secureCookies: config.cookieSecure, publicUrl: config.publicUrl, provider, plugins,
    httpObserver: config.metrics.enabled ? metrics.httpObserver : undefined,
    captchaOrigins: config.bot.provider in EXTERNAL_CAPTCHA ? EXTERNAL_CAPTCHA[config.bot.provider as keyof typeof EXTERNAL_CAPTCHA].origins : [],
  });
  if (config.metrics.enabled) installHttpMetrics(server, metrics);
  return {
    config,
    server,
    metrics,
    keys: keyReloader,
    store,
    provider,
    hasher,
    clock,
    logger,
    mailer,
    mailWorker,
    webhookWorker,
    createSetupLink: () => createSetupLinkIfNeeded(store, clock, config.setupLinkTtl),
    admin,
    settings: runtime,
    runSessionSweep: () => sweepSessions({ sessions: store.sessions, events: store.events, clock, limits, notifyApps: (id) => appLogout.sessionEnded(id) }),
    async runPeriodicJobs() {
      if (live().breach.actions.notifyAdmins === 'daily') await sendBreachDigests(account, clock.now());
      await risk.prune(clock.now());
      // Expired OIDC records (codes, tokens, interactions, login flows, CAPTCHA solutions) are never read again.
      await store.oidc.deleteExpired(clock.now());
    },
    async close() {
      await server.close();
      await mailWorker.stop();
      await webhookWorker.stop();
      stopGeoPoll();
      await geo.close();
      reputation.close();
      runtime.close();
      keyReloader.close();
      breachChecker.close();
      await transport.close();
      await store.close();
    },
  };
}
