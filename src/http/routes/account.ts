// The account page (/account) and its own sign-in (/login, /logout). Every form is CSRF-protected and requires a live session.
import { describeFamily } from '../../protection/risk/device-family.js';
import { formatUtc } from '../../domain/format-time.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPortcullisError, PortcullisError } from '../../domain/errors.js';
import { EVENT_CODES } from '../../events/event-codes.js';
import type { AccountDeps } from '../../account/account-deps.js';
import { changePassword, logoutEverywhere, requestEmailChange, revokeOwnSession, updateProfile } from '../../account/account-changes.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { Csrf } from '../csrf.js';
import { formField, UID_PATTERN } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import { clearSessionCookie, currentUser, safeNextPath, SESSION_COOKIE, type SignedIn } from '../auth-session.js';
import { loginStepRoutes, type LoginStepDeps, type LoginSurface, type Transaction } from '../login/login-steps.js';
import { startFlow, transition } from '../../login/login-flow.js';
import { randomId } from '../../crypto/tokens.js';
import { listPasskeys } from '../../account/passkeys.js';
import { forgetAllDevices, forgetDevice, listKnownDevices } from '../../account/devices.js';
import { describeDevice } from '../describe-device.js';
import { accountPage } from '../views/account-pages.js';
import { messagePage, sessionEndedPage, signedOutPage } from '../views/pages.js';
import { allowFrames } from '../../oidc/front-channel.js';
import { sendHtml } from './signup.js';

export interface AccountRouteDeps {
  account: AccountDeps;
  sessions: SessionService;
  csrf: Csrf;
  productName: string;
  secureCookies: boolean;
  steps: LoginStepDeps;
  passkeysEnabled: boolean;
  /** Front-channel logout iframe URLs of the apps signed in through a session (Front-Channel Logout 1.0). */
  frontChannelFor?: (sessionId: string) => Promise<string[]>;
  /** How long a device stays known after its last sign-in; the account page lists the devices within it. Defaults to 30 days. */
  deviceRememberMs?: number;
  /** The device-cookie hash of this request's browser, to mark "This device"; null (the default) when it has none. */
  deviceHashOf?: (request: FastifyRequest) => string | null;
}

export const DEFAULT_DEVICE_REMEMBER_MS = 30 * 24 * 3600 * 1000;

const LOGIN_COOKIE = 'portcullis_login';
const transactionKey = (cookie: string): string => `account:${cookie}`;

function setLoginCookie(reply: FastifyReply, deps: Pick<AccountRouteDeps, 'steps' | 'secureCookies'>, key: string): void {
  reply.setCookie(LOGIN_COOKIE, key, { path: '/login', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: Math.floor(deps.steps.flowTtlMs / 1000) });
}

/**
 * Starts an account-page sign-in whose first factor was a one-time login link, at the second-factor step, and returns
 * the page to go to. The code check and the rest of the sign-in then run as after a password.
 */
export async function continueLoginAtSecondFactor(reply: FastifyReply, deps: Pick<AccountRouteDeps, 'steps' | 'secureCookies'>, userId: string): Promise<string> {
  const key = randomId();
  const now = deps.steps.clock.now();
  // amr `email`: the link proved control of the mailbox (as on the link path without a second factor).
  const started = transition(startFlow(now, deps.steps.flowTtlMs), 'login_link_used', now, { accountId: userId, amr: ['email'] }, deps.steps.flowLimits);
  if (!started.ok) throw new Error(`a new login flow refused login_link_used: ${started.reason}`);
  await deps.steps.flows.save(transactionKey(key), started.flow);
  setLoginCookie(reply, deps, key);
  return '/login';
}

/** Whether a stored sign-in can go no further: aborted, completed, or past its second-factor deadline. */
async function hasEnded(deps: Pick<AccountRouteDeps, 'steps'>, key: string): Promise<boolean> {
  const now = deps.steps.clock.now();
  const flow = await deps.steps.flows.load(key, now, deps.steps.flowTtlMs);
  if (flow.state === 'aborted' || flow.state === 'completed') return true;
  return flow.state === 'second_factor' && flow.stepDeadline !== null && now > flow.stepDeadline;
}

