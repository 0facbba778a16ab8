// The shape every background reload shares (signing keys, runtime settings, IP lists, geolocation data): one check
// at a time, and a timer that never keeps the process alive.

/** Wraps `check` so that concurrent callers share the run in progress instead of starting another. */
export function singleFlight<T>(check: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= check().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

/**
 * Runs `task` every `intervalMs` (0: never) without keeping the process alive; a failure goes to `onError` and the
 * next tick tries again. Returns the function that stops it.
 */
export function every(intervalMs: number, task: () => Promise<unknown>, onError: (error: unknown) => void): () => void {
  if (intervalMs <= 0) return () => undefined;
  const timer = setInterval(() => {
    task().catch(onError);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
