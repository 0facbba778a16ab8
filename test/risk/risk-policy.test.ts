// The risk policy over findings: the default rules, custom rules with confidence thresholds, and rule descriptions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRisk, DEFAULT_RISK_RULES, describeRule } from '../../src/protection/risk/risk-policy.js';
import { RISK_CONDITIONS, type Confidence, type Finding, type RiskAction, type RiskCondition, type RiskRule } from '../../src/protection/risk/risk-types.js';

/** All four findings: the listed ones fired at the given confidence, the others quiet. */
function findings(fired: Partial<Record<RiskCondition, Confidence>>): Finding[] {
  return RISK_CONDITIONS.map((code) => {
    const confidence = fired[code];
    return confidence
      ? { code, fired: true, confidence, evidence: { reason: 'test' } }
      : { code, fired: false, confidence: 'low', evidence: { reason: 'quiet' } };
  });
}

interface Case {
  name: string;
  fired: Partial<Record<RiskCondition, Confidence>>;
  action: RiskAction | 'allow';
  matched: string[];
}

function check(cases: Case[], rules: readonly RiskRule[]): void {
  for (const c of cases) {
    it(`${c.name} → ${c.action}`, () => {
      const decision = decideRisk(findings(c.fired), rules);
      assert.equal(decision.action, c.action, 'action');
      assert.deepEqual(decision.matched, c.matched, 'matched rules, in policy order');
    });
  }
}

describe('decideRisk with DEFAULT_RISK_RULES', () => {
  check(
    [
      { name: 'nothing fired', fired: {}, action: 'allow', matched: [] },
      { name: 'new_device alone (low)', fired: { new_device: 'low' }, action: 'log', matched: ['new_device → log'] },
      { name: 'new_device alone (medium)', fired: { new_device: 'medium' }, action: 'log', matched: ['new_device → log'] },
      { name: 'new_country alone', fired: { new_country: 'medium' }, action: 'log', matched: ['new_country → log'] },
      { name: 'impossible_travel (medium)', fired: { impossible_travel: 'medium' }, action: 'block', matched: ['impossible_travel → block'] },
      { name: 'impossible_travel (high)', fired: { impossible_travel: 'high' }, action: 'block', matched: ['impossible_travel → block'] },
      { name: 'untrusted_ip alone', fired: { untrusted_ip: 'high' }, action: 'require_mfa', matched: ['untrusted_ip → require_mfa'] },
      {
        name: 'untrusted_ip + new_device: strongest wins',
        fired: { untrusted_ip: 'high', new_device: 'medium' },
        action: 'block',
        matched: ['new_device+untrusted_ip → block', 'untrusted_ip → require_mfa', 'new_device → log'],
      },
      {
        name: 'new_country + new_device',
        fired: { new_country: 'medium', new_device: 'medium' },
        action: 'require_mfa',
        matched: ['new_country+new_device → require_mfa', 'new_country → log', 'new_device → log'],
      },
      {
        name: 'impossible_travel + new_device',
        fired: { impossible_travel: 'medium', new_device: 'low' },
        action: 'block',
        matched: ['impossible_travel → block', 'new_device → log'],
      },
      {
        name: 'untrusted_ip + new_country (no new device)',
        fired: { untrusted_ip: 'high', new_country: 'medium' },
        action: 'require_mfa',
        matched: ['untrusted_ip → require_mfa', 'new_country → log'],
      },
      {
        name: 'everything fired',
        fired: { impossible_travel: 'high', untrusted_ip: 'high', new_country: 'medium', new_device: 'high' },
        action: 'block',
        matched: [
          'impossible_travel → block',
          'new_device+untrusted_ip → block',
          'untrusted_ip → require_mfa',
          'new_country+new_device → require_mfa',
          'new_country → log',
          'new_device → log',
        ],
      },
    ],
    DEFAULT_RISK_RULES,
  );

  it('ignores quiet findings, whatever their confidence', () => {
    const quiet: Finding[] = RISK_CONDITIONS.map((code) => ({ code, fired: false, confidence: 'high', evidence: {} }));
    assert.deepEqual(decideRisk(quiet, DEFAULT_RISK_RULES), { action: 'allow', matched: [] });
  });

  it('decides on fired findings even when quiet ones are absent', () => {
    const only: Finding[] = [{ code: 'untrusted_ip', fired: true, confidence: 'high', evidence: {} }];
    assert.equal(decideRisk(only, DEFAULT_RISK_RULES).action, 'require_mfa');
    assert.deepEqual(decideRisk([], DEFAULT_RISK_RULES), { action: 'allow', matched: [] });
  });
});

