// Core records shared by every layer. Timestamps are epoch milliseconds.
export type Role = 'admin' | 'member';

export interface Org {
  id: string;
  name: string;
  createdAt: number;
  /** The organization's own session limits; null means the deployment's. Never longer than the deployment's. */
  sessionIdleMs: number | null;
  sessionAbsoluteMs: number | null;
}

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  passwordHash: string | null;
  orgId: string | null;
  role: Role;
  /** Installation-wide administrator (the console and API without an organization scope). */
  operator: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface Session {
  id: string;
  secretHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
  revokedAt: number | null;
  /** The limits this session was created under (deployment's, or its organization's shorter ones); null: the deployment's. */
  idleMs: number | null;
  absoluteMs: number | null;
  /** Why it ended: `logout`, `revoked`, `idle`, `absolute`; null while open. */
  endReason: string | null;
}

export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  firstParty: boolean;
  createdAt: number;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  createdAt: number;
}

export type LinkPurpose = 'setup' | 'verify_email' | 'reset_password' | 'change_email' | 'unblock' | 'login';

export interface LinkToken {
  id: string;
  purpose: LinkPurpose;
  secretHash: string;
  userId: string | null;
  data: Record<string, unknown>;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}