/** The account page's own sign-in: the transaction lives in a short-lived cookie, and success goes to `next`. */
function accountSurface(deps: AccountRouteDeps): LoginSurface {
  const withNext = (path: string, next: string) => (next === '/account' ? path : `${path}?next=${encodeURIComponent(next)}`);
  const paths = {
    page: '/login',
    password: '/login',
    secondFactor: '/login/mfa',
    offerDecline: '/login/passkey-offer/decline',
    offerOptions: '/login/passkey-offer/options',
    offerVerify: '/login/passkey-offer/verify',
    passkeyOptions: '/login/passkey/options',
    passkeyVerify: '/login/passkey/verify',
  };
  const nextOf = (tx: Transaction) => tx.clientId ?? '/account';
  return {
    paths,
    // Most sign-ins go back to the account page itself: their URLs are the plain paths, built once.
    urls: (tx) => (nextOf(tx) === '/account' ? paths : (Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, withNext(v, nextOf(tx))])) as LoginSurface['paths'])),
    csrfScope: () => 'login',
    async open(request, reply) {
      let key = request.cookies[LOGIN_COOKIE];
      const reopening = request.method === 'GET' && request.routeOptions.url === paths.page;
      let fresh = false;
      if (!key || !/^[A-Za-z0-9_-]{22}$/.test(key) || (reopening && (await hasEnded(deps, transactionKey(key))))) {
        // Unlike an OIDC interaction, which the app restarts, this page is where the user starts again: once a
        // transaction has ended (too many wrong codes, the hourly cap, the code deadline), the page opens a new one.
        key = randomId();
        fresh = true;
        setLoginCookie(reply, deps, key);
      }
      // The account surface has no OIDC client; `clientId` carries the local destination instead.
      return { key: transactionKey(key), clientName: 'your account', clientId: safeNextPath((request.query as { next?: unknown }).next), fresh };
    },
    async complete(_request, reply, _tx, _userId, _amr) {
      reply.clearCookie(LOGIN_COOKIE, { path: '/login' });
      return nextOf(_tx);
    },
  };
}

const NOTICES: Record<string, string> = {
  profile: 'Your name is saved.',
  password: 'Your password is changed. Your other sessions were signed out.',
  email: 'If that address can be used, we sent it a confirmation link. Your email changes once you open it.',
  session: 'That session is signed out.',
  passkey: 'Your new passkey is ready. Next time, choose "Continue with passkey".',
  passkey_removed: 'The passkey was deleted.',
  passkey_renamed: 'The passkey was renamed.',
  device_forgotten: 'The device is forgotten. Your next sign-in from it counts as a new device.',
  devices_forgotten: 'All your devices are forgotten. Your next sign-in from each counts as a new device.',
};

const UNKNOWN_DEVICE = 'That device is not in your list of devices. It may have been forgotten already.';



