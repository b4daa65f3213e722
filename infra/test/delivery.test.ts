/** Safe delivery: the alias API Gateway invokes, the canary release that moves it, its alarms. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Duration } from 'aws-cdk-lib';

import { reservedConcurrencyFor } from '../lib/delivery.js';
import { synth } from './support.js';

type Resource = { Type: string; Properties: Record<string, any>; UpdatePolicy?: Record<string, any> };
const stages = { dev: synth({ stage: 'dev' }).template, prod: synth({ stage: 'prod' }).template };
const resources = (stage: keyof typeof stages) =>
  Object.entries((stages[stage].toJSON() as { Resources: Record<string, Resource> }).Resources);
const ofType = (stage: keyof typeof stages, type: string) => resources(stage).filter(([, r]) => r.Type === type);
const one = (stage: keyof typeof stages, type: string): [string, Resource] => {
  const found = ofType(stage, type);
  assert.equal(found.length, 1, `expected one ${type} in ${stage}`);
  return found[0]!;
};
const apiFunctionId = (stage: keyof typeof stages) =>
  ofType(stage, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![0];

for (const stage of ['dev', 'prod'] as const) {
  describe(`delivery (${stage})`, () => {
    const [aliasId, alias] = one(stage, 'AWS::Lambda::Alias');
    const [groupId, group] = one(stage, 'AWS::CodeDeploy::DeploymentGroup');

    it('has a live alias on a published version of the API function', () => {
      assert.equal(alias.Properties.Name, 'live');
      assert.deepEqual(alias.Properties.FunctionName, { Ref: apiFunctionId(stage) });
      const versionId = alias.Properties.FunctionVersion['Fn::GetAtt'][0];
      const [, version] = ofType(stage, 'AWS::Lambda::Version').find(([id]) => id === versionId)!;
      assert.deepEqual(version.Properties.FunctionName, { Ref: apiFunctionId(stage) });
    });

    it('integrates every proxied method with the alias, never the bare function', () => {
      const integrations = ofType(stage, 'AWS::ApiGateway::Method')
        .map(([, m]) => m.Properties.Integration)
        .filter((i) => i?.Type === 'AWS_PROXY');
      assert.ok(integrations.length >= 20, `only ${integrations.length} proxied methods`);
      for (const integration of integrations) {
        const uri = JSON.stringify(integration.Uri);
        assert.ok(uri.includes(`{"Ref":"${aliasId}"}`), uri);
        assert.ok(!uri.includes(apiFunctionId(stage)), `integration names the bare function: ${uri}`);
      }
    });

    it('lets API Gateway invoke the alias only', () => {
      const permissions = ofType(stage, 'AWS::Lambda::Permission').filter(
        ([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com',
      );
      assert.ok(permissions.length >= 1);
      for (const [id, p] of permissions) assert.deepEqual(p.Properties.FunctionName, { Ref: aliasId }, id);
    });

    it('shifts the alias with CodeDeploy, 10 % for 5 minutes, as a CloudFormation update', () => {
      assert.equal(group.Properties.DeploymentConfigName, 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
      assert.deepEqual(alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.DeploymentGroupName, { Ref: groupId });
      const [appId] = one(stage, 'AWS::CodeDeploy::Application');
      assert.deepEqual(group.Properties.ApplicationName, { Ref: appId });
      assert.equal(one(stage, 'AWS::CodeDeploy::Application')[1].Properties.ComputePlatform, 'Lambda');
    });

    it('rolls back on a failed deployment, a stop, and an alarm', () => {
      const rollback = group.Properties.AutoRollbackConfiguration;
      assert.equal(rollback.Enabled, true);
      for (const event of ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST']) {
        assert.ok(rollback.Events.includes(event), event);
      }
    });

    it("watches the alias's error and p99 duration alarms, judged on the alias itself", () => {
      const config = group.Properties.AlarmConfiguration;
      assert.equal(config.Enabled, true);
      assert.notEqual(config.IgnorePollAlarmFailure, true);
      const watched = config.Alarms.map((a: { Name: { Ref: string } }) => a.Name.Ref).sort();
      const alarms = Object.fromEntries(ofType(stage, 'AWS::CloudWatch::Alarm'));
      const byMetric = Object.fromEntries(
        watched.map((id: string) => [alarms[id]!.Properties.MetricName, alarms[id]!.Properties]),
      );
      assert.deepEqual(Object.keys(byMetric).sort(), ['5XXError', 'Duration', 'Errors']);
      // Handled 5xx answers raise no Lambda error: the stage's 5XXError gates a release too.
      const server = byMetric['5XXError']!;
      assert.equal(server.Namespace, 'AWS/ApiGateway');
      assert.deepEqual(
        server.Dimensions.map((d: { Name: string }) => d.Name).sort(),
        ['ApiName', 'Stage'],
      );
      assert.deepEqual(
        [server.Period, server.Statistic, server.Threshold, server.ComparisonOperator, server.EvaluationPeriods],
        [60, 'Sum', 3, 'GreaterThanOrEqualToThreshold', 1],
      );
      assert.match(server.AlarmDescription, /Runbook: doc\/operations\.md#release-rolled-back/);
      delete byMetric['5XXError'];
      const fn = apiFunctionId(stage);
      for (const alarm of Object.values(byMetric) as Record<string, any>[]) {
        assert.equal(alarm.Namespace, 'AWS/Lambda');
        assert.equal(alarm.Period, 60);
        assert.equal(alarm.TreatMissingData, 'notBreaching');
        assert.deepEqual(alarm.Dimensions, [
          { Name: 'FunctionName', Value: { Ref: fn } },
          { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: fn }, ':live']] } },
        ]);
        assert.match(alarm.AlarmDescription, /Runbook: doc\/operations\.md#release-rolled-back/);
        assert.equal(alarm.AlarmActions.length, 1, 'notifies the alarm topic');
      }
      const errors = byMetric.Errors!;
      assert.deepEqual(
        [errors.Statistic, errors.Threshold, errors.ComparisonOperator, errors.EvaluationPeriods, errors.DatapointsToAlarm],
        ['Sum', 1, 'GreaterThanOrEqualToThreshold', 1, 1],
      );
      const duration = byMetric.Duration!;
      assert.deepEqual(
        [duration.ExtendedStatistic, duration.Threshold, duration.ComparisonOperator, duration.EvaluationPeriods, duration.DatapointsToAlarm],
        ['p99', 1500, 'GreaterThanThreshold', 3, 2],
      );
    });
  });
}

describe('reserved concurrency', () => {
  it('is the larger of rate × p99 (Little’s law) and the burst', () => {
    const cases: [number, number, number, number][] = [
      // rate/s, burst, p99 ms, expected
      [100, 200, 1500, 200], // prod: 150 steady, but API Gateway may admit 200 at once
      [100, 50, 1500, 150],
      [20, 40, 1500, 40],
      [10, 5, 250, 5],
      [7, 1, 1001, 8], // rounds up: 7.007 needs 8 slots
    ];
    for (const [rateLimit, burstLimit, ms, expected] of cases) {
      assert.equal(reservedConcurrencyFor({ rateLimit, burstLimit }, Duration.millis(ms)), expected, `${rateLimit}/${burstLimit}/${ms}`);
    }
  });

  it('is reserved in prod from its throttle, and not in dev', () => {
    const fn = (stage: keyof typeof stages) =>
      ofType(stage, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1].Properties;
    assert.equal(fn('prod').ReservedConcurrentExecutions, reservedConcurrencyFor({ rateLimit: 100, burstLimit: 200 }, Duration.millis(1500)));
    assert.equal(fn('prod').ReservedConcurrentExecutions, 200);
    assert.equal(fn('dev').ReservedConcurrentExecutions, undefined);
  });
});
