/** The chat relay: an arm64 function on the alarm topic, its secret read by it alone, runbooks that exist. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { UNCONFIGURED_CHAT_SECRET } from '../lib/chat-relay.js';
import { stageConfig } from '../lib/stage.js';
import { REPO_ROOT, synth } from './support.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Json = { Resources: Record<string, Resource>; Outputs: Record<string, { Value: unknown }> };

const RUNBOOK = 'https://github.com/acme/gota/blob/main/doc/operations.md';
const dev = synth({ stage: 'dev' }).template.toJSON() as Json;
const prod = synth({ stage: 'prod', alarmEmail: 'oncall@example.com', runbookUrl: RUNBOOK }).template.toJSON() as Json;

const ofType = (t: Json, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const one = (t: Json, type: string, idPrefix: string): [string, Resource] => {
  const found = ofType(t, type).filter(([id]) => id.startsWith(idPrefix));
  assert.equal(found.length, 1, `one ${type} ${idPrefix}*`);
  return found[0]!;
};
const relayFunction = (t: Json) => one(t, 'AWS::Lambda::Function', 'ChatRelayFunction');
const chatSecret = (t: Json) => one(t, 'AWS::SecretsManager::Secret', 'ChatRelaySecret');
const alarmTopic = (t: Json) => one(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
const statementsOf = (t: Json, roleId: string) =>
  ofType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
const asList = (x: unknown) => (Array.isArray(x) ? x : [x]);

describe('chat relay function', () => {
  it('is an arm64 provided.al2023 function with the secret ARN, never the secret, in its environment', () => {
    for (const t of [dev, prod]) {
      const [, fn] = relayFunction(t);
      const [secretId] = chatSecret(t);
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Runtime, 'provided.al2023');
      assert.equal(fn.Properties.Handler, 'bootstrap');
      const env = fn.Properties.Environment.Variables;
      assert.deepEqual(env.GOTA_RELAY_SECRET_ARN, { Ref: secretId });
      assert.ok(env.GOTA_RELAY_DASHBOARD_URL, 'links the dashboard');
      assert.doesNotMatch(JSON.stringify(env), /resolve:secretsmanager/);
    }
    assert.equal(relayFunction(prod)[1].Properties.Environment.Variables.GOTA_RELAY_RUNBOOK_URL, RUNBOOK);
    assert.equal(relayFunction(dev)[1].Properties.Environment.Variables.GOTA_RELAY_RUNBOOK_URL, undefined);
  });

  it('refuses a runbook URL that is not https', () => {
    assert.throws(() => stageConfig('dev', { runbookUrl: 'http://example.com/ops' }), /runbookUrl must be an https/);
  });

  it('is subscribed to the alarm topic, and only SNS from that topic may invoke it', () => {
    for (const t of [dev, prod]) {
      const [fnId] = relayFunction(t);
      const [topicId] = alarmTopic(t);
      const subscription = ofType(t, 'AWS::SNS::Subscription').filter(([, s]) => s.Properties.Protocol === 'lambda');
      assert.equal(subscription.length, 1);
      assert.deepEqual(subscription[0]![1].Properties.TopicArn, { Ref: topicId });
      assert.deepEqual(subscription[0]![1].Properties.Endpoint, { 'Fn::GetAtt': [fnId, 'Arn'] });
      const permissions = ofType(t, 'AWS::Lambda::Permission').filter(
        ([, p]) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
      );
      assert.equal(permissions.length, 1);
      assert.equal(permissions[0]![1].Properties.Principal, 'sns.amazonaws.com');
      assert.deepEqual(permissions[0]![1].Properties.SourceArn, { Ref: topicId });
    }
  });

  it('retries a failed delivery twice, for at most an hour', () => {
    const [fnId] = relayFunction(dev);
    const [, config] = one(dev, 'AWS::Lambda::EventInvokeConfig', 'ChatRelayFunction');
    assert.deepEqual(config.Properties.FunctionName, { Ref: fnId });
    assert.equal(config.Properties.MaximumRetryAttempts, 2);
    assert.equal(config.Properties.MaximumEventAgeInSeconds, 3600);
  });

  it('logs to its own group, kept as long as the stage keeps logs and retained in prod', () => {
    for (const [t, days, policy] of [
      [dev, 14, 'Delete'],
      [prod, 90, 'Retain'],
    ] as const) {
      const [logId, logs] = one(t, 'AWS::Logs::LogGroup', 'ChatRelayLogs');
      assert.equal(logs.Properties.RetentionInDays, days);
      assert.equal(logs.DeletionPolicy, policy);
      assert.deepEqual(relayFunction(t)[1].Properties.LoggingConfig.LogGroup, { Ref: logId });
    }
  });
});

describe('chat secret', () => {
  it('starts as an empty configuration, is output for the operator, and is kept in prod', () => {
    const [id, secret] = chatSecret(prod);
    assert.equal(secret.Properties.SecretString, UNCONFIGURED_CHAT_SECRET);
    assert.equal(secret.DeletionPolicy, 'Retain');
    assert.equal(chatSecret(dev)[1].DeletionPolicy, 'Delete');
    assert.deepEqual(prod.Outputs.ChatSecretArn!.Value, { Ref: id });
  });

  it('is readable by the relay alone, with GetSecretValue only', () => {
    for (const t of [dev, prod]) {
      const [secretId] = chatSecret(t);
      const [, fn] = relayFunction(t);
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = statementsOf(t, roleId);
      const onSecret = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${secretId}"`));
      assert.deepEqual(
        onSecret.map((s) => [s.Effect, s.Action, s.Resource]),
        [['Allow', 'secretsmanager:GetSecretValue', { Ref: secretId }]],
      );
      // Nothing else in the relay's role: its log group, and the secret.
      for (const s of statements) {
        for (const action of asList(s.Action)) assert.match(action, /^(logs:|secretsmanager:GetSecretValue$)/);
        assert.doesNotMatch(JSON.stringify(s.Resource), /"\*"/);
      }
      // No other policy in the stack names the chat secret.
      const elsewhere = ofType(t, 'AWS::IAM::Policy').filter(
        ([, p]) =>
          !(p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId) &&
          JSON.stringify(p.Properties.PolicyDocument).includes(`"${secretId}"`),
      );
      assert.deepEqual(elsewhere, []);
    }
  });
});

describe('alarms and their runbooks', () => {
  /** GitHub's anchor for a Markdown heading. */
  const slug = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
  const anchors = new Set(
    readFileSync(join(REPO_ROOT, 'doc/operations.md'), 'utf8')
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ''))),
  );

  it('every alarm names a runbook section that exists, which the relay turns into a link', () => {
    const alarms = ofType(prod, 'AWS::CloudWatch::Alarm');
    assert.ok(alarms.length >= 6, 'the walk found the alarms');
    for (const [id, alarm] of alarms) {
      const anchor = /Runbook: doc\/operations\.md#([A-Za-z0-9_-]+)/.exec(alarm.Properties.AlarmDescription ?? '')?.[1];
      assert.ok(anchor, `${id} has "Runbook: doc/operations.md#<anchor>" in its description`);
      assert.ok(anchors.has(anchor), `${id}: doc/operations.md has no section #${anchor}`);
    }
  });

  it('alarms when the relay itself fails, on the same topic (email still hears it)', () => {
    const [, alarm] = one(prod, 'AWS::CloudWatch::Alarm', 'ChatRelayErrors');
    const [fnId] = relayFunction(prod);
    const [topicId] = alarmTopic(prod);
    assert.equal(alarm.Properties.MetricName, 'Errors');
    assert.equal(alarm.Properties.Namespace, 'AWS/Lambda');
    assert.deepEqual(alarm.Properties.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fnId } }]);
    assert.equal(alarm.Properties.EvaluationPeriods, 1);
    assert.equal(alarm.Properties.DatapointsToAlarm, 1);
    assert.equal(alarm.Properties.TreatMissingData, 'notBreaching');
    assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topicId }]);
    assert.deepEqual(alarm.Properties.OKActions, [{ Ref: topicId }]);
  });

  it('is never sent its own alarm, which would flap for as long as the chat is broken', () => {
    const [alarmId] = one(prod, 'AWS::CloudWatch::Alarm', 'ChatRelayErrors');
    const [, subscription] = ofType(prod, 'AWS::SNS::Subscription').find(([, s]) => s.Properties.Protocol === 'lambda')!;
    assert.equal(subscription.Properties.FilterPolicyScope, 'MessageBody');
    assert.deepEqual(subscription.Properties.FilterPolicy, { AlarmName: [{ 'anything-but': [{ Ref: alarmId }] }] });
  });
});
