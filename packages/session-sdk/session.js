// @ts-check
/**
 * @portcullis/session-sdk: warns users before their Portcullis session ends.
 *
 * One hand-written, dependency-free ES module. `startSessionTimer(options)` runs the timer;
 * `<portcullis-session-timer>` (registered on import) runs it from HTML attributes.
 *
 * Time: every status response carries the server's clock (epoch seconds). We keep
 * offset = server clock - browser clock (taken at the middle of the round trip) and, on a
 * short tick, recompute everything from absolute times: remaining = expires_at - (now() + offset).
 * No long timer is ever chained, so sleep, throttled background tabs and clock skew do not drift.
 *
 * UI (in a shadow root): dismissible toasts at `notice-offsets`, a modal in the last
 * `final-countdown` that only its button closes, and at zero a navigation to `logout-url`.
 * Tabs share status updates, dismissals and logouts over BroadcastChannel('portcullis-session').
 * Texts are only ever set with textContent.
 */

const CHANNEL = 'portcullis-session';
const DISMISSED_KEY = 'portcullis-session:dismissed';
const SLOW_TICK = 15_000; // ms between ticks while the end is far away
const NEAR_END = 5 * 60_000; // tick every second when the end is closer than this
const POLL_EVERY = 5 * 60_000; // re-fetch the status at least this often
const FRESH_FOR = 10_000; // a status this recent needs no re-fetch before showing a new warning
const CONFIRM_WAIT = 1500; // ...but is shown anyway if that status takes longer than this
const FETCH_TIMEOUT = 15_000;
const MAX_BACKOFF = 60_000;
const ANNOUNCE_AT = [30, 10]; // seconds left at which the countdown is read out (opening the dialog reads the first)
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'scroll', 'touchstart'];

/** English defaults; every key can be replaced through `texts` or a `text-*` attribute. */
export const DEFAULT_TEXTS = Object.freeze({
  notice: 'Your session ends in {time}.',
  finalTitle: 'Your session is about to end',
  final: 'You will be signed out in {time}. Do you want to stay signed in?',
  finalAbsolute: 'You will be signed out in {time}. For your security, you need to sign in again.',
  stay: 'Stay signed in',
  relogin: 'Sign in again',
  dismiss: 'Dismiss',
  signedOut: 'You have been signed out.',
});

/**
 * "4h", "5m", "90s", "1h30m", "250ms"; a bare number in a string is seconds, a JS number is ms.
 * @param {unknown} value
 * @param {number} fallback
 * @returns {number}
 */
export function parseDuration(value, fallback) {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : fallback;
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  /** @type {Record<string, number>} */
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g, (_, n, unit) => {
    total += Number(n) * (units[unit] ?? 0);
    return '';
  });
  return rest.trim() === '' ? total : fallback;
}

/** @param {unknown} value @returns {number[]} distinct positive offsets in ms, largest first */
function parseOffsets(value) {
  const list = Array.isArray(value) ? value : String(value ?? '4h,5m').split(',');
  const ms = list.map((v) => parseDuration(typeof v === 'string' ? v.trim() : v, NaN)).filter((v) => v > 0);
  return [...new Set(ms)].sort((a, b) => b - a);
}

/**
 * The contract's JSON, with times turned into epoch milliseconds.
 * @param {any} body
 * @returns {import('./session.js').SessionStatus}
 */
