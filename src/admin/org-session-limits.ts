// An organization's own session limits: shorter than the deployment's, never longer. Setting them also shortens the
// open sessions of its members at once, so a tightened policy does not wait for everyone to sign in again.
import type { Clock } from '../domain/clock.js';
import { PortcullisError } from '../domain/errors.js';
import type { Org } from '../domain/types.js';
import { formatDuration } from '../config/duration.js';
import type { Store } from '../store/store.js';

export interface SessionLimitsMs {
  idleMs: number;
  absoluteMs: number;
}

/** A limit left out keeps the organization's current one; `'clear'` goes back to the deployment's for both. */
export type OrgSessionLimitsInput = { idleMs?: number; absoluteMs?: number } | 'clear';

export interface OrgSessionLimitsResult {
  org: Org;
  /** What now applies to the organization's sessions: its own limits, else the deployment's. */
  effective: SessionLimitsMs;
  /** Open sessions whose limits were shortened. */
  sessionsCapped: number;
}

export const MIN_IDLE_MS = 60_000;

const invalid = (message: string) => new PortcullisError('invalid_input', { message });

/** The limits an organization's sessions get: its own, else the deployment's (and never longer than the deployment's). */
export function effectiveSessionLimits(org: Pick<Org, 'sessionIdleMs' | 'sessionAbsoluteMs'>, deployment: SessionLimitsMs): SessionLimitsMs {
  return {
    idleMs: Math.min(org.sessionIdleMs ?? deployment.idleMs, deployment.idleMs),
    absoluteMs: Math.min(org.sessionAbsoluteMs ?? deployment.absoluteMs, deployment.absoluteMs),
  };
}

export async function setOrgSessionLimits(
  deps: { store: Store; clock: Clock },
  orgName: string,
  input: OrgSessionLimitsInput,
  deploymentLimits: SessionLimitsMs,
): Promise<OrgSessionLimitsResult> {
  const org = await deps.store.orgs.findByName(orgName);
  if (!org) throw invalid(`No organization named "${orgName}". List them with: portcullis org list`);

  let own: { idleMs: number | null; absoluteMs: number | null };
  if (input === 'clear') {
    own = { idleMs: null, absoluteMs: null };
  } else {
    if (input.idleMs === undefined && input.absoluteMs === undefined) throw invalid('Give an idle limit, an absolute limit, or clear them.');
    for (const [name, value] of [['idle', input.idleMs], ['absolute', input.absoluteMs]] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) throw invalid(`The ${name} limit must be a positive duration.`);
    }
    if (input.idleMs !== undefined && input.idleMs < MIN_IDLE_MS) throw invalid(`The idle limit must be at least ${formatDuration(MIN_IDLE_MS)}.`);
    if (input.idleMs !== undefined && input.idleMs > deploymentLimits.idleMs) {
      throw invalid(`The idle limit ${formatDuration(input.idleMs)} is longer than the deployment maximum of ${formatDuration(deploymentLimits.idleMs)} (sessionIdleTimeout).`);
    }
    if (input.absoluteMs !== undefined && input.absoluteMs > deploymentLimits.absoluteMs) {
      throw invalid(
        `The absolute limit ${formatDuration(input.absoluteMs)} is longer than the deployment maximum of ${formatDuration(deploymentLimits.absoluteMs)} (sessionAbsoluteTimeout).`,
      );
    }
    own = { idleMs: input.idleMs ?? org.sessionIdleMs, absoluteMs: input.absoluteMs ?? org.sessionAbsoluteMs };
    const effective = effectiveSessionLimits({ sessionIdleMs: own.idleMs, sessionAbsoluteMs: own.absoluteMs }, deploymentLimits);
    if (effective.idleMs > effective.absoluteMs) {
      const source = (ownValue: number | null) => (ownValue === null ? ", the deployment's" : '');
      throw invalid(
        `The idle limit (${formatDuration(effective.idleMs)}${source(own.idleMs)}) would be longer than the absolute limit (${formatDuration(effective.absoluteMs)}${source(own.absoluteMs)}). Give a shorter idle limit.`,
      );
    }
  }

  if (!(await deps.store.orgs.setSessionLimits(org.id, own))) throw invalid(`No organization named "${orgName}".`);
  const updated: Org = { ...org, sessionIdleMs: own.idleMs, sessionAbsoluteMs: own.absoluteMs };
  const effective = effectiveSessionLimits(updated, deploymentLimits);
  const sessionsCapped = await deps.store.sessions.capLimitsForOrg(org.id, effective);
  return { org: updated, effective, sessionsCapped };
}
