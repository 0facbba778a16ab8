// Storage interfaces, one per record type. Each states its atomicity; every backend passes one contract suite.
import type { ClientRecord, LinkToken, Org, Role, Session, SigningKey, User } from '../domain/types.js';
import type { EventCode, NewSecurityEvent, SecurityEvent } from '../events/event-codes.js';

export interface NewUser {
  email: string;
  name?: string | null;
  passwordHash: string | null;
  orgId?: string | null;
  role?: Role;
  emailVerified?: boolean;
}

export interface UserStore {
  /** Throws PortcullisError('conflict') when the (case-insensitive) email is taken. */
  create(user: NewUser, now: number): Promise<User>;
  findById(id: string): Promise<User | null>;
  findByEmail(email: string): Promise<User | null>;
  list(options: { limit: number; offset: number; orgId?: string }): Promise<User[]>;
  count(): Promise<number>;
  setPasswordHash(id: string, passwordHash: string, now: number): Promise<void>;
  /** Throws PortcullisError('conflict') when another user has the email. */
  setEmail(id: string, email: string, now: number): Promise<void>;
  setEmailVerified(id: string, now: number): Promise<void>;
  setName(id: string, name: string | null, now: number): Promise<void>;
  setMembership(id: string, orgId: string | null, role: Role, now: number): Promise<void>;
  setDisabled(id: string, disabled: boolean, now: number): Promise<void>;
  setOperator(id: string, operator: boolean, now: number): Promise<void>;
  /**
   * Case-insensitive substring search on email and name (empty query: everyone), newest first, optionally within
   * one organization. `total` counts every match, for paging.
   */
  search(options: { query?: string; orgId?: string; limit: number; offset: number }): Promise<{ users: User[]; total: number }>;
  /** Deletes the user and everything that belongs to them (sessions, passkeys, 2FA, devices, links); events stay. */
  delete(id: string): Promise<boolean>;
}

export interface OrgStore {
  /** Throws PortcullisError('conflict') when the name is taken. */
  create(name: string, now: number): Promise<Org>;
  findById(id: string): Promise<Org | null>;
  findByName(name: string): Promise<Org | null>;
  list(): Promise<Org[]>;
  /** Sets (or with nulls clears) the organization's own session limits; returns false for an unknown id. */
  setSessionLimits(id: string, limits: { idleMs: number | null; absoluteMs: number | null }): Promise<boolean>;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  findById(id: string): Promise<Session | null>;
  /** Records activity; a no-op for revoked sessions. */
  touch(id: string, lastSeenAt: number): Promise<void>;
  /** Returns true when this call revoked it (exactly one caller wins). `reason` defaults to `revoked`. */
  revoke(id: string, now: number, reason?: string): Promise<boolean>;
  revokeAllForUser(userId: string, now: number): Promise<number>;
  listActiveForUser(userId: string): Promise<Session[]>;
  /**
   * Ends up to `limit` open sessions past their idle or absolute limit (each row's own limits, else `defaults`), marking
   * them revoked with reason `idle` or `absolute` (absolute wins when both apply). Returns only the sessions this call
   * ended, so on several nodes each expiry is reported exactly once.
   */
  endExpired(now: number, defaults: { idleMs: number; absoluteMs: number }, limit: number): Promise<Session[]>;
  /**
   * Claims up to `limit` ended sessions whose apps have not been told yet, marking them told. Of racing callers each
   * session goes to exactly one (at most once: a crash after the claim loses that notice).
   */
  claimEndedForNotice(now: number, limit: number): Promise<Session[]>;
  /** Applies new limits to the open sessions of the organization's members (only ever shortening them). */
  capLimitsForOrg(orgId: string, limits: { idleMs: number; absoluteMs: number }): Promise<number>;
}

export interface ClientStore {
  /** Throws PortcullisError('conflict') when the client id exists. */
  create(client: ClientRecord): Promise<void>;
  /** Creates or replaces; used for the built-in demo client. */
  upsert(client: ClientRecord): Promise<void>;
  find(clientId: string): Promise<ClientRecord | null>;
  list(): Promise<ClientRecord[]>;
}

export interface SigningKeyStore {
  add(key: SigningKey): Promise<void>;
  /** Newest first: the first key signs, the rest stay published for verification. */
  list(): Promise<SigningKey[]>;
}

