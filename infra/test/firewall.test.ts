/** The optional WAF web ACL (`-c waf=true`): its rules, its stage, and cdk-nag's APIG3 met. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Validations } from 'aws-cdk-lib';

import { REPO_ROOT, synth } from './support.js';

type Json = any; // template fragments are untyped JSON

// Synthesis runs cdk-nag: it would throw on an unacknowledged APIG3 finding.
const guarded = synth({ stage: 'prod', waf: true });
const plain = synth({ stage: 'prod' });

const acknowledged = (s: typeof plain) =>
  s.stack.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.keys(m.data as Record<string, string>).map((k) => k.replace(/^Annotation::/, '')));

describe('WAF (-c waf=true)', () => {
  it('is off unless asked for, and APIG3 is then acknowledged', () => {
    plain.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    synth({ stage: 'dev' }).template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    assert.ok(acknowledged(plain).includes('AwsSolutions-APIG3'));
  });

  it('guards the stage with a regional web ACL, so APIG3 is met rather than acknowledged', () => {
    const acl = Object.values(guarded.template.findResources('AWS::WAFv2::WebACL'));
    assert.equal(acl.length, 1);
    assert.equal(acl[0]!.Properties.Scope, 'REGIONAL');
    assert.deepEqual(acl[0]!.Properties.DefaultAction, { Allow: {} });
    assert.ok(!acknowledged(guarded).includes('AwsSolutions-APIG3'));

    const [aclId] = Object.keys(guarded.template.findResources('AWS::WAFv2::WebACL'));
    const [restApiId] = Object.keys(guarded.template.findResources('AWS::ApiGateway::RestApi'));
    const association = Object.values(guarded.template.findResources('AWS::WAFv2::WebACLAssociation'));
    assert.equal(association.length, 1);
    assert.deepEqual(association[0]!.Properties.WebACLArn, { 'Fn::GetAtt': [aclId, 'Arn'] });
    const arn = JSON.stringify(association[0]!.Properties.ResourceArn);
    assert.ok(arn.includes(`{"Ref":"${restApiId}"}`) && arn.includes('/stages/'), arn);
  });

  it('blocks one address over 1,500 requests in 5 minutes, and applies AWS common rules', () => {
    const rules = Object.values(guarded.template.findResources('AWS::WAFv2::WebACL'))[0]!.Properties.Rules as Json[];
    const rate = rules.find((r) => r.Statement.RateBasedStatement)!;
    assert.deepEqual(rate.Action, { Block: {} });
    assert.deepEqual(rate.Statement.RateBasedStatement, { Limit: 1500, AggregateKeyType: 'IP', EvaluationWindowSec: 300 });
    const common = rules.find((r) => r.Statement.ManagedRuleGroupStatement)!;
    assert.equal(common.Statement.ManagedRuleGroupStatement.VendorName, 'AWS');
    assert.equal(common.Statement.ManagedRuleGroupStatement.Name, 'AWSManagedRulesCommonRuleSet');
    assert.deepEqual(common.OverrideAction, { None: {} });
  });

  it("only counts the common rules that would refuse the contract's own requests", () => {
    const rules = Object.values(guarded.template.findResources('AWS::WAFv2::WebACL'))[0]!.Properties.Rules as Json[];
    const overrides = rules.find((r) => r.Statement.ManagedRuleGroupStatement)!.Statement.ManagedRuleGroupStatement
      .RuleActionOverrides as Json[];
    // A recipe may be 350,000 bytes (the rule blocks bodies over 8 KB); clients need no User-Agent.
    assert.deepEqual(
      overrides.map((o) => [o.Name, o.ActionToUse]),
      [
        ['SizeRestrictions_BODY', { Count: {} }],
        ['NoUserAgent_HEADER', { Count: {} }],
      ],
    );
  });

  it('passes cfn-lint', () => {
    const venv = join(REPO_ROOT, '.venv/bin/cfn-lint');
    const cfnLint = existsSync(venv) ? venv : 'cfn-lint';
    const run = spawnSync(cfnLint, ['--ignore-checks', 'W3005', '--', guarded.templatePath], { encoding: 'utf8' });
    assert.equal(run.status, 0, `cfn-lint exit ${run.status}:\n${run.stdout}${run.stderr}`);
  });
});
