/** The synthetic user: its canary, credentials and alarm on the template; its checks against a stand-in server. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { CANARY_USERNAME } from '../lib/canary.js';
import { synth } from './support.js';

const checks = createRequire(import.meta.url)('../canary/src/checks.js');
const template = synth({ stage: 'prod' }).template;
type Resource = { Type: string; Properties: Record<string, any> };
const resources = Object.entries((template.toJSON() as { Resources: Record<string, Resource> }).Resources);
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

describe('synthetic user (template)', () => {
  const [canaryId, canary] = ofType('AWS::Synthetics::Canary')[0]!;
  const env = canary.Properties.RunConfig.EnvironmentVariables;

  it('runs the checks script every 5 minutes on a current Node.js runtime', () => {
    assert.equal(ofType('AWS::Synthetics::Canary').length, 1);
    assert.equal(canary.Properties.RuntimeVersion, 'syn-nodejs-puppeteer-13.0');
    assert.equal(canary.Properties.Code.Handler, 'index.handler');
    assert.equal(canary.Properties.Schedule.Expression, 'rate(5 minutes)');
    assert.equal(canary.Properties.StartCanaryAfterCreation, true);
  });

  it('is told the API URL, the app client and its credentials secret, and may read that secret only', () => {
    const [secretId, secret] = ofType('AWS::SecretsManager::Secret').find(([id]) => id.startsWith('SyntheticUserCredentials'))!;
    assert.deepEqual(env.GOTA_CANARY_SECRET_ARN, { Ref: secretId });
    assert.equal(JSON.parse(secret.Properties.GenerateSecretString.SecretStringTemplate).username, CANARY_USERNAME);
    assert.equal(secret.Properties.GenerateSecretString.RequireEachIncludedType, true);
    assert.ok(JSON.stringify(env.GOTA_API_URL).includes('ApiRestApi'));
    assert.deepEqual(env.GOTA_USER_POOL_CLIENT_ID, { Ref: ofType('AWS::Cognito::UserPoolClient')[0]![0] });
    assert.ok(['access', 'id'].includes(env.GOTA_TOKEN_USE));
    const roleRef = canary.Properties.ExecutionRoleArn['Fn::GetAtt'][0];
    const reads = ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleRef))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((s: { Action: string | string[] }) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    assert.deepEqual(reads.map((s: { Resource: unknown }) => s.Resource), [{ Ref: secretId }]);
  });

  it('alarms when most runs in 15 minutes fail, or when it stops running', () => {
    const alarm = ofType('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.MetricName === 'SuccessPercent')![1].Properties;
    assert.equal(alarm.Namespace, 'CloudWatchSynthetics');
    assert.deepEqual(alarm.Dimensions, [{ Name: 'CanaryName', Value: { Ref: canaryId } }]);
    assert.deepEqual(
      [alarm.Statistic, alarm.Period, alarm.Threshold, alarm.ComparisonOperator, alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData],
      ['Average', 900, 50, 'LessThanThreshold', 1, 1, 'breaching'],
    );
    assert.match(alarm.AlarmDescription, /Runbook: doc\/operations\.md#synthetic-user-failing/);
    assert.equal(alarm.AlarmActions.length, 1);
  });

  it('keeps its artifacts private, encrypted, over TLS, for 30 days', () => {
    const bucket = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('SyntheticUserArtifacts'))![1].Properties;
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    assert.equal(bucket.LifecycleConfiguration.Rules[0].ExpirationInDays, 30);
    assert.ok(bucket.BucketEncryption);
  });
});

/**
 * The checks fail when the API misbehaves (the end-to-end pass against the real binary is
 * integration-tests/tests/blackbox/smoke.rs). A stand-in API answers what each case sets.
 */
describe('synthetic user (teardown)', () => {
  it('empties its artifacts bucket when a dev stack is deleted, and keeps it in prod', () => {
    const dev = synth({ stage: 'dev' }).template.toJSON() as { Resources: Record<string, Resource> };
    const devResources = Object.values(dev.Resources);
    const devBucket = Object.entries(dev.Resources).find(([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('SyntheticUserArtifacts'))!;
    assert.equal((devBucket[1] as unknown as { DeletionPolicy: string }).DeletionPolicy, 'Delete');
    // CDK's auto-delete custom resource empties the bucket before CloudFormation deletes it.
    // (The photo buckets have their own: photos.test.ts.)
    const emptier = devResources.filter(
      (r) => r.Type === 'Custom::S3AutoDeleteObjects' && JSON.stringify(r.Properties.BucketName) === JSON.stringify({ Ref: devBucket[0] }),
    );
    assert.equal(emptier.length, 1);
    assert.deepEqual(emptier[0]!.Properties.BucketName, { Ref: devBucket[0] });
    const prodBucket = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('SyntheticUserArtifacts'))!;
    assert.equal((prodBucket[1] as unknown as { DeletionPolicy: string }).DeletionPolicy, 'Retain');
    assert.equal(ofType('Custom::S3AutoDeleteObjects').length, 0);
  });
});

describe('synthetic user (checks)', () => {
  let server: Server;
  let base = '';
  let answer: (path: string, auth: string | undefined) => [number, unknown] = () => [500, {}];
  before(async () => {
    server = createServer((req, res) => {
      const [status, body] = answer(req.url ?? '', req.headers.authorization);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/`;
  });
  after(() => server.close());

  it('pass on a healthy API that refuses anonymous lists', async () => {
    answer = (path, auth) =>
      path.startsWith('/prod/health') ? [200, { status: 'ok' }] : auth === 'Bearer t' ? [200, { items: [] }] : [401, {}];
    await checks.checkHealth(base);
    await checks.checkList(base, 't');
  });

  it('fail on an unhealthy API, a refused token, and an API that lets anyone list', async () => {
    answer = () => [503, { status: 'unavailable' }];
    await assert.rejects(checks.checkHealth(base), /GET \/health: HTTP 503/);
    answer = () => [401, {}];
    await assert.rejects(checks.checkList(base, 't'), /GET \/recipes: HTTP 401/);
    answer = () => [200, { items: [] }];
    await assert.rejects(checks.checkList(base, 't'), /without a token: HTTP 200, expected 401/);
  });

  it('report a Cognito refusal without the password', async () => {
    answer = () => [400, { __type: 'NotAuthorizedException' }];
    await assert.rejects(
      checks.signIn({ endpoint: base, clientId: 'c', username: 'u', password: 'Secret-9-password', tokenUse: 'access' }),
      (e: Error) => /NotAuthorizedException/.test(e.message) && !e.message.includes('Secret-9-password'),
    );
  });
});
