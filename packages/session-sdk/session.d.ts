// Types for @portcullis/session-sdk (session.js is hand-written JavaScript; these describe its API).

/** A duration: a number of milliseconds, or a string such as "4h", "5m", "90s", "1h30m" (a bare number string is seconds). */
export type Duration = number | string;

export interface SessionTexts {
  /** Toast text and screen-reader countdown; `{time}` is replaced with e.g. "5 minutes". */
  notice: string;
  /** Heading of the final dialog. */
  finalTitle: string;
  /** Final dialog text when activity can extend the session (`ends_by: "idle"`); `{time}` is the countdown. */
  final: string;
  /** Final dialog text when the absolute limit is reached (`ends_by: "absolute"`). */
  finalAbsolute: string;
  /** The final dialog's button for an idle-bound session. */
  stay: string;
  /** The final dialog's button when a new login is needed. */
  relogin: string;
  /** The toast's dismiss button. */
  dismiss: string;
  /** Shown while navigating away after the session ended. */
  signedOut: string;
}

export interface SessionTimerOptions {
  /** Portcullis issuer URL; the status URL defaults to `<issuer>/session/status`. */
  issuer?: string;
  /** Overrides the status URL. One of `issuer` and `statusUrl` is required. */
  statusUrl?: string;
  /** Where to go when the session ends: the app's logout route (which also ends the Portcullis session). */
  logoutUrl?: string;
  /** Optional: added to logoutUrl as `?next=` (or used alone when there is no logoutUrl). */
  loginUrl?: string;
  /** Name of the query parameter that carries loginUrl; default "next". */
  nextParam?: string;
  /** Dismissible notices before the end; default "4h,5m" (a string with commas or an array). */
  noticeOffsets?: string | Duration[];
  /** The non-dismissible final dialog shows for this long before the end; default "60s". */
  finalCountdown?: Duration;
  /** Activity is POSTed at most once per this; default "60s". */
  activityThrottle?: Duration;
  /** Replacement texts (any subset). */
  texts?: Partial<SessionTexts>;
  /** Locale for durations; default the nearest `lang` attribute, else the browser's. */
  locale?: string;
  /** Formats a remaining time in ms; default "4 hours", "5 minutes", "30 seconds" through Intl. */
  formatTime?: (ms: number) => string;
  /** Element whose shadow root shows the UI and on which events are dispatched; default a new div in body. */
  element?: HTMLElement;
  /** Test hook: the browser clock in ms; default Date.now. */
  now?: () => number;
  /** Test hook: the fetch implementation; default the global fetch. */
  fetch?: (input: RequestInfo, init: RequestInit) => Promise<Response>;
}

/** A status response with its epoch seconds turned into epoch milliseconds. */
export type SessionStatus =
  | { active: true; serverTime: number; expiresAt: number; idleExpiresAt: number; absoluteExpiresAt: number; endsBy: 'idle' | 'absolute' }
  | { active: false; serverTime: number; reason: string };

export interface SessionTimerState {
  phase: 'loading' | 'active' | 'notice' | 'final' | 'expired' | 'stopped';
  active: boolean;
  /** Server epoch ms; null until a status was received or once the session ended. */
  expiresAt: number | null;
  idleExpiresAt: number | null;
  absoluteExpiresAt: number | null;
  endsBy: 'idle' | 'absolute' | null;
  /** ms left, as of now. */
  remaining: number | null;
  /** Server clock minus browser clock, in ms. */
  offset: number;
}

export interface SessionTimerController {
  /** The element that holds the UI and receives the events. */
  readonly element: HTMLElement;
  /** Re-fetches the status now; resolves to the new state (never rejects). */
  refresh(): Promise<SessionTimerState>;
  /** Stops timers, listeners and the channel, and removes the UI. */
  stop(): void;
  /** POSTs activity; resolves to true if the session end moved later (never rejects). */
  staySignedIn(): Promise<boolean>;
  readonly state: SessionTimerState;
}

export interface NoticeDetail { threshold: number; remaining: number }
export interface FinalDetail { remaining: number; expiresAt: number; endsBy: 'idle' | 'absolute' }
export interface ExtendedDetail { expiresAt: number; previousExpiresAt: number; endsBy: 'idle' | 'absolute' }
/** Cancelable: preventDefault() keeps the SDK from navigating. */
export interface ExpiredDetail { reason: string; url: string | null }

export const DEFAULT_TEXTS: Readonly<SessionTexts>;
export function startSessionTimer(options: SessionTimerOptions): SessionTimerController;
export function parseDuration(value: unknown, fallback: number): number;
export function formatDuration(ms: number, locale?: string): string;

/** `<portcullis-session-timer>`: attributes map to SessionTimerOptions (kebab-case; text-* map to texts). */
export interface PortcullisSessionTimerElement extends HTMLElement {
  controller: SessionTimerController | null;
  start(): void;
  refresh(): Promise<SessionTimerState | null>;
  staySignedIn(): Promise<boolean>;
  readonly state: SessionTimerState | null;
}

declare global {
  interface HTMLElementTagNameMap {
    'portcullis-session-timer': PortcullisSessionTimerElement;
  }
  interface HTMLElementEventMap {
    'portcullis-session:notice': CustomEvent<NoticeDetail>;
    'portcullis-session:final': CustomEvent<FinalDetail>;
    'portcullis-session:extended': CustomEvent<ExtendedDetail>;
    'portcullis-session:expired': CustomEvent<ExpiredDetail>;
  }
}
