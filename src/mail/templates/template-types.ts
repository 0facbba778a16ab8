// The data each email template needs. Adding a template means adding it here, rendering it, and a render test.
export interface TemplateData {
  verify_email: { link: string; expiresInText: string };
  signup_existing_account: { loginUrl: string; resetUrl: string };
  reset_password: { link: string; expiresInText: string; ip: string | null };
  password_changed: { at: string; ip: string | null; resetUrl: string };
  email_change_verify: { link: string; newEmail: string; expiresInText: string };
  email_changed: { oldEmail: string; newEmail: string; at: string; resetUrl: string };
  account_blocked: { ip: string; location: string; at: string; attempts: number; unblockLink: string; expiresInText: string; resetUrl: string };
  login_link: { link: string; expiresInText: string };
  password_breached: { resetLink: string; expiresInText: string; ip: string | null };
  password_breached_digest: { day: string; logins: { email: string; at: string; ip: string | null }[]; consoleUrl: string };
  password_breached_admin: { userEmail: string; at: string; ip: string | null; consoleUrl: string };
  ip_throttled_alert: { ip: string; location: string; at: string; capacity: number; identifier: string | null; releaseCommand: string; consoleUrl: string };
  passkey_added: { passkeyName: string; at: string; ip: string | null; accountUrl: string; resetUrl: string };
  passkey_removed: { passkeyName: string; at: string; ip: string | null; accountUrl: string; resetUrl: string };
  mfa_enabled: { at: string; ip: string | null; accountUrl: string; resetUrl: string };
  recovery_code_used: { at: string; ip: string | null; remaining: number; accountUrl: string; resetUrl: string };
  login_code: { code: string; expiresInText: string; ip: string | null; location: string; resetUrl: string };
  mfa_reset: { at: string; accountUrl: string; resetUrl: string };
  /** To the admins of the user's organization: a risky login attempt was stopped (`blocked`) or held for a second factor (`step_up`). `reasons` are human sentences. */
  risk_alert_admin: { userEmail: string; ip: string; location: string; device: string; at: string; reasons: string[]; action: 'blocked' | 'step_up'; consoleUrl: string };
  /** To the user: a successful sign-in from a device not seen before. */
  new_sign_in: { at: string; ip: string; location: string; device: string; accountUrl: string; resetUrl: string };
}

export type TemplateName = keyof TemplateData;

/** Branding shared by every template (configurable). */
export interface MailBranding {
  productName: string;
  logoUrl: string | null;
  supportContact: string | null;
  publicUrl: string;
}

export interface Mailer {
  /** Renders the template and writes it to the durable outbox; delivery happens in the worker. Returns the outbox id. */
  enqueue<T extends TemplateName>(to: string, template: T, data: TemplateData[T]): Promise<string>;
}
