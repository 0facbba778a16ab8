// Gathers the bot signals' numbers from the counters, decides whether to challenge, and checks CAPTCHA solutions.
import type { CounterStore, OnceStore } from '../../store/store.js';
import type { CaptchaChallenge, CaptchaProvider, CaptchaVerdict } from '../captcha/captcha-provider.js';
import { CAPTCHA_FIELDS } from '../captcha/captcha-provider.js';
import { collectFindings, type Finding } from './signals.js';
import type { BotThresholds } from './sensitivity.js';
import { decideBot } from './bot-decision.js';
import { issueProofChallenge, verifyProof } from './browser-proof.js';

export type BotMode = 'never' | 'when_risky' | 'always';
export type FlowType = 'login' | 'signup' | 'reset';

export interface BotGuardDeps {
  counters: CounterStore;
  once: OnceStore;
  reputation: { lookup(ip: string): { list: string } | null } | null;
  proofKey: Buffer;
  thresholds: BotThresholds;
  modes: Record<FlowType, BotMode>;
  monitorOnly: boolean;
  /** The challenge shown first (image by default), and the accessible alternative (proof of work). */
  primary: CaptchaProvider;
  alternative: CaptchaProvider | null;
}

export type BotAssessment = { action: 'allow'; findings: Finding[] } | { action: 'challenge'; reasons: string[]; monitorOnly: boolean; findings: Finding[] };

export interface BotGuard {
  /** Counts this attempt (per IP, per identifier, globally) and decides. */
  assess(flow: FlowType, input: { ip: string; ipKey: string; identifier: string; userAgent: string | null; transactionId: string; proof: unknown }, now: number): Promise<BotAssessment>;
  verify(transactionId: string, fields: Record<string, string | undefined>, remoteIp: string, now: number): Promise<CaptchaVerdict>;
  recordFailure(ipKey: string, now: number): Promise<void>;
  issue(transactionId: string, now: number): Promise<{ primary: CaptchaChallenge; alternative: CaptchaChallenge | null }>;
  issuePrimary(transactionId: string, now: number): Promise<CaptchaChallenge>;
  proofChallenge(transactionId: string, now: number): { nonce: string; issuedAt: number };
  mode(flow: FlowType): BotMode;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const GLOBAL_WINDOW = 5 * MINUTE;

export function createBotGuard(deps: BotGuardDeps): BotGuard {
  const { counters } = deps;
  return {
    mode: (flow) => deps.modes[flow],
    async assess(flow, input, now) {
      const mode = deps.modes[flow];
      if (mode === 'never') return { action: 'allow', findings: [] };
      const window = Math.floor(now / GLOBAL_WINDOW);
      const [attemptsLastMinute, attemptsLastHour, newIdentifier, failuresLastHour, globalNow, globalBefore] = await Promise.all([
        counters.hit(`bot:a1m:${input.ipKey}`, MINUTE, now),
        counters.hit(`bot:a1h:${input.ipKey}`, HOUR, now),
        deps.once.claim(`bot:id:${input.ipKey}:${input.identifier}`, HOUR, now),
        counters.get(`bot:f1h:${input.ipKey}`, HOUR, now),
        counters.get(`bot:gf:${window}`, GLOBAL_WINDOW, now),
        counters.get(`bot:gf:${window - 1}`, GLOBAL_WINDOW, now - GLOBAL_WINDOW),
      ]);
      const distinctIdentifiersLastHour = newIdentifier ? await counters.hit(`bot:ids:${input.ipKey}`, HOUR, now) : await counters.get(`bot:ids:${input.ipKey}`, HOUR, now);
      const proof = verifyProof(deps.proofKey, input.transactionId, input.proof, now, deps.thresholds.proofMaxAgeMs);
      const findings = collectFindings(
        {
          attemptsLastMinute,
          distinctIdentifiersLastHour,
          failuresLastHour,
          attemptsLastHour,
          globalFailuresLastWindow: globalNow,
          globalBaselinePerWindow: globalBefore,
          proof: proof.status,
          pageServedAt: proof.status === 'valid' ? proof.pageServedAt : null,
          userAgent: input.userAgent,
          ipListedIn: deps.reputation?.lookup(input.ip)?.list ?? null,
        },
        now,
        deps.thresholds,
      );
      const decision = decideBot(findings, mode, { monitorOnly: deps.monitorOnly, allowlisted: false });
      return decision.action === 'allow' ? { action: 'allow', findings } : { ...decision, findings };
    },
    async verify(transactionId, fields, remoteIp, now) {
      const usesAlternative = deps.alternative && (fields[CAPTCHA_FIELDS.pow] ?? '') !== '';
      const provider = usesAlternative ? (deps.alternative as CaptchaProvider) : deps.primary;
      return provider.verify(transactionId, fields, now, { remoteIp });
    },
    async recordFailure(ipKey, now) {
      await counters.hit(`bot:f1h:${ipKey}`, HOUR, now);
      await counters.hit(`bot:gf:${Math.floor(now / GLOBAL_WINDOW)}`, GLOBAL_WINDOW, now);
    },
    async issue(transactionId, now) {
      const [primary, alternative] = await Promise.all([deps.primary.issue(transactionId, now), deps.alternative?.issue(transactionId, now) ?? null]);
      return { primary, alternative };
    },
    issuePrimary: (transactionId, now) => deps.primary.issue(transactionId, now),
    proofChallenge: (transactionId, now) => issueProofChallenge(deps.proofKey, transactionId, now),
  };
}