export function accountRoutes(deps: AccountRouteDeps) {
  const { account, csrf, productName } = deps;
  const deviceHashOf = deps.deviceHashOf ?? (() => null);
  const context = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });

  async function render(request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn, status = 200, message: { notice?: string; error?: string } = {}) {
    const { user, session } = signedIn;
    const org = user.orgId ? await account.store.orgs.findById(user.orgId) : null;
    const sessions = await account.store.sessions.listActiveForUser(user.id);
    const events = await account.store.events.list({ userId: user.id, limit: 20 });
    const passkeys = deps.passkeysEnabled ? await listPasskeys(account, user) : null;
    const totp = await account.store.mfa.getTotp(user.id);
    const devices = await listKnownDevices(account, user.id, deps.deviceRememberMs ?? DEFAULT_DEVICE_REMEMBER_MS);
    const currentDeviceHash = deviceHashOf(request);
    return sendHtml(
      reply,
      status,
      accountPage({
        productName,
        csrfToken: csrf.issue(request, reply, 'account'),
        notice: message.notice ?? null,
        error: message.error ?? null,
        user: { email: user.email, name: user.name, emailVerified: user.emailVerified, org: org?.name ?? null, role: user.role },
        sessions: await Promise.all(sessions.map(async (s) => ({
          id: s.id,
          device: describeDevice(s.userAgent),
          ip: s.ip ?? 'unknown',
          location: await account.describeLocation(s.ip),
          lastSeen: formatUtc(s.lastSeenAt),
          created: formatUtc(s.createdAt),
          current: s.id === session.id,
        }))),
        events: await Promise.all(
          events.map(async (e) => ({
            at: formatUtc(e.at),
            description: EVENT_CODES[e.code]?.description ?? e.code,
            ip: e.ip ?? '',
            location: e.ip ? await account.describeLocation(e.ip) : '',
            outcome: e.outcome,
          })),
        ),
        passkeys: passkeys?.map((p) => ({ id: p.credentialId, name: p.name, created: formatUtc(p.createdAt), lastUsed: p.lastUsedAt ? formatUtc(p.lastUsedAt) : 'never', synced: p.synced })) ?? null,
        twoFactor: { enrolled: Boolean(totp?.confirmedAt), recoveryCodesLeft: await account.store.mfa.countRecoveryCodes(user.id) },
        devices: devices.map((d) => ({
          id: d.id,
          name: describeFamily(d),
          lastSeen: formatUtc(d.lastSeenAt),
          ip: d.lastIp ?? 'unknown',
          location: d.lastLocation ?? 'Unknown location',
          current: currentDeviceHash !== null && d.deviceHash === currentDeviceHash,
        })),
      }),
    );
  }

  /** Runs a form action for the signed-in user; input errors re-render the page with the message. */
  function action(scope: string, run: (request: FastifyRequest, signedIn: SignedIn) => Promise<string>) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const signedIn = await currentUser(request, deps.sessions, account.store.users);
      if (!signedIn) return reply.redirect('/login?next=/account', 303);
      csrf.verify(request, scope);
      try {
        const notice = await run(request, signedIn);
        return reply.redirect(`/account?done=${notice}`, 303);
      } catch (error) {
        if (isPortcullisError(error) && error.status < 500 && error.code !== 'csrf_failed') return render(request, reply, signedIn, error.status, { error: error.publicMessage });
        throw error;
      }
    };
  }

  return async (app: FastifyInstance): Promise<void> => {
    await app.register(loginStepRoutes(accountSurface(deps), deps.steps));

    app.post('/logout', async (request, reply) => {
      csrf.verify(request, 'account');
      const open = await deps.sessions.peek(request.cookies[SESSION_COOKIE]);
      // Front-channel logout pages of the session's apps, read before the session (and its app links) end.
      const frames = open && deps.frontChannelFor ? await deps.frontChannelFor(open.session.id) : [];
      const session = await deps.sessions.revokeToken(request.cookies[SESSION_COOKIE]);
      if (session) await account.store.events.append({ code: 'logout', outcome: 'success', userId: session.userId, ip: normaliseIp(request.ip) }, account.clock.now());
      clearSessionCookie(reply, deps.secureCookies);
      if (frames.length > 0) reply.header('content-security-policy', allowFrames(String(reply.getHeader('content-security-policy') ?? reply.raw.getHeader('content-security-policy') ?? ''), frames));
      return sendHtml(reply, 200, signedOutPage({ productName, frames, message: 'You have signed out of your account.', continueTo: { href: '/login', label: 'Sign in again' } }));
    });

    // The session SDK's logout-url: a GET never ends anything, so a still-open session gets a sign-out button instead.
    app.get('/session/ended', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
      const found = await deps.sessions.peek(request.cookies[SESSION_COOKIE]);
      const stillActive = found !== null && found.state.active;
      if (!stillActive && request.cookies[SESSION_COOKIE]) clearSessionCookie(reply, deps.secureCookies);
      let next = '/login?next=/account';
      try {
        const url = new URL(String(request.query.next ?? ''), account.publicUrl);
        if (url.origin === new URL(account.publicUrl).origin) next = safeNextPath(`${url.pathname}${url.search}`);
      } catch {
        // An unusable next falls back to the account sign-in.
      }
      const csrfToken = stillActive ? csrf.issue(request, reply, 'account') : null;
      return sendHtml(reply, 200, sessionEndedPage({ productName, stillActive, csrfToken, loginHref: next }));
    });

    app.get('/account', async (request: FastifyRequest<{ Querystring: { done?: string } }>, reply) => {
      const signedIn = await currentUser(request, deps.sessions, account.store.users);
      if (!signedIn) return reply.redirect('/login?next=/account', 303);
      return render(request, reply, signedIn, 200, { notice: NOTICES[String(request.query.done ?? '')] });
    });

    app.post(
      '/account/profile',
      action('account', async (request, { user }) => {
        await updateProfile(account, user, formField(request.body, 'name', { max: 100, required: false, label: 'Name' }));
        return 'profile';
      }),
    );

    app.post(
      '/account/password',
      action('account', async (request, { user, session }) => {
        const current = formField(request.body, 'current', { max: 1024, label: 'Current password' });
        const next = formField(request.body, 'password', { max: 1024, label: 'New password' });
        await changePassword(account, user, session.id, current, next, context(request));
        return 'password';
      }),
    );

    app.post(
      '/account/email',
      action('account', async (request, { user }) => {
        const email = formField(request.body, 'email', { max: 320, label: 'New email' });
        const current = formField(request.body, 'current', { max: 1024, label: 'Current password' });
        await requestEmailChange(account, user, email, current, context(request));
        return 'email';
      }),
    );

    app.post(
      '/account/sessions/revoke-all',
      async (request, reply) => {
        const signedIn = await currentUser(request, deps.sessions, account.store.users);
        if (!signedIn) return reply.redirect('/login?next=/account', 303);
        csrf.verify(request, 'account');
        await logoutEverywhere(account, signedIn.user, context(request));
        clearSessionCookie(reply, deps.secureCookies);
        return sendHtml(reply, 200, messagePage(productName, 'Signed out everywhere', 'Every session and every app sign-in of your account has ended.', { href: '/login', label: 'Sign in again' }));
      },
    );

    app.post(
      '/account/sessions/:id/revoke',
      action('account', async (request, { user }) => {
        const id = (request.params as { id: string }).id;
        if (UID_PATTERN.test(id)) await revokeOwnSession(account, user, id, context(request));
        return 'session';
      }),
    );

    app.post(
      '/account/devices/forget-all',
      action('account', async (request, { user }) => {
        await forgetAllDevices(account, user.id, context(request));
        return 'devices_forgotten';
      }),
    );

    app.post(
      '/account/devices/:id/forget',
      action('account', async (request, { user }) => {
        const id = (request.params as { id: string }).id;
        // A malformed id, another user's device and an already forgotten one all read the same.
        const forgotten = UID_PATTERN.test(id) && (await forgetDevice(account, user.id, id, context(request)));
        if (!forgotten) throw new PortcullisError('not_found', { message: UNKNOWN_DEVICE });
        return 'device_forgotten';
      }),
    );
  };
}
