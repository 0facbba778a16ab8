// Default passkey names: the provider behind a known AAGUID, otherwise the browser and OS that created it.
import { UAParser } from 'ua-parser-js';

/**
 * A few common passkey providers (from the community list at github.com/passkeydeveloper/passkey-authenticator-aaguids).
 * Unknown or all-zero AAGUIDs (attestation "none" may zero it) fall back to the user agent.
 */
export const KNOWN_AAGUIDS: Readonly<Record<string, string>> = {
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'dd4ec289-e01d-41c9-bb89-70fa845d4bf2': 'iCloud Keychain (Managed)',
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
};

export const MAX_PASSKEY_NAME_LENGTH = 64;

export function nameFromUserAgent(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const { browser, os } = new UAParser(userAgent).getResult();
  if (!browser.name) return null;
  return os.name ? `${browser.name} on ${os.name}` : browser.name;
}

/** "iCloud Keychain", else "Chrome on Linux", else "Passkey"; numbered when the user already has one so named. */
export function defaultPasskeyName(aaguid: string | null, userAgent: string | null, taken: readonly string[] = []): string {
  const base = (aaguid ? KNOWN_AAGUIDS[aaguid.toLowerCase()] : undefined) ?? nameFromUserAgent(userAgent) ?? 'Passkey';
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base} (${n})`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Trims and collapses whitespace; null when empty or too long (the caller says why). */
export function normalizePasskeyName(name: string): string | null {
  // Control characters would only garble the account page and the emails.
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
  if (!cleaned || cleaned.length > MAX_PASSKEY_NAME_LENGTH) return null;
  return cleaned;
}
