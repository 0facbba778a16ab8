// Typed security event codes. Each maps to the Auth0 log code an operator may already know.
export const EVENT_CODES = {
  login_success: { auth0: 's', description: 'Successful login' },
  login_failed_password: { auth0: 'fp', description: 'Failed login: wrong password' },
  login_failed_unknown_user: { auth0: 'fu', description: 'Failed login: unknown email' },
  login_failed_disabled: { auth0: 'f', description: 'Failed login: account disabled' },
  logout: { auth0: 'slo', description: 'Logout' },
  session_sso: { auth0: 'ssa', description: 'Login completed from an existing Portcullis session' },
  password_rehashed: { auth0: 'sapi', description: 'Stored password hash upgraded to current parameters' },
  setup_completed: { auth0: 'sapi', description: 'First admin account created through the setup link' },
  user_created: { auth0: 'ss', description: 'User created' },
  client_created: { auth0: 'sapi', description: 'OIDC client registered' },
  keys_rotated: { auth0: 'sapi', description: 'Signing key rotated' },
} as const;

export type EventCode = keyof typeof EVENT_CODES;

export interface SecurityEvent {
  id: string;
  at: number;
  code: EventCode;
  userId: string | null;
  identifier: string | null;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  outcome: 'success' | 'failure' | 'info';
  reason: string | null;
  details: Record<string, unknown>;
}

export type NewSecurityEvent = Omit<SecurityEvent, 'id' | 'at' | 'details' | 'userId' | 'identifier' | 'ip' | 'userAgent' | 'clientId' | 'reason'> &
  Partial<Pick<SecurityEvent, 'details' | 'userId' | 'identifier' | 'ip' | 'userAgent' | 'clientId' | 'reason'>>;
