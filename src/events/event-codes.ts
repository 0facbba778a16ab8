// Typed security event codes. Each maps to the Auth0 log code an operator may already know.
export const EVENT_CODES = {
  // Recorded when the session starts, after the second factor if any (amr in details); the account page shows these.
  login_success: { auth0: 's', description: 'Successful login' },
  mfa_required: { auth0: 'mfar', description: 'Correct password; second factor requested' },
  login_failed_password: { auth0: 'fp', description: 'Failed login: wrong password' },
  login_failed_unknown_user: { auth0: 'fu', description: 'Failed login: unknown email' },
  login_failed_disabled: { auth0: 'f', description: 'Failed login: account disabled' },
  logout: { auth0: 'slo', description: 'Logout' },
  session_sso: { auth0: 'ssa', description: 'Login completed from an existing Portcullis session' },
  password_rehashed: { auth0: 'sapi', description: 'Stored password hash upgraded to current parameters' },
  setup_completed: { auth0: 'sapi', description: 'First admin account created through the setup link' },
  signup: { auth0: 'ss', description: 'Self-service sign-up' },
  signup_existing_email: { auth0: 'fs', description: 'Sign-up attempted with an email that already has an account (owner emailed)' },
  signup_rate_limited: { auth0: 'limit_sul', description: 'Sign-up refused: too many from this IP' },
  email_verified: { auth0: 'sv', description: 'Email address verified' },
  login_failed_unverified: { auth0: 'fp', description: 'Failed login: email not verified yet (correct password)' },
  password_reset_requested: { auth0: 'scpr', description: 'Password reset link sent' },
  password_reset: { auth0: 'scp', description: 'Password reset through an email link' },
  password_changed: { auth0: 'scp', description: 'Password changed from the account page' },
  password_change_failed: { auth0: 'fcp', description: 'Password change refused: wrong current password' },
  email_change_requested: { auth0: 'sce', description: 'Email change requested; verification sent to the new address' },
  email_changed: { auth0: 'sce', description: 'Email address changed' },
  session_revoked: { auth0: 'slo', description: 'A session was logged out from the account page' },
  logout_everywhere: { auth0: 'slo', description: 'All sessions and refresh tokens ended' },
  profile_updated: { auth0: 'sapi', description: 'Profile updated' },
  membership_changed: { auth0: 'sapi', description: 'Organization or role changed' },
  login_blocked: { auth0: 'limit_wc', description: 'Login refused: this IP is blocked for this account' },
  login_block_started: { auth0: 'limit_wc', description: 'Brute-force threshold reached: IP blocked for this account' },
  login_unblocked: { auth0: 'ubl', description: 'Brute-force block lifted' },
  login_link_used: { auth0: 's', description: 'Signed in with a one-time login link' },
  ip_throttled: { auth0: 'limit_mu', description: 'Login refused: too many failed logins from this IP' },
  ip_released: { auth0: 'sapi', description: 'Throttled IP released by the operator' },
  pwd_leak: { auth0: 'pwd_leak', description: 'Login with a password found in a data breach' },
  captcha_required: { auth0: 'captcha_required', description: 'Login paused: a CAPTCHA is required (signals in details)' },
  captcha_passed: { auth0: 'captcha_passed', description: 'CAPTCHA solved; the login went on to the password check' },
  captcha_failed: { auth0: 'captcha_failed', description: 'CAPTCHA answer wrong, expired, replayed or from another transaction' },
  captcha_would_challenge: { auth0: 'captcha_monitor', description: 'Monitoring only: a CAPTCHA would have been required' },
  user_created: { auth0: 'ss', description: 'User created' },
  client_created: { auth0: 'sapi', description: 'OIDC client registered' },
  keys_rotated: { auth0: 'sapi', description: 'Signing key rotated' },
  passkey_registered: { auth0: 'gd_enrollment_complete', description: 'Passkey added (the user was emailed)' },
  passkey_removed: { auth0: 'gd_unenroll', description: 'Passkey removed (the user was emailed)' },
  passkey_renamed: { auth0: 'sapi', description: 'Passkey renamed' },
  login_passkey_success: { auth0: 's', description: 'Successful login with a passkey' },
  login_passkey_failed: { auth0: 'f', description: 'Failed login with a passkey: unknown credential, bad signature or expired challenge' },
  passkey_clone_suspected: { auth0: 'f', description: 'Passkey refused: its signature counter went backwards, so the key may be cloned' },
  mfa_enrolled: { auth0: 'gd_enrollment_complete', description: 'Two-factor authentication (TOTP) switched on' },
  mfa_challenge_passed: { auth0: 'gd_auth_succeed', description: 'Second factor accepted' },
  mfa_challenge_failed: { auth0: 'gd_auth_failed', description: 'Second factor refused: wrong, malformed or replayed code' },
  mfa_attempts_exceeded: { auth0: 'gd_otp_rate_limit_exceed', description: 'Second factor refused: too many attempts' },
  recovery_code_used: { auth0: 'gd_recovery_succeed', description: 'Signed in with a recovery code (the user was emailed)' },
  recovery_codes_regenerated: { auth0: 'gd_update_device_account', description: 'New recovery codes generated; the old ones no longer work' },
  mfa_reset: { auth0: 'gd_unenroll', description: 'Two-factor authentication reset by an administrator (passkeys kept)' },
  risk_blocked: { auth0: 'f', description: 'Login attempt blocked by risk assessment (each assessor\'s verdict in details); the user is not locked out' },
  risk_mfa: { auth0: 'gd_start_auth', description: 'Risk assessment asked for a second factor before this login could finish' },
  risk_logged: { auth0: 's', description: 'Risk signals noted on an allowed login (each assessor\'s verdict in details)' },
  step_up_email_sent: { auth0: 'gd_send_email', description: 'A one-time sign-in code was emailed as the second factor a risky login needed' },
  device_forgotten: { auth0: 'sapi', description: 'A remembered device was forgotten from the account page' },
  session_expired_idle: { auth0: 'slo', description: 'Session ended after the idle limit' },
  session_expired_absolute: { auth0: 'slo', description: 'Session ended at its absolute limit' },
  webhook_test: { auth0: 'sapi', description: 'Test delivery sent to a webhook by an operator (never logged as an event)' },
  user_updated: { auth0: 'sapi', description: 'User updated by an administrator' },
  user_disabled: { auth0: 'sapi', description: 'User disabled by an administrator (sessions ended)' },
  user_enabled: { auth0: 'sapi', description: 'User enabled by an administrator' },
  user_deleted: { auth0: 'sdu', description: 'User deleted by an administrator' },
  admin_sessions_revoked: { auth0: 'sapi', description: "An administrator ended a user's sessions" },
  admin_passkey_removed: { auth0: 'gd_unenroll', description: "An administrator removed a user's passkey" },
  settings_changed: { auth0: 'sapi', description: 'Attack-protection settings changed at runtime (who and what in details)' },
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
