// Maps our users to OIDC accounts and claims.
import type { FindAccount } from 'oidc-provider';
import type { UserStore } from '../store/store.js';

export function findAccountIn(users: UserStore): FindAccount {
  return async (_ctx, sub) => {
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
        };
      },
    };
  };
}
