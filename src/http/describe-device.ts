// Human descriptions of a session's device for the account page.
import { describeFamily, deviceFamily } from '../protection/risk/device-family.js';

export function describeDevice(userAgent: string | null): string {
  return userAgent ? describeFamily(deviceFamily(userAgent)) : 'Unknown device';
}