function parseStatus(body) {
  const num = (/** @type {unknown} */ v) => typeof v === 'number' && Number.isFinite(v);
  if (!body || typeof body !== 'object' || typeof body.active !== 'boolean' || !num(body.server_time)) {
    throw new Error('portcullis-session: malformed status');
  }
  const serverTime = body.server_time * 1000;
  if (!body.active) return { active: false, serverTime, reason: typeof body.reason === 'string' ? body.reason : 'none' };
  if (!num(body.expires_at)) throw new Error('portcullis-session: status without expires_at');
  const expiresAt = body.expires_at * 1000;
  const idleExpiresAt = num(body.idle_expires_at) ? body.idle_expires_at * 1000 : expiresAt;
  const absoluteExpiresAt = num(body.absolute_expires_at) ? body.absolute_expires_at * 1000 : expiresAt;
  const endsBy = body.ends_by === 'idle' || body.ends_by === 'absolute' ? body.ends_by : absoluteExpiresAt <= idleExpiresAt ? 'absolute' : 'idle';
  return { active: true, serverTime, expiresAt, idleExpiresAt, absoluteExpiresAt, endsBy };
}

/**
 * "4 hours", "3 hours, 59 minutes", "5 minutes", "30 seconds", in the given locale.
 * @param {number} ms
 * @param {string | undefined} locale
 */
export function formatDuration(ms, locale) {
  const unit = (/** @type {number} */ n, /** @type {string} */ u) => {
    try {
      return new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'long' }).format(n);
    } catch {
      return `${n} ${u}${n === 1 ? '' : 's'}`;
    }
  };
  if (ms <= 60_000) return unit(Math.max(0, Math.ceil(ms / 1000)), 'second');
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return unit(minutes, 'minute');
  const parts = [unit(Math.floor(minutes / 60), 'hour')];
  if (minutes % 60) parts.push(unit(minutes % 60, 'minute'));
  try {
    return new Intl.ListFormat(locale, { style: 'narrow', type: 'unit' }).format(parts);
  } catch {
    return parts.join(' ');
  }
}

/** @param {string} template @param {string} time */
const fill = (template, time) => template.split('{time}').join(time);

/**
 * Starts watching the session. Never rejects or throws after it returns.
 * @param {import('./session.js').SessionTimerOptions} options
 * @returns {import('./session.js').SessionTimerController}
 */