export interface LinkTokenStore {
  create(link: LinkToken): Promise<void>;
  findById(id: string): Promise<LinkToken | null>;
  /** Marks the link used if it is unused and unexpired. Exactly one concurrent caller gets true. */
  consume(id: string, now: number): Promise<boolean>;
}

export interface EventStore {
  append(event: NewSecurityEvent, now: number): Promise<SecurityEvent>;
  list(options: { userId?: string; limit: number; code?: EventCode; since?: number }): Promise<SecurityEvent[]>;
  /**
   * Newest first. Filters combine with AND; `orgId` keeps events of that organization's users. Paging is by cursor:
   * pass the returned `next` as `before` to get the following page (null when there is none).
   */
  query(filter: EventQuery): Promise<{ events: SecurityEvent[]; next: string | null }>;
  /** Counts per code per time bucket (bucket start = since + k * bucketMs), for the dashboard charts. */
  histogram(options: { codes: readonly EventCode[]; since: number; until: number; bucketMs: number; orgId?: string }): Promise<{ code: EventCode; bucketStart: number; count: number }[]>;
}

export interface EventQuery {
  userId?: string;
  orgId?: string;
  ip?: string;
  codes?: readonly EventCode[];
  /** Inclusive lower and exclusive upper bound on `at`. */
  since?: number;
  until?: number;
  /** An opaque cursor from a previous page. */
  before?: string | null;
  limit: number;
}

export interface OidcModelRecord {
  payload: Record<string, unknown>;
  expiresAt: number | null;
  consumedAt: number | null;
}