describe('decideRisk with custom rules', () => {
  describe('minConfidence', () => {
    const rules: RiskRule[] = [{ when: ['impossible_travel'], action: 'block', minConfidence: 'high' }];
    check(
      [
        { name: 'high rule, low finding', fired: { impossible_travel: 'low' }, action: 'allow', matched: [] },
        { name: 'high rule, medium finding', fired: { impossible_travel: 'medium' }, action: 'allow', matched: [] },
        { name: 'high rule, high finding', fired: { impossible_travel: 'high' }, action: 'block', matched: ['impossible_travel → block'] },
      ],
      rules,
    );

    const medium: RiskRule[] = [{ when: ['new_device'], action: 'require_mfa', minConfidence: 'medium' }];
    check(
      [
        { name: 'medium rule, low finding', fired: { new_device: 'low' }, action: 'allow', matched: [] },
        { name: 'medium rule, medium finding', fired: { new_device: 'medium' }, action: 'require_mfa', matched: ['new_device → require_mfa'] },
        { name: 'medium rule, high finding', fired: { new_device: 'high' }, action: 'require_mfa', matched: ['new_device → require_mfa'] },
      ],
      medium,
    );

    const explicitLow: RiskRule[] = [{ when: ['new_device'], action: 'log', minConfidence: 'low' }];
    check([{ name: 'low rule, low finding', fired: { new_device: 'low' }, action: 'log', matched: ['new_device → log'] }], explicitLow);

    // The threshold applies to every listed condition.
    const both: RiskRule[] = [{ when: ['untrusted_ip', 'new_device'], action: 'block', minConfidence: 'medium' }];
    check(
      [
        { name: 'two-condition medium rule, one condition low', fired: { untrusted_ip: 'high', new_device: 'low' }, action: 'allow', matched: [] },
        { name: 'two-condition medium rule, both at least medium', fired: { untrusted_ip: 'high', new_device: 'medium' }, action: 'block', matched: ['new_device+untrusted_ip → block'] },
      ],
      both,
    );

    // A confident rule for block and a catch-all below it: a medium finding only gets the weaker action.
    const tiered: RiskRule[] = [
      { when: ['impossible_travel'], action: 'block', minConfidence: 'high' },
      { when: ['impossible_travel'], action: 'require_mfa' },
    ];
    check(
      [
        { name: 'tiered rules, medium finding', fired: { impossible_travel: 'medium' }, action: 'require_mfa', matched: ['impossible_travel → require_mfa'] },
        { name: 'tiered rules, high finding', fired: { impossible_travel: 'high' }, action: 'block', matched: ['impossible_travel → block', 'impossible_travel → require_mfa'] },
      ],
      tiered,
    );
  });

  describe('a rule listing two conditions needs both', () => {
    const rules: RiskRule[] = [{ when: ['impossible_travel', 'new_country'], action: 'block' }];
    check(
      [
        { name: 'neither', fired: {}, action: 'allow', matched: [] },
        { name: 'only impossible_travel', fired: { impossible_travel: 'high' }, action: 'allow', matched: [] },
        { name: 'only new_country', fired: { new_country: 'medium' }, action: 'allow', matched: [] },
        { name: 'other conditions only', fired: { new_device: 'high', untrusted_ip: 'high' }, action: 'allow', matched: [] },
        { name: 'both', fired: { impossible_travel: 'medium', new_country: 'medium' }, action: 'block', matched: ['impossible_travel+new_country → block'] },
      ],
      rules,
    );
  });

  describe('the strongest action wins whatever the rule order', () => {
    const rules: RiskRule[] = [
      { when: ['new_device'], action: 'log' },
      { when: ['new_device'], action: 'block' },
      { when: ['new_device'], action: 'require_mfa' },
    ];
    check([{ name: 'log, block, require_mfa', fired: { new_device: 'low' }, action: 'block', matched: ['new_device → log', 'new_device → block', 'new_device → require_mfa'] }], rules);

    const weakFirst: RiskRule[] = [
      { when: ['untrusted_ip'], action: 'log' },
      { when: ['new_country'], action: 'require_mfa' },
    ];
    check([{ name: 'log then require_mfa', fired: { untrusted_ip: 'high', new_country: 'medium' }, action: 'require_mfa', matched: ['untrusted_ip → log', 'new_country → require_mfa'] }], weakFirst);

    const strongFirst: RiskRule[] = [
      { when: ['new_country'], action: 'require_mfa' },
      { when: ['untrusted_ip'], action: 'log' },
    ];
    check([{ name: 'require_mfa then log', fired: { untrusted_ip: 'high', new_country: 'medium' }, action: 'require_mfa', matched: ['new_country → require_mfa', 'untrusted_ip → log'] }], strongFirst);
  });

  describe('empty rules', () => {
    check(
      [
        { name: 'nothing fired, no rules', fired: {}, action: 'allow', matched: [] },
        { name: 'everything fired, no rules', fired: { impossible_travel: 'high', untrusted_ip: 'high', new_country: 'medium', new_device: 'high' }, action: 'allow', matched: [] },
      ],
      [],
    );
  });
});

describe('describeRule', () => {
  const cases: { rule: RiskRule; text: string }[] = [
    { rule: { when: ['impossible_travel'], action: 'block' }, text: 'impossible_travel → block' },
    { rule: { when: ['untrusted_ip', 'new_device'], action: 'block' }, text: 'new_device+untrusted_ip → block' },
    { rule: { when: ['new_device', 'untrusted_ip'], action: 'block' }, text: 'new_device+untrusted_ip → block' },
    { rule: { when: ['new_country', 'new_device'], action: 'require_mfa' }, text: 'new_country+new_device → require_mfa' },
    { rule: { when: ['untrusted_ip', 'new_country', 'impossible_travel', 'new_device'], action: 'log' }, text: 'impossible_travel+new_country+new_device+untrusted_ip → log' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.rule.when)} ${c.rule.action} → "${c.text}"`, () => {
      const before = [...c.rule.when];
      assert.equal(describeRule(c.rule), c.text);
      assert.deepEqual(c.rule.when, before, 'the rule\'s own list is not sorted in place');
    });
  }

  it('describes the default policy', () => {
    assert.deepEqual(DEFAULT_RISK_RULES.map(describeRule), [
      'impossible_travel → block',
      'new_device+untrusted_ip → block',
      'untrusted_ip → require_mfa',
      'new_country+new_device → require_mfa',
      'new_country → log',
      'new_device → log',
    ]);
  });
});