export function startSessionTimer(options) {
  const issuer = options.issuer ? options.issuer.replace(/\/+$/, '') : '';
  const statusUrl = options.statusUrl || (issuer && `${issuer}/session/status`);
  if (!statusUrl) throw new TypeError('portcullis-session: set issuer or statusUrl');
  const now = options.now ?? (() => Date.now());
  const doFetch = options.fetch ?? ((/** @type {RequestInfo} */ i, /** @type {RequestInit} */ init) => fetch(i, init));
  const offsets = parseOffsets(options.noticeOffsets);
  const finalMs = parseDuration(options.finalCountdown, 60_000);
  const throttleMs = parseDuration(options.activityThrottle, 60_000);
  const texts = { ...DEFAULT_TEXTS, ...(options.texts ?? {}) };
  const host = options.element ?? document.body.appendChild(document.createElement('div'));
  const ownsHost = !options.element;
  const locale = options.locale || host.closest('[lang]')?.getAttribute('lang') || undefined;
  const format = options.formatTime ?? ((/** @type {number} */ ms) => formatDuration(ms, locale));

  /** @type {import('./session.js').SessionStatus | null} */ let status = null;
  let offset = 0;
  /** @type {number | null} */ let lastFetchAt = null;
  let failures = 0;
  let retryAt = 0;
  /** @type {Promise<boolean> | null} */ let inflight = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ let timer;
  /** @type {number | null} */ let lastActivityAt = null;
  /** @type {number | null} */ let confirmSince = null; // when a new warning started waiting for a fresh status
  let rendered = { rank: 0, key: 'none' };
  let announced = new Set();
  let stopped = false;
  let ended = false;
  const seenAbove = new Set(); // notice offsets that the remaining time was seen above: crossing one is news
  const dismissed = loadDismissed();
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
  const ui = buildUi(host, { onStay: () => void stayOrRelogin(), onDismiss: dismissNotice });

  /** @param {string} name @param {object} detail @param {boolean} [cancelable] */
  const emit = (name, detail, cancelable = false) =>
    host.dispatchEvent(new CustomEvent(`portcullis-session:${name}`, { detail, bubbles: true, composed: true, cancelable }));
  const post = (/** @type {object} */ message) => {
    try {
      channel?.postMessage(message);
    } catch {
      /* a closed channel: nothing to tell */
    }
  };

  /**
   * One status request; resolves to whether it worked, never rejects.
   * @param {'GET' | 'POST'} method
   */
  async function request(method) {
    const abort = new AbortController();
    const abortTimer = setTimeout(() => abort.abort(), FETCH_TIMEOUT);
    const sentAt = now();
    try {
      /** @type {RequestInit} */
      const init = { method, credentials: 'include', cache: 'no-store', signal: abort.signal, headers: { Accept: 'application/json' } };
      if (method === 'POST') init.headers = { Accept: 'application/json', 'X-Portcullis-Activity': '1' };
      const response = await doFetch(statusUrl, init);
      if (!response.ok) throw new Error(`portcullis-session: status answered ${response.status}`);
      const next = parseStatus(await response.json());
      const receivedAt = now();
      if (stopped) return false;
      offset = next.serverTime - (sentAt + receivedAt) / 2; // half the round trip each way
      lastFetchAt = receivedAt;
      failures = 0;
      retryAt = 0;
      post({ type: 'status', status: next, offset });
      adopt(next, true);
      return true;
    } catch {
      if (!stopped) {
        failures += 1;
        retryAt = now() + Math.min(MAX_BACKOFF, 2000 * 2 ** (failures - 1));
      }
      return false;
    } finally {
      clearTimeout(abortTimer);
    }
  }

  /** GET the status (one at a time), then re-evaluate. */
  function refresh() {
    if (stopped) return Promise.resolve(false);
    inflight ??= request('GET').finally(() => {
      inflight = null;
      tick();
    });
    return inflight;
  }

  /**
   * Takes a newer status (our own or another tab's); an older one is ignored.
   * @param {import('./session.js').SessionStatus} next
   * @param {boolean} own
   */
  function adopt(next, own) {
    if (ended) return;
    if (!next.active) return expire(next.reason, own);
    if (status?.active && (next.serverTime < status.serverTime || (next.serverTime === status.serverTime && next.expiresAt < status.expiresAt))) return;
    const previous = status;
    status = next;
    if (previous?.active && next.expiresAt > previous.expiresAt && rendered.rank > 0) {
      emit('extended', { expiresAt: next.expiresAt, previousExpiresAt: previous.expiresAt, endsBy: next.endsBy });
    }
    if (!own) tick();
  }

  /**
   * What should show at browser time t. Higher rank = more urgent.
   * @param {number} t
   * @returns {{ rank: number, key: string, phase: 'none' | 'notice' | 'final' | 'end', remaining: number, threshold: number }}
   */
  function view(t) {
    if (!status?.active) return { rank: 0, key: 'none', phase: 'none', remaining: Infinity, threshold: 0 };
    const serverNow = t + offset;
    const remaining = status.expiresAt - serverNow;
    const absoluteRemaining = status.absoluteExpiresAt - serverNow;
    if (remaining <= 0) return { rank: 1002, key: 'end', phase: 'end', remaining: 0, threshold: 0 };
    if (remaining <= finalMs) return { rank: 1001, key: `final@${status.expiresAt}`, phase: 'final', remaining, threshold: finalMs };
    // The smallest offset reached. The absolute end cannot be moved, so it counts as soon as it is
    // within reach; the idle end counts only when seen crossing (an idle limit shorter than the
    // offset would otherwise keep the notice up forever while the user works).
    for (let i = offsets.length - 1; i >= 0; i--) {
      const threshold = /** @type {number} */ (offsets[i]);
      if (remaining > threshold) continue;
      const crossed = seenAbove.has(threshold);
      if (!crossed && absoluteRemaining > threshold) continue;
      const deadline = crossed ? status.expiresAt : status.absoluteExpiresAt;
      return { rank: i + 1, key: `${threshold}@${deadline}`, phase: 'notice', remaining: deadline - serverNow, threshold };
    }
    return { rank: 0, key: 'none', phase: 'none', remaining, threshold: 0 };
  }

  /** Recomputes the state from absolute times, shows it, and schedules the next short tick. */
  function tick() {
    if (stopped || ended) return;
    clearTimeout(timer);
    const t = now();
    const v = view(t);
    // A new warning is confirmed with a fresh status first (the session may have been extended
    // elsewhere); if the status cannot be fetched, the last known times are used.
    const stale = lastFetchAt === null || t - lastFetchAt >= FRESH_FOR;
    if (v.rank > rendered.rank && stale && t >= retryAt && (confirmSince ??= t) > t - CONFIRM_WAIT) {
      void refresh();
    } else {
      confirmSince = null;
      render(v);
      if (!inflight && t >= retryAt && (lastFetchAt === null || t - lastFetchAt >= POLL_EVERY)) void refresh();
    }
    if (status?.active) {
      const remaining = status.expiresAt - (t + offset);
      for (const o of offsets) if (remaining > o) seenAbove.add(o);
    }
    schedule(t);
  }

  function schedule(/** @type {number} */ t) {
    if (stopped || ended) return;
    let delay = SLOW_TICK;
    if (status?.active) {
      const remaining = status.expiresAt - (t + offset);
      const absoluteRemaining = status.absoluteExpiresAt - (t + offset);
      if (remaining <= NEAR_END || rendered.rank > 1000) delay = remaining % 1000 || 1000; // on each whole second
      for (const edge of [0, finalMs, ...offsets]) {
        for (const r of [remaining, absoluteRemaining]) if (r - edge > 0 && r - edge < delay) delay = r - edge;
      }
    }
    if (confirmSince !== null) delay = Math.min(delay, confirmSince + CONFIRM_WAIT - t);
    if (!inflight) {
      // (a request in flight ticks again when it settles)
      if (lastFetchAt !== null) delay = Math.min(delay, Math.max(0, lastFetchAt + POLL_EVERY - t));
      if (retryAt > t) delay = Math.min(delay, retryAt - t);
    }
    timer = setTimeout(tick, Math.max(delay, 20));
  }

  function render(/** @type {ReturnType<typeof view>} */ v) {
    const previous = rendered;
    rendered = { rank: v.rank, key: v.key };
    if (v.phase === 'end') {
      const reason = status?.active && status.endsBy === 'absolute' ? 'expired_absolute' : 'expired_idle';
      return expire(reason, true);
    }
    const time = format(v.remaining);
    if (v.phase === 'final' && status?.active) {
      ui.hideNotice();
      const absolute = status.endsBy === 'absolute';
      const seconds = Math.ceil(v.remaining / 1000);
      const opening = previous.key !== v.key;
      ui.showFinal({
        title: texts.finalTitle,
        text: fill(absolute ? texts.finalAbsolute : texts.final, time),
        clock: `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`,
        button: absolute ? texts.relogin : texts.stay,
      });
      if (opening) {
        announced = new Set(ANNOUNCE_AT.filter((s) => s >= seconds)); // the opening dialog is read out itself
        emit('final', { remaining: v.remaining, expiresAt: status.expiresAt, endsBy: status.endsBy });
      }
      const due = ANNOUNCE_AT.find((s) => seconds <= s && !announced.has(s));
      if (due !== undefined) {
        for (const s of ANNOUNCE_AT) if (s >= due) announced.add(s);
        ui.announceFinal(fill(texts.notice, time));
      }
      return;
    }
    ui.closeFinal();
    if (v.phase === 'notice' && !dismissed.has(v.key)) {
      const fresh = previous.key !== v.key;
      ui.showNotice(fill(texts.notice, time), { dismiss: texts.dismiss, announce: fresh });
      if (fresh) emit('notice', { threshold: v.threshold, remaining: v.remaining });
    } else {
      ui.hideNotice();
    }
  }

  function dismissNotice() {
    dismissed.add(rendered.key);
    saveDismissed();
    post({ type: 'dismiss', key: rendered.key });
    ui.hideNotice();
  }

  /** The final dialog's button: extend an idle-bound session, or go sign in again. */
  async function stayOrRelogin() {
    if (status?.active && status.endsBy === 'absolute') return expire('relogin', true);
    await staySignedIn();
  }

  /** POSTs activity; resolves to whether the end moved later. */
  async function staySignedIn() {
    const before = status?.active ? status.expiresAt : 0;
    lastActivityAt = now();
    await request('POST');
    tick();
    return Boolean(status?.active && status.expiresAt > before);
  }

  function onActivity() {
    if (stopped || ended || rendered.rank > 1000) return; // input never dismisses the final dialog
    const t = now();
    if (lastActivityAt !== null && t - lastActivityAt < throttleMs) return;
    lastActivityAt = t;
    void request('POST').then(tick);
  }

  /** Back from sleep or another tab: show the state for the current time, confirmed by a fresh status. */
  function onWake(/** @type {Event} */ event) {
    if (document.visibilityState !== 'visible') return;
    // window focus can come often (clicks between frames): a status from the last 2 s is enough then
    if (event.type === 'focus' && lastFetchAt !== null && now() - lastFetchAt < 2000) tick();
    else void refresh();
  }

  /** The session is over: tell the other tabs, then leave for logout-url (unless the app cancels the event). */
  function expire(/** @type {string} */ reason, /** @type {boolean} */ broadcast) {
    if (ended || stopped) return;
    ended = true;
    const url = exitUrl();
    if (broadcast) post({ type: 'expired', reason });
    teardown(false);
    ui.closeFinal();
    ui.showNotice(texts.signedOut, { announce: true });
    const proceed = emit('expired', { reason, url }, true);
    if (proceed) {
      if (url) location.assign(url);
      else location.reload();
    }
  }

  function exitUrl() {
    const base = location.href;
    const login = options.loginUrl ? new URL(options.loginUrl, base).href : null;
    if (!options.logoutUrl) return login;
    const logout = new URL(options.logoutUrl, base);
    if (login) logout.searchParams.set(options.nextParam || 'next', login);
    return logout.href;
  }

  /** @param {MessageEvent} event */
  function onMessage(event) {
    const message = event.data;
    if (!message || typeof message !== 'object' || stopped) return;
    if (message.type === 'status' && message.status && typeof message.status.active === 'boolean') {
      if (lastFetchAt === null && Number.isFinite(message.offset)) offset = message.offset;
      lastFetchAt = now();
      adopt(message.status, false);
    } else if (message.type === 'expired') {
      expire(typeof message.reason === 'string' ? message.reason : 'logged_out', false);
    } else if (message.type === 'dismiss' && typeof message.key === 'string') {
      dismissed.add(message.key);
      if (rendered.key === message.key) ui.hideNotice();
    }
  }

  function loadDismissed() {
    try {
      return new Set(/** @type {string[]} */ (JSON.parse(localStorage.getItem(DISMISSED_KEY) ?? '[]')));
    } catch {
      return new Set();
    }
  }

  function saveDismissed() {
    const serverNow = now() + offset;
    const keep = [...dismissed].filter((key) => Number(String(key).split('@')[1]) > serverNow);
    try {
      localStorage.setItem(DISMISSED_KEY, JSON.stringify(keep));
    } catch {
      /* storage disabled: dismissals last for this page only */
    }
  }

  const listen = { passive: true, capture: true };
  function teardown(/** @type {boolean} */ removeUi) {
    stopped = true;
    clearTimeout(timer);
    for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, onActivity, listen);
    document.removeEventListener('visibilitychange', onWake);
    window.removeEventListener('focus', onWake);
    window.removeEventListener('pageshow', onWake);
    window.removeEventListener('online', onWake);
    if (channel) channel.onmessage = null;
    channel?.close();
    if (removeUi) {
      ui.destroy();
      if (ownsHost) host.remove();
    }
  }

  for (const type of ACTIVITY_EVENTS) window.addEventListener(type, onActivity, listen);
  document.addEventListener('visibilitychange', onWake);
  window.addEventListener('focus', onWake);
  window.addEventListener('pageshow', onWake);
  window.addEventListener('online', onWake);
  if (channel) channel.onmessage = onMessage;
  void refresh();

  /** @type {import('./session.js').SessionTimerController} */
  const controller = {
    element: host,
    refresh: () => refresh().then(() => controller.state),
    stop: () => teardown(true),
    staySignedIn,
    get state() {
      const t = now();
      const v = view(t);
      /** @type {import('./session.js').SessionTimerState['phase']} */
      const phase = stopped ? (ended ? 'expired' : 'stopped') : !status ? 'loading' : v.phase === 'none' ? 'active' : v.phase === 'end' ? 'expired' : v.phase;
      return {
        phase,
        active: Boolean(status?.active) && !ended,
        expiresAt: status?.active ? status.expiresAt : null,
        idleExpiresAt: status?.active ? status.idleExpiresAt : null,
        absoluteExpiresAt: status?.active ? status.absoluteExpiresAt : null,
        endsBy: status?.active ? status.endsBy : null,
        remaining: status?.active ? Math.max(0, status.expiresAt - (t + offset)) : null,
        offset,
      };
    },
  };
  return controller;
}