/** Backing store for oidc-provider models (sessions, grants, codes, tokens, interactions). */
export interface OidcModelStore {
  upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void>;
  find(model: string, id: string, now: number): Promise<OidcModelRecord | null>;
  findByUid(model: string, uid: string, now: number): Promise<OidcModelRecord | null>;
  findByUserCode(model: string, userCode: string, now: number): Promise<OidcModelRecord | null>;
  /** Marks consumed; returns true only for the first caller. */
  consume(model: string, id: string, now: number): Promise<boolean>;
  /**
   * Saves the record (created if absent) and marks it consumed, in one statement; returns true only for the first
   * caller. A record already consumed is left unchanged: a step that must happen once claims it this way.
   */
  saveConsumed(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, now: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  /**
   * Deletes every grant, token and code of an account: all its refresh tokens die. Provider sessions are kept for the
   * session sweep, which sends their back-channel logouts and then removes them.
   */
  revokeByAccountId(accountId: string): Promise<number>;
  deleteExpired(now: number): Promise<number>;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxMessage {
  id: string;
  to: string;
  template: string;
  /** Subject and bodies, sealed at rest (bodies carry link tokens); cleared once sent. */
  sealedContent: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface OutboxStore {
  enqueue(message: { id: string; to: string; template: string; sealedContent: string }, now: number): Promise<void>;
  /**
   * Claims up to `limit` due messages for `leaseMs` (status pending, next attempt due, no live lease).
   * A message is claimed by at most one worker at a time, across processes and nodes.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]>;
  /**
   * Keeps a live worker's claim: moves the lease of the given still-pending messages from `from` (the lease this worker
   * holds) to `until`. Messages whose lease changed hands are left alone. Returns how many were extended.
   */
  extendLease(ids: readonly string[], from: number, until: number): Promise<number>;
  markSent(id: string, now: number): Promise<void>;
  /** Records a failed attempt; `nextAttemptAt` null marks the message failed for good. */
  markAttemptFailed(id: string, error: string, nextAttemptAt: number | null): Promise<void>;
  list(options: { status?: OutboxStatus; limit: number }): Promise<OutboxMessage[]>;
  findById(id: string): Promise<OutboxMessage | null>;
  /** How many messages wait (pending, due or not) and how many failed for good; one cheap query, for metrics. */
  countByStatus(): Promise<{ pending: number; failed: number }>;
}

export interface DevMailItem {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  receivedAt: number;
}

/** The development mailbox: delivered mail kept in the store instead of going to SMTP. */
export interface DevMailboxStore {
  deliver(item: DevMailItem): Promise<void>;
  list(limit: number): Promise<DevMailItem[]>;
  findById(id: string): Promise<DevMailItem | null>;
}

export interface CounterStore {
  /** Atomically adds one to the fixed window containing `now` and returns the new count. */
  hit(key: string, windowMs: number, now: number): Promise<number>;
  /** The count of the fixed window containing `now` (0 when none), without adding to it. */
  get(key: string, windowMs: number, now: number): Promise<number>;
}

export interface AttemptRecord {
  identifier: string;
  ipKey: string;
  count: number;
  lastAt: number;
}

/** Failed-password slots per (identifier, IP key), for brute-force protection. */
export interface AttemptStore {
  /**
   * Atomically takes one slot if fewer than `limit` are taken. A record whose last attempt is older than
   * `resetAfterMs` starts over. Of any number of concurrent callers, at most `limit - count` win.
   */
  reserve(identifier: string, ipKey: string, limit: number, now: number, resetAfterMs: number): Promise<{ allowed: boolean; count: number }>;
  get(identifier: string, ipKey: string): Promise<AttemptRecord | null>;
  /** Forgets the record (success, unblock); returns whether one existed. */
  clear(identifier: string, ipKey: string): Promise<boolean>;
  clearIdentifier(identifier: string): Promise<number>;
  /** Records with at least `count` attempts whose last attempt is after `since`. */
  listAtLeast(count: number, since: number, limit: number): Promise<AttemptRecord[]>;
}

export interface BucketRecord {
  key: string;
  tokens: number;
  updatedAt: number;
}

/** Token buckets (throttling, sign-up and reset limits): the one rate-limit mechanism. */
export interface RateLimitStore {
  /** Atomically takes one token if at least one is available after refilling one per `refillMs`, up to `capacity`. */
  take(key: string, capacity: number, refillMs: number, now: number): Promise<{ allowed: boolean; tokens: number }>;
  /** Gives a token back (e.g. the login succeeded), never above capacity. */
  refund(key: string, capacity: number): Promise<void>;
  get(key: string): Promise<BucketRecord | null>;
  /** Buckets whose key starts with `prefix`, for listing throttled IPs. */
  list(prefix: string, limit: number): Promise<BucketRecord[]>;
  reset(key: string): Promise<boolean>;
}

/** Deduplication of notifications: a key can be claimed once per `ttlMs`. */
export interface OnceStore {
  claim(key: string, ttlMs: number, now: number): Promise<boolean>;
  /** Whether a claim on `key` is still live at `now` (does not claim). */
  isHeld(key: string, now: number): Promise<boolean>;
}

export interface IpListEntry {
  list: string;
  /** Canonical CIDR text (see normalizeCidr): a bare IP is stored as /32 or /128. */
  cidr: string;
  note: string | null;
  addedAt: number;
}

export interface IpListSummary {
  name: string;
  entries: number;
  updatedAt: number;
}

/** Named reputation lists of CIDRs (Tor exits, abusive ranges, data centers). Callers pass canonical CIDRs. */
export interface IpListStore {
  /** Swaps the whole list for `entries` in one transaction: a reader sees the old list or the new one, never a mix. Returns the new size. */
  replace(listName: string, entries: readonly { cidr: string; note: string | null }[], now: number): Promise<number>;
  /** Adds entries in one transaction; a CIDR already on the list is left as it is. Returns how many were new. */
  add(listName: string, entries: readonly { cidr: string; note: string | null }[], now: number): Promise<number>;
  /** Returns whether the CIDR was on the list. */
  remove(listName: string, cidr: string, now: number): Promise<boolean>;
  /** Entries of one list, or of every list, ordered by list then CIDR text. */
  list(listName?: string): Promise<IpListEntry[]>;
  /** Names of every list ever written (a list emptied by replace stays, with no entries), sorted. */
  names(): Promise<string[]>;
  summaries(): Promise<IpListSummary[]>;
  /** An opaque value that changes whenever any list changes, so a matcher can skip reloading unchanged data. */
  revision(): Promise<string>;
}

export interface TotpRecord {
  /** The active secret (base32), unsealed; null while only an enrollment is pending. */
  secret: string | null;
  /** An enrollment in progress: not used at login until confirmed. */
  pendingSecret: string | null;
  pendingAt: number | null;
  /** The last accepted time step; a code at or before it is a replay. */
  lastStep: number | null;
  createdAt: number;
  confirmedAt: number | null;
}

/** TOTP secrets (sealed at rest) and recovery codes (hashed). Passkeys live elsewhere and are never touched here. */
export interface MfaStore {
  getTotp(userId: string): Promise<TotpRecord | null>;
  /** Activates `secret` directly (imports, tests), replacing any active or pending one. */
  enableTotp(userId: string, secret: string, now: number): Promise<void>;
  /** Starts (or restarts) an enrollment; an already active secret stays active until the new one is confirmed. */
  setPendingTotp(userId: string, secret: string, now: number): Promise<void>;
  /**
   * Promotes the pending secret to active and records `step` as used, only if the pending secret is still `secret`
   * (an enrollment restarted in another tab is not activated by mistake). Exactly one concurrent caller gets true.
   */
  confirmTotp(userId: string, secret: string, step: number, now: number): Promise<boolean>;
  /** Atomically raises the last used step to `step` if it is below; of concurrent callers with one step, exactly one gets true. */
  recordTotpStep(userId: string, step: number): Promise<boolean>;
  /** Swaps the whole set in one transaction: the old codes stop working. */
  replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<void>;
  /** Marks an unused code used; exactly one concurrent caller gets true. */
  consumeRecoveryCode(userId: string, hash: string, now: number): Promise<boolean>;
  /** Unused codes left. */
  countRecoveryCodes(userId: string): Promise<number>;
  /** Removes TOTP (active and pending) and every recovery code of the user, and nothing else. */
  resetMfa(userId: string): Promise<{ removedTotp: boolean; removedRecoveryCodes: number }>;
}

export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

export interface PasskeyRecord {
  id: string;
  userId: string;
  /** base64url; unique across all users. */
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** The last signature counter seen (0 for authenticators that do not count). */
  counter: number;
  transports: string[];
  backupEligible: boolean;
  backedUp: boolean;
  deviceType: PasskeyDeviceType;
  aaguid: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** WebAuthn credentials. Every per-user operation is scoped by user id, so one user can never touch another's. */
export interface PasskeyStore {
  /**
   * Adds the credential unless the user already has `maxPerUser`; the count and the insert are atomic per user.
   * Throws PortcullisError('conflict') when the credential id is already registered (to anyone).
   */
  add(record: PasskeyRecord, maxPerUser: number): Promise<'added' | 'limit_reached'>;
  /** Oldest first. */
  listForUser(userId: string): Promise<PasskeyRecord[]>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | null>;
  /**
   * Records a verified use. The counter only moves forward: the update applies only when `counter` is above the stored
   * one, or both are 0. Returns false when it did not apply (a concurrent use with the same or a higher counter won).
   */
  updateAfterUse(credentialId: string, use: { counter: number; backedUp: boolean; lastUsedAt: number }): Promise<boolean>;
  rename(userId: string, credentialId: string, name: string): Promise<boolean>;
  remove(userId: string, credentialId: string): Promise<boolean>;
  countForUser(userId: string): Promise<number>;
}

/** A browser the user has signed in from: the device cookie (hashed at rest) plus the browser and OS family. */
export interface KnownDevice {
  id: string;
  userId: string;
  /** HMAC of the device cookie; the cookie itself is never stored. */
  deviceHash: string;
  /** Browser family ("Chrome"), and OS family ("Windows"), from the user agent; null when unknown. */
  browser: string | null;
  os: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  lastIp: string | null;
  /** As people read it: "London, United Kingdom". */
  lastLocation: string | null;
}

/** Remembered devices, for the new-device risk assessor and the account page. Every operation is scoped by user. */
export interface DeviceStore {
  /** The user's device with this cookie hash, whatever its age (the caller applies the remember window). */
  find(userId: string, deviceHash: string): Promise<KnownDevice | null>;
  /** Inserts, or updates browser, OS, last IP, location and lastSeenAt of the existing (user, hash) row. Returns the row. */
  remember(device: Omit<KnownDevice, 'id' | 'firstSeenAt' | 'lastSeenAt'>, now: number): Promise<KnownDevice>;
  /** Devices seen at or after `since`, most recently seen first. */
  listForUser(userId: string, since: number): Promise<KnownDevice[]>;
  /** Whether the user has any device seen at or after `since`. */
  hasAny(userId: string, since: number): Promise<boolean>;
  forget(userId: string, id: string): Promise<boolean>;
  forgetAll(userId: string): Promise<number>;
  /** Deletes rows last seen before `before`; returns how many. */
  prune(before: number): Promise<number>;
}

/** Where a successful login came from: the baseline for impossible travel and new-country checks. */
export interface LoginLocation {
  userId: string;
  at: number;
  ip: string;
  /** ISO 3166-1 alpha-2, null when the IP has no location (private, loopback, unknown). */
  countryCode: string | null;
  latitude: number | null;
  longitude: number | null;
  accuracyKm: number | null;
  /** As people read it. */
  label: string | null;
}

export interface LoginHistoryStore {
  record(entry: LoginLocation): Promise<void>;
  /** The most recent successful login of the user, or null. */
  last(userId: string): Promise<LoginLocation | null>;
  /** Distinct country codes of the user's logins at or after `since` (no nulls). */
  countries(userId: string, since: number): Promise<string[]>;
  /** Deletes entries before `before`; returns how many. */
  prune(before: number): Promise<number>;
}

/** Runtime attack-protection settings: one versioned document, every change kept with who made it. */
export interface SettingsRecord {
  values: Record<string, unknown>;
  revision: number;
  updatedBy: string;
  updatedAt: number;
}

export interface SettingsStore {
  get(): Promise<SettingsRecord | null>;
  /**
   * Stores a new version if the current revision is still `expectedRevision` (0 when none exists yet); returns the new
   * record, or null when someone else changed it first (the caller re-reads and retries or reports a conflict).
   */
  put(values: Record<string, unknown>, actor: string, expectedRevision: number, now: number): Promise<SettingsRecord | null>;
  /** Past versions, newest first. */
  history(limit: number): Promise<SettingsRecord[]>;
}

export interface Webhook {
  id: string;
  url: string;
  /** Event codes delivered; empty means every code. */
  codes: string[];
  /** The signing secret, sealed at rest (the store holds and returns the sealed form). */
  sealedSecret: string;
  description: string | null;
  disabled: boolean;
  createdAt: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventCode: string;
  /** The JSON body exactly as sent (signed as is). */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** Webhooks and their durable delivery outbox (claimed like mail: one worker per delivery across nodes). */
export interface WebhookStore {
  create(hook: Webhook): Promise<void>;
  list(): Promise<Webhook[]>;
  findById(id: string): Promise<Webhook | null>;
  remove(id: string): Promise<boolean>;
  setDisabled(id: string, disabled: boolean): Promise<boolean>;
  enqueue(delivery: Pick<WebhookDelivery, 'id' | 'webhookId' | 'eventId' | 'eventCode' | 'payload'>, now: number): Promise<void>;
  /** Claims due pending deliveries for `leaseMs`; each is held by at most one worker at a time. */
  claimDue(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  markDelivered(id: string, status: number, now: number): Promise<void>;
  /** `nextAttemptAt` null marks it failed for good. */
  markAttemptFailed(id: string, result: { status: number | null; error: string }, nextAttemptAt: number | null, now: number): Promise<void>;
  listDeliveries(options: { webhookId?: string; status?: WebhookDeliveryStatus; limit: number }): Promise<WebhookDelivery[]>;
  countPending(): Promise<number>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  users: UserStore;
  orgs: OrgStore;
  sessions: SessionStore;
  clients: ClientStore;
  signingKeys: SigningKeyStore;
  links: LinkTokenStore;
  events: EventStore;
  oidc: OidcModelStore;
  outbox: OutboxStore;
  devMailbox: DevMailboxStore;
  counters: CounterStore;
  attempts: AttemptStore;
  buckets: RateLimitStore;
  once: OnceStore;
  ipLists: IpListStore;
  mfa: MfaStore;
  passkeys: PasskeyStore;
  devices: DeviceStore;
  loginHistory: LoginHistoryStore;
  settings: SettingsStore;
  webhooks: WebhookStore;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
