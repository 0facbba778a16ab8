// Maps our users to OIDC accounts and claims.
import type { FindAccount } from 'oidc-provider';
import type { UserStore } from '../store/store.js';

/** `sessionEnd` gives the absolute end (epoch seconds) of the session behind the code or refresh token being redeemed. */
export function findAccountIn(users: UserStore, sessionEnd: (token: unknown) => number | null = () => null): FindAccount {
  return async (_ctx, sub, token) => {
    const user = await users.findById(sub);
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      async claims() {
        return {
          sub: user.id,
          email: user.email,
          email_verified: user.emailVerified,
          name: user.name ?? undefined,
          updated_at: Math.floor(user.updatedAt / 1000),
          session_expires_at: sessionEnd(token) ?? undefined,
        };
      },
    };
  };
}