const STYLES = `
:host {
  --_bg: var(--portcullis-timer-bg, #ffffff);
  --_fg: var(--portcullis-timer-fg, #1a1f2b);
  --_muted: var(--portcullis-timer-muted, #4a5263);
  --_accent: var(--portcullis-timer-accent, #1d4ed8);
  --_accent-fg: var(--portcullis-timer-accent-fg, #ffffff);
  --_font: var(--portcullis-timer-font, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif);
  --_radius: var(--portcullis-timer-radius, 12px);
  --_backdrop: var(--portcullis-timer-backdrop, rgb(15 23 42 / 0.62));
  display: contents;
}
@media (prefers-color-scheme: dark) {
  :host {
    --_bg: var(--portcullis-timer-bg, #1f2430);
    --_fg: var(--portcullis-timer-fg, #eef1f7);
    --_muted: var(--portcullis-timer-muted, #b8c0d0);
    --_accent: var(--portcullis-timer-accent, #8ab4ff);
    --_accent-fg: var(--portcullis-timer-accent-fg, #0b1020);
  }
}
.toast {
  position: fixed; left: 50%; bottom: 24px; transform: translateX(-50%);
  z-index: var(--portcullis-timer-z, 2147483000);
  display: flex; align-items: center; gap: 16px;
  box-sizing: border-box; width: max-content; max-width: calc(100vw - 32px);
  padding: 12px 12px 12px 18px;
  background: var(--_bg); color: var(--_fg);
  border: 1px solid rgb(127 127 127 / 0.25); border-left: 4px solid var(--_accent);
  border-radius: var(--_radius);
  box-shadow: 0 12px 32px rgb(0 0 0 / 0.2), 0 2px 6px rgb(0 0 0 / 0.12);
  font: 15px/1.45 var(--_font);
  animation: portcullis-rise 180ms ease-out;
}
.toast[hidden] { display: none; }
.toast p { margin: 0; }
button {
  font: 600 15px/1.2 var(--_font); min-height: 40px; padding: 9px 16px; cursor: pointer;
  border-radius: calc(var(--_radius) * 0.66); border: 2px solid var(--_accent);
}
button:focus-visible { outline: 3px solid var(--_accent); outline-offset: 3px; }
.secondary { background: transparent; color: var(--_accent); }
.secondary:hover { background: color-mix(in srgb, var(--_accent) 10%, transparent); }
.primary { background: var(--_accent); color: var(--_accent-fg); }
.primary:hover { filter: brightness(1.1); }
dialog {
  box-sizing: border-box; width: min(440px, calc(100vw - 32px)); padding: 28px 28px 24px;
  border: none; border-radius: var(--_radius);
  background: var(--_bg); color: var(--_fg); font: 15px/1.5 var(--_font); text-align: center;
  box-shadow: 0 24px 64px rgb(0 0 0 / 0.35);
  animation: portcullis-pop 160ms ease-out;
}
dialog::backdrop { background: var(--_backdrop); }
dialog h2 { margin: 0 0 8px; font-size: 19px; line-height: 1.3; }
dialog p { margin: 0; color: var(--_muted); }
.countdown {
  margin: 18px 0 22px; font-size: 44px; font-weight: 700; line-height: 1;
  font-variant-numeric: tabular-nums; color: var(--_accent);
}
.actions { display: flex; justify-content: center; }
.actions button { min-width: 60%; }
.sr {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
}
@keyframes portcullis-rise { from { opacity: 0; transform: translate(-50%, 12px); } }
@keyframes portcullis-pop { from { opacity: 0; transform: scale(0.96); } }
@media (prefers-reduced-motion: reduce) {
  .toast, dialog { animation: none; }
  .primary:hover { filter: none; }
}
`;

