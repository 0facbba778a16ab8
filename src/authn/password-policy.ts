// NIST 800-63B password rules: length 8 to 128, no composition rules. Breach checks come in their own module.
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export type PasswordProblem = { code: 'too_short' | 'too_long'; message: string };

export function checkNewPassword(password: string): PasswordProblem | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return { code: 'too_short', message: `Use at least ${PASSWORD_MIN} characters.` };
  if (length > PASSWORD_MAX) return { code: 'too_long', message: `Use at most ${PASSWORD_MAX} characters.` };
  return null;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{2,}$/;

export function isPlausibleEmail(email: string): boolean {
  return email.length <= 320 && EMAIL.test(email);
}
