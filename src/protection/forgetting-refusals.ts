// Store decorators that keep the refusal memory honest: whatever lifts a block or returns throttle tokens through
// this node (unblock link, console, API, a correct password) also forgets what was remembered about it.
import type { AttemptStore, RateLimitStore } from '../store/store.js';
import type { RefusalMemo } from './refusal-memo.js';

const THROTTLE_PREFIX = 'login-fail:';

export function forgettingRefusals(stores: { attempts: AttemptStore; buckets: RateLimitStore }, refusals: RefusalMemo): { attempts: AttemptStore; buckets: RateLimitStore } {
  const { attempts, buckets } = stores;
  const forgetThrottle = (key: string): void => {
    if (key.startsWith(THROTTLE_PREFIX)) refusals.forget({ ipKey: key.slice(THROTTLE_PREFIX.length) });
  };
  return {
    attempts: {
      ...attempts,
      async clear(identifier, ipKey) {
        refusals.forget({ identifier, ipKey });
        return attempts.clear(identifier, ipKey);
      },
      async clearIdentifier(identifier) {
        refusals.forget({ identifier });
        return attempts.clearIdentifier(identifier);
      },
    },
    buckets: {
      ...buckets,
      async refund(key, capacity) {
        forgetThrottle(key);
        return buckets.refund(key, capacity);
      },
      async reset(key) {
        forgetThrottle(key);
        return buckets.reset(key);
      },
    },
  };
}