/**
 * The shadow DOM: a polite status announcer, the toast and the final dialog. Constructable
 * stylesheets need no 'unsafe-inline' in the page's CSP; a <style> element is the fallback.
 * @param {HTMLElement} host
 * @param {{ onStay(): void, onDismiss(): void }} handlers
 */
function buildUi(host, handlers) {
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  root.replaceChildren();
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(Object.assign(document.createElement('style'), { textContent: STYLES }));
  }
  /** @param {string} tag @param {Record<string, string>} attrs @param {Node[]} children */
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  };
  const announcer = el('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const toastText = el('p', { part: 'toast-text' });
  const dismiss = el('button', { type: 'button', part: 'button dismiss', class: 'secondary' });
  const toast = el('div', { part: 'toast', class: 'toast' }, toastText, dismiss);
  toast.hidden = true;
  const title = el('h2', { id: 'title', part: 'title' });
  const text = el('p', { id: 'text', part: 'text' });
  const clock = el('p', { class: 'countdown', part: 'countdown', 'aria-hidden': 'true' });
  const live = el('p', { class: 'sr', 'aria-live': 'assertive', 'aria-atomic': 'true' });
  const stay = el('button', { type: 'button', part: 'button stay', class: 'primary' });
  const dialog = /** @type {HTMLDialogElement} */ (
    el('dialog', { part: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'title', 'aria-describedby': 'text', closedby: 'none' }, title, text, clock, live, el('div', { class: 'actions' }, stay))
  );
  root.append(announcer, toast, dialog);

  let wantOpen = false;
  /** @type {Element | null} */ let returnFocus = null;
  dismiss.addEventListener('click', () => handlers.onDismiss());
  stay.addEventListener('click', () => handlers.onStay());
  // The dialog cannot be dismissed: no Escape, no click outside, and focus stays on its button.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  dialog.addEventListener('close', () => wantOpen && open());
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') event.preventDefault();
    if (event.key === 'Tab') {
      event.preventDefault();
      stay.focus(); // the only control: Tab and Shift+Tab stay on it
    }
  });
  dialog.addEventListener('mousedown', (event) => {
    if (event.target !== stay) event.preventDefault();
  });
  dialog.addEventListener('focusout', (event) => {
    if (wantOpen && !(event.relatedTarget instanceof Node && dialog.contains(event.relatedTarget))) queueMicrotask(() => wantOpen && stay.focus());
  });

  function open() {
    if (!dialog.isConnected) return;
    if (!dialog.open) {
      try {
        dialog.showModal();
      } catch {
        dialog.setAttribute('open', '');
      }
    }
    stay.focus();
  }

  /** @param {string} message */
  const say = (message) => {
    announcer.textContent = '';
    announcer.textContent = message;
  };

  return {
    /** @param {string} message @param {{ dismiss?: string, announce?: boolean }} how */
    showNotice(message, how) {
      toastText.textContent = message;
      dismiss.hidden = !how.dismiss;
      dismiss.textContent = how.dismiss ?? '';
      toast.hidden = false;
      if (how.announce) say(message);
    },
    hideNotice() {
      if (toast.hidden) return;
      if (root.activeElement === dismiss) dismiss.blur();
      toast.hidden = true;
    },
    /** @param {{ title: string, text: string, clock: string, button: string }} content */
    showFinal(content) {
      title.textContent = content.title;
      text.textContent = content.text;
      clock.textContent = content.clock;
      stay.textContent = content.button;
      if (!wantOpen) {
        wantOpen = true;
        const active = document.activeElement;
        returnFocus = active && active !== host ? active : null;
        open();
      }
    },
    /** @param {string} message */
    announceFinal(message) {
      live.textContent = message;
    },
    closeFinal() {
      if (!wantOpen) return;
      wantOpen = false;
      live.textContent = '';
      dialog.close();
      if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
      returnFocus = null;
    },
    destroy() {
      wantOpen = false;
      if (dialog.open) dialog.close();
      root.replaceChildren();
    },
  };
}

