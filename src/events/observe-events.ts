// Lets other parts (metrics, webhooks) see every recorded security event, without the event log knowing them.
import type { EventStore } from '../store/store.js';
import type { SecurityEvent } from './event-codes.js';

export type EventObserver = (event: SecurityEvent) => void | Promise<void>;

/**
 * An event store whose append also runs each observer (awaited, in order) on the recorded event. An observer that
 * fails is reported to `onError` and never fails the append: the event is recorded either way.
 */
export function observeEvents(events: EventStore, observers: readonly EventObserver[], onError: (error: unknown, event: SecurityEvent) => void): EventStore {
  return {
    ...events,
    async append(input, now) {
      const saved = await events.append(input, now);
      for (const observe of observers) {
        try {
          await observe(saved);
        } catch (error) {
          onError(error, saved);
        }
      }
      return saved;
    },
  };
}
