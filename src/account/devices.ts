// The devices a user has signed in from, as the account page shows them, and forgetting them. Every operation is scoped to the user.
import type { KnownDevice } from '../store/store.js';
import type { AccountDeps, RequestContext } from './account-deps.js';

/** The user's devices seen within the remember window, most recently seen first. */
export async function listKnownDevices(deps: Pick<AccountDeps, 'store' | 'clock'>, userId: string, rememberForMs: number): Promise<KnownDevice[]> {
  return deps.store.devices.listForUser(userId, deps.clock.now() - rememberForMs);
}

/**
 * Forgets one of the user's own devices: its next sign-in counts as a new device. Returns false, and records nothing,
 * when the user has no device with this id (a wrong id, another user's device, or one already forgotten).
 */
export async function forgetDevice(deps: Pick<AccountDeps, 'store' | 'clock'>, userId: string, deviceId: string, context: RequestContext): Promise<boolean> {
  // Read before deleting, for the event's details; any age, since the store keeps rows past the window until pruned.
  const device = (await deps.store.devices.listForUser(userId, 0)).find((d) => d.id === deviceId);
  if (!device) return false;
  const removed = await deps.store.devices.forget(userId, device.id);
  if (!removed) return false;
  await deps.store.events.append(
    { code: 'device_forgotten', outcome: 'success', userId, ip: context.ip, userAgent: context.userAgent, details: { device_id: device.id, browser: device.browser, os: device.os } },
    deps.clock.now(),
  );
  return true;
}

/** Forgets every device of the user; records one event when there was anything to forget. Returns how many. */
export async function forgetAllDevices(deps: Pick<AccountDeps, 'store' | 'clock'>, userId: string, context: RequestContext): Promise<number> {
  const count = await deps.store.devices.forgetAll(userId);
  if (count > 0) {
    await deps.store.events.append({ code: 'device_forgotten', outcome: 'success', userId, ip: context.ip, userAgent: context.userAgent, details: { count } }, deps.clock.now());
  }
  return count;
}