/** Attribute → option; text-* attributes become `texts` (text-final-title → finalTitle). */
const OPTION_ATTRIBUTES = {
  issuer: 'issuer',
  'status-url': 'statusUrl',
  'logout-url': 'logoutUrl',
  'login-url': 'loginUrl',
  'next-param': 'nextParam',
  'notice-offsets': 'noticeOffsets',
  'final-countdown': 'finalCountdown',
  'activity-throttle': 'activityThrottle',
  locale: 'locale',
};
const TEXT_ATTRIBUTES = Object.keys(DEFAULT_TEXTS).map((key) => `text-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

if (typeof HTMLElement === 'function' && typeof customElements === 'object' && !customElements.get('portcullis-session-timer')) {
  class PortcullisSessionTimer extends HTMLElement {
    static get observedAttributes() {
      return [...Object.keys(OPTION_ATTRIBUTES), ...TEXT_ATTRIBUTES];
    }

    /** @type {import('./session.js').SessionTimerController | null} */
    controller = null;

    connectedCallback() {
      this.start();
    }

    disconnectedCallback() {
      this.controller?.stop();
      this.controller = null;
    }

    attributeChangedCallback() {
      if (this.controller) this.start();
    }

    /** (Re)starts the timer from the current attributes. */
    start() {
      this.controller?.stop();
      this.controller = null;
      /** @type {Record<string, unknown>} */
      const options = { element: this, texts: {} };
      for (const [attribute, option] of Object.entries(OPTION_ATTRIBUTES)) {
        const value = this.getAttribute(attribute);
        if (value !== null) options[option] = value;
      }
      for (const attribute of TEXT_ATTRIBUTES) {
        const value = this.getAttribute(attribute);
        const key = attribute.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
        if (value !== null) /** @type {Record<string, string>} */ (options.texts)[key] = value;
      }
      try {
        this.controller = startSessionTimer(/** @type {import('./session.js').SessionTimerOptions} */ (options));
      } catch (error) {
        console.error(error);
      }
    }

    refresh() {
      return this.controller ? this.controller.refresh() : Promise.resolve(null);
    }

    staySignedIn() {
      return this.controller ? this.controller.staySignedIn() : Promise.resolve(false);
    }

    get state() {
      return this.controller?.state ?? null;
    }
  }
  customElements.define('portcullis-session-timer', PortcullisSessionTimer);
}
