// Kysely table types. Integers are epoch milliseconds; PostgreSQL returns bigint as string, so rows are decoded at the boundary.
import type { Generated } from 'kysely';

type Int = number | string | bigint;

export interface Database {
  settings_versions: { revision: Int; values_json: string; updated_by: string; updated_at: Int };
  orgs: { id: string; name: string; name_key: string; created_at: Int; session_idle_ms: Int | null; session_absolute_ms: Int | null };
  users: {
    id: string;
    email: string;
    email_key: string;
    email_verified: Int;
    name: string | null;
    password_hash: string | null;
    org_id: string | null;
    role: string;
    operator: Int;
    disabled: Int;
    created_at: Int;
    updated_at: Int;
  };
  sessions: {
    id: string;
    secret_hash: string;
    user_id: string;
    created_at: Int;
    last_seen_at: Int;
    ip: string | null;
    user_agent: string | null;
    revoked_at: Int | null;
    idle_ms: Int | null;
    absolute_ms: Int | null;
    end_reason: string | null;
    apps_notified_at: Int | null;
  };
  clients: { client_id: string; metadata: string; first_party: Int; created_at: Int };
  signing_keys: { kid: string; alg: string; sealed_jwk: string; created_at: Int };
  link_tokens: {
    id: string;
    purpose: string;
    secret_hash: string;
    user_id: string | null;
    data: string;
    created_at: Int;
    expires_at: Int;
    used_at: Int | null;
  };
  events: {
    seq: Generated<number>;
    id: string;
    at: Int;
    code: string;
    user_id: string | null;
    identifier: string | null;
    ip: string | null;
    user_agent: string | null;
    client_id: string | null;
    outcome: string;
    reason: string | null;
    details: string;
  };
  outbox: {
    id: string;
    to_address: string;
    template: string;
    sealed_content: string | null;
    status: string;
    attempts: Int;
    next_attempt_at: Int;
    locked_until: Int | null;
    last_error: string | null;
    created_at: Int;
    sent_at: Int | null;
  };
  dev_mailbox: { id: string; to_address: string; subject: string; text_body: string; html_body: string; received_at: Int };
  counters: { key: string; window_start: Int; count: Int };
  login_attempts: { identifier: string; ip_key: string; count: Int; last_at: Int };
  rate_buckets: { key: string; tokens: number | string; updated_at: Int };
  once_keys: { key: string; expires_at: Int };
  ip_lists: { name: string; revision: Int; updated_at: Int };
  ip_list_entries: { list_name: string; cidr: string; note: string | null; added_at: Int };
  mfa_totp: {
    user_id: string;
    sealed_secret: string | null;
    sealed_pending_secret: string | null;
    pending_at: Int | null;
    last_step: Int | null;
    created_at: Int;
    confirmed_at: Int | null;
  };
  recovery_codes: { user_id: string; code_hash: string; used_at: Int | null; created_at: Int };
  passkeys: {
    id: string;
    user_id: string;
    credential_id: string;
    public_key: string;
    counter: Int;
    transports: string;
    backup_eligible: Int;
    backed_up: Int;
    device_type: string;
    aaguid: string;
    name: string;
    created_at: Int;
    last_used_at: Int | null;
  };
  known_devices: {
    id: string;
    user_id: string;
    device_hash: string;
    browser: string | null;
    os: string | null;
    first_seen_at: Int;
    last_seen_at: Int;
    last_ip: string | null;
    last_location: string | null;
  };
  login_locations: {
    id: Generated<Int>;
    user_id: string;
    at: Int;
    ip: string;
    country_code: string | null;
    latitude: number | string | null;
    longitude: number | string | null;
    accuracy_km: number | string | null;
    label: string | null;
  };
  webhooks: {
    id: string;
    url: string;
    codes: string;
    sealed_secret: string;
    description: string | null;
    disabled: Int;
    created_at: Int;
  };
  webhook_deliveries: {
    id: string;
    webhook_id: string;
    event_id: string;
    event_code: string;
    payload: string;
    status: string;
    attempts: Int;
    next_attempt_at: Int | null;
    locked_until: Int | null;
    last_status: Int | null;
    last_error: string | null;
    created_at: Int;
    delivered_at: Int | null;
  };
  oidc_models: {
    model: string;
    id: string;
    payload: string;
    grant_id: string | null;
    uid: string | null;
    user_code: string | null;
    account_id: string | null;
    expires_at: Int | null;
    consumed_at: Int | null;
  };
}

export function toInt(value: Int): number;
export function toInt(value: Int | null): number | null;
export function toInt(value: Int | null): number | null {
  return value === null ? null : Number(value);
}
