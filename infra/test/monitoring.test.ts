/**
 * Monitoring, read from the synthesized template: every alarm can reach its topic (alarm →
 * action → topic → topic policy, and key policy when encrypted), each alarm's evaluation
 * settings, and each dashboard widget's metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';

import { synth } from './support.js';

type Json = any; // template fragments are untyped JSON
type Resources = Record<string, { Type: string; Properties?: Json }>;

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves the intrinsics a policy uses into strings, as CloudFormation would in one account. */
function resolve(value: Json, resources: Resources, stackName: string): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources, stackName));
  if (value === null || typeof value !== 'object') return value;
  if ('Ref' in value) {
    const ref = value.Ref as string;
    if (PSEUDO[ref]) return PSEUDO[ref];
    return physicalArn(ref, resources, stackName);
  }
  if ('Fn::GetAtt' in value) {
    const [id, attribute] = value['Fn::GetAtt'] as [string, string];
    return attribute === 'Arn' ? physicalArn(id, resources, stackName, true) : `${id}.${attribute}`;
  }
  if ('Fn::Join' in value) {
    const [sep, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map((p) => resolve(p, resources, stackName)).join(sep);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, resources, stackName)]));
}

/** What `Ref` (or `GetAtt Arn`) gives for the resources the walk meets. */
function physicalArn(id: string, resources: Resources, stackName: string, getAtt = false): string {
  const type = resources[id]?.Type;
  if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${REGION}:${ACCOUNT}:${stackName}-${id}-X`;
  if (type === 'AWS::KMS::Key') return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
  if (type === 'AWS::CloudWatch::Alarm') return alarmArn(id, resources, stackName);
  return getAtt ? `arn:unknown:${id}` : id;
}

/** CloudFormation names an unnamed alarm `<stack>-<logical id>-<suffix>`. */
function alarmArn(id: string, resources: Resources, stackName: string): string {
  const name = (resources[id]!.Properties?.AlarmName as string | undefined) ?? `${stackName}-${id}-ABC123`;
  return `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
}

/** IAM's glob: `*` any run of characters, `?` one. */
const glob = (pattern: string, value: string, caseless = false) =>
  new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    caseless ? 'i' : '',
  ).test(value);

interface Request {
  readonly service: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string>;
}

/** The operators these policies use; an unknown one fails the test rather than guessing. */
function conditionHolds(operator: string, entries: Record<string, Json>, context: Record<string, string>): boolean {
  return Object.entries(entries).every(([key, expected]) => {
    const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    if (actual === undefined) return false;
    const values = [expected].flat() as string[];
    switch (operator) {
      case 'StringEquals':
      case 'ArnEquals':
        return values.includes(actual);
      case 'StringLike':
      case 'ArnLike':
        return values.some((v) => glob(v, actual));
      case 'Bool':
        return values.map(String).includes(actual);
      default:
        throw new Error(`condition operator ${operator} not understood by this test`);
    }
  });
}

function statementMatches(statement: Json, request: Request): boolean {
  const principal = statement.Principal;
  const principalMatches =
    principal === '*' ||
    principal?.AWS === '*' ||
    [principal?.Service ?? []].flat().includes(request.service);
  const actionMatches = [statement.Action].flat().some((a: string) => glob(a, request.action, true));
  const resourceMatches = [statement.Resource ?? '*'].flat().some((r: string) => glob(r, request.resource));
  const conditions = Object.entries((statement.Condition ?? {}) as Record<string, Record<string, Json>>);
  return (
    principalMatches && actionMatches && resourceMatches && conditions.every(([op, e]) => conditionHolds(op, e, request.context))
  );
}

/** A resource policy's answer: an explicit Deny wins, else some Allow must match. */
function policyAllows(document: Json, request: Request): boolean {
  const statements = [document.Statement].flat();
  if (statements.some((s: Json) => s.Effect === 'Deny' && statementMatches(s, request))) return false;
  return statements.some((s: Json) => s.Effect === 'Allow' && statementMatches(s, request));
}

interface Delivery {
  readonly alarm: string;
  readonly topic: string;
  readonly problem?: string;
}

/**
 * For every SNS action of every alarm: can CloudWatch, acting for that alarm, publish to the
 * topic? A topic policy replaces SNS's default policy, so with one present it alone decides;
 * an encrypted topic also needs the key to let CloudWatch encrypt.
 */
function alarmDeliveries(template: Json, stackName: string): Delivery[] {
  const resources = template.Resources as Resources;
  const deliveries: Delivery[] = [];
  for (const [alarmId, alarm] of Object.entries(resources)) {
    if (alarm.Type !== 'AWS::CloudWatch::Alarm') continue;
    const targets = ['AlarmActions', 'OKActions', 'InsufficientDataActions'].flatMap(
      (k) => (alarm.Properties?.[k] ?? []) as Json[],
    );
    for (const target of targets) {
      const topicId = target?.Ref as string | undefined;
      if (!topicId || resources[topicId]?.Type !== 'AWS::SNS::Topic') {
        const arn = JSON.stringify(target);
        if (/:sns:/.test(arn)) deliveries.push({ alarm: alarmId, topic: arn, problem: 'a topic outside this template' });
        continue;
      }
      const topicArn = resolve({ Ref: topicId }, resources, stackName) as string;
      const request: Request = {
        service: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        resource: topicArn,
        context: {
          'aws:SourceAccount': ACCOUNT,
          'aws:SourceArn': alarmArn(alarmId, resources, stackName),
          'aws:SecureTransport': 'true',
        },
      };
      const policies = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::SNS::TopicPolicy' &&
          (r.Properties!.Topics as Json[]).some((t) => JSON.stringify(t) === JSON.stringify({ Ref: topicId })),
      );
      let problem: string | undefined;
      if (policies.length > 0 && !policies.some((p) => policyAllows(resolve(p.Properties!.PolicyDocument, resources, stackName), request))) {
        problem = 'the topic policy does not allow cloudwatch.amazonaws.com to sns:Publish for this alarm';
      }
      const keyRef = resources[topicId]!.Properties?.KmsMasterKeyId;
      if (!problem && keyRef !== undefined) {
        const keyId = (keyRef as Json)?.Ref ?? (keyRef as Json)?.['Fn::GetAtt']?.[0];
        const key = keyId ? resources[keyId] : undefined;
        if (!key || key.Type !== 'AWS::KMS::Key') {
          problem = `the topic is encrypted with a key CloudWatch cannot use (${JSON.stringify(keyRef)})`;
        } else {
          const keyPolicy = resolve(key.Properties!.KeyPolicy, resources, stackName);
          const keyResource = resolve({ Ref: keyId }, resources, stackName) as string;
          for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
            if (!policyAllows(keyPolicy, { ...request, action, resource: keyResource })) {
              problem = `the topic's key policy does not allow cloudwatch.amazonaws.com to ${action}`;
            }
          }
        }
      }
      deliveries.push({ alarm: alarmId, topic: topicId, ...(problem && { problem }) });
    }
  }
  return deliveries;
}

const dev = synth({ stage: 'dev' });
const prod = synth({ stage: 'prod', alarmEmail: 'oncall@example.com' });

describe('alarm delivery', () => {
  for (const [stage, s] of Object.entries({ dev, prod })) {
    it(`lets CloudWatch publish every alarm of ${stage} to its topic`, () => {
      const deliveries = alarmDeliveries(s.template.toJSON(), s.stack.stackName);
      const alarms = s.template.findResources('AWS::CloudWatch::Alarm');
      assert.ok(Object.keys(alarms).length >= 1, 'the walk met no alarm');
      // Every alarm notifies on ALARM and on OK: two deliveries each.
      assert.ok(deliveries.length >= 2 * Object.keys(alarms).length, `only ${deliveries.length} deliveries`);
      assert.deepEqual(deliveries.filter((d) => d.problem), []);
    });
  }

  it('scopes the CloudWatch grant to this account and its alarms', () => {
    const policy = Object.values(dev.template.findResources('AWS::SNS::TopicPolicy'))[0]!.Properties.PolicyDocument;
    const allow = (policy.Statement as Json[]).find((s) => s.Effect === 'Allow')!;
    assert.deepEqual(allow.Principal, { Service: 'cloudwatch.amazonaws.com' });
    assert.deepEqual(allow.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    const resources = dev.template.toJSON().Resources as Resources;
    const sourceArn = resolve(allow.Condition.ArnLike['aws:SourceArn'], resources, 'Gota-dev') as string;
    assert.equal(sourceArn, `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`);
    // Another account's alarm, or any other service, is refused.
    const request = (service: string, account: string): Request => ({
      service,
      action: 'sns:Publish',
      resource: resolve(allow.Resource, resources, 'Gota-dev') as string,
      context: {
        'aws:SourceAccount': account,
        'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${account}:alarm:x`,
        'aws:SecureTransport': 'true',
      },
    });
    const document = resolve(policy, resources, 'Gota-dev');
    assert.equal(policyAllows(document, request('cloudwatch.amazonaws.com', ACCOUNT)), true);
    assert.equal(policyAllows(document, request('cloudwatch.amazonaws.com', '999999999999')), false);
    assert.equal(policyAllows(document, request('events.amazonaws.com', ACCOUNT)), false);
  });

  it('catches an encrypted topic whose key does not let CloudWatch in, and passes once it does', () => {
    const build = (grant: boolean) => {
      const stack = new Stack(new App(), 'Probe');
      const key = new kms.Key(stack, 'Key');
      const topic = new sns.Topic(stack, 'Topic', { masterKey: key });
      const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      // Not `grantPublish`: that grants on the key too, and this probe must be able to lack it.
      topic.addToResourcePolicy(
        new iam.PolicyStatement({ principals: [cloudwatchPrincipal], actions: ['sns:Publish'], resources: [topic.topicArn] }),
      );
      if (grant) key.grantEncryptDecrypt(cloudwatchPrincipal);
      const metric = new cloudwatch.Metric({ namespace: 'N', metricName: 'M' });
      new cloudwatch.Alarm(stack, 'Alarm', { metric, threshold: 1, evaluationPeriods: 1 }).addAlarmAction(
        new actions.SnsAction(topic),
      );
      return alarmDeliveries(Template.fromStack(stack).toJSON(), 'Probe');
    };
    assert.match(build(false)[0]!.problem ?? '', /key policy/);
    assert.deepEqual(build(true).filter((d) => d.problem), []);
  });
});

/** Alarm properties by construct id (the logical id without its hash). */
const alarmsOf = (s: typeof dev) =>
  Object.fromEntries(
    Object.entries(s.template.findResources('AWS::CloudWatch::Alarm')).map(([id, a]) => [
      id.replace(/^Monitoring/, '').replace(/[0-9A-F]{8}$/, ''),
      a.Properties as Json,
    ]),
  );

describe('alarms', () => {
  /** [evaluationPeriods, datapointsToAlarm, treatMissingData, comparison, threshold] */
  const expected: Record<string, [number, number, string, string, number]> = {
    Api5xxRate: [3, 2, 'notBreaching', 'GreaterThanThreshold', 1],
    ApiP99Latency: [3, 3, 'notBreaching', 'GreaterThanThreshold', 1500],
    ApiUnauthorizedRate: [3, 2, 'notBreaching', 'GreaterThanThreshold', 25],
    LambdaErrors: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    LambdaThrottles: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    DynamoThrottles: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    // Owned by other constructs (delivery.ts, canary.ts, chat-relay.ts); listed here so that
    // every alarm in the stack has its evaluation settings asserted in one place.
    DeliveryAliasErrors: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    DeliveryAliasP99Duration: [3, 2, 'notBreaching', 'GreaterThanThreshold', 1500],
    DeliveryApi5xx: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 3],
    SyntheticUserFailing: [1, 1, 'breaching', 'LessThanThreshold', 50],
    ChatRelayErrors: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    PhotosDeadLetters: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    PhotosQueueAge: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 900],
    PhotosWorkerErrors: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
    PhotosWorkerThrottles: [1, 1, 'notBreaching', 'GreaterThanOrEqualToThreshold', 1],
  };
  const settings = (a: Json) => [a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData, a.ComparisonOperator, a.Threshold];

  it('evaluates each alarm over the periods doc/operations.md states', () => {
    const a = alarmsOf(dev);
    assert.deepEqual(Object.keys(a).sort(), Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) assert.deepEqual(settings(a[name]), want, name);
  });

  it('adds a no-traffic alarm in prod only, where silence is the breach', () => {
    const a = alarmsOf(prod);
    assert.deepEqual(Object.keys(a).sort(), [...Object.keys(expected), 'ApiNoTraffic'].sort());
    assert.deepEqual(settings(a.ApiNoTraffic), [6, 6, 'breaching', 'LessThanThreshold', 1]);
    assert.equal(a.ApiNoTraffic.Namespace, 'AWS/ApiGateway');
    assert.equal(a.ApiNoTraffic.MetricName, 'Count');
    assert.equal(a.ApiNoTraffic.Statistic, 'Sum');
    assert.equal(a.ApiNoTraffic.Period, 300);
  });

  it('judges the 401 rate from the access log once there are 20 requests', () => {
    const rate = alarmsOf(dev).ApiUnauthorizedRate;
    const expression = rate.Metrics.find((m: Json) => m.Expression).Expression as string;
    assert.equal(expression, 'IF(requests >= 20, 100 * unauthorized / requests, 0)');
    const unauthorized = rate.Metrics.find((m: Json) => m.Id === 'unauthorized').MetricStat;
    assert.deepEqual([unauthorized.Metric.Namespace, unauthorized.Metric.MetricName, unauthorized.Stat], [
      'Gota/Gota-dev',
      'Unauthorized',
      'Sum',
    ]);
    const [filterId, filter] = Object.entries(dev.template.findResources('AWS::Logs::MetricFilter'))[0]!;
    assert.ok(filterId);
    const [accessLogs] = Object.keys(dev.template.findResources('AWS::Logs::LogGroup')).filter((id) => id.startsWith('ApiAccessLogs'));
    assert.deepEqual(filter.Properties.LogGroupName, { Ref: accessLogs });
    assert.equal(filter.Properties.FilterPattern, '{ $.status = "401" }');
    assert.deepEqual(filter.Properties.MetricTransformations, [
      { MetricNamespace: 'Gota/Gota-dev', MetricName: 'Unauthorized', MetricValue: '1', DefaultValue: 0, Unit: 'Count' },
    ]);
  });
});

/** The dashboard's widgets by title: each metric as `namespace metric stat`, or its expression. */
function widgets(s: typeof dev): Record<string, string[]> {
  const body = Object.values(s.template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody;
  const text = resolve(body, s.template.toJSON().Resources, s.stack.stackName) as string;
  const parsed = JSON.parse(text) as { widgets: { type: string; properties: Json }[] };
  return Object.fromEntries(
    parsed.widgets
      .filter((w) => w.type !== 'text')
      .map((w) => {
        const p = w.properties;
        if (w.type === 'log') return [p.title, [`logs ${p.query.includes('initDurationMs') ? 'initDurationMs' : p.query}`]];
        if (p.alarms) return [p.title, (p.alarms as string[]).map((a) => `alarm ${a.replace(/^.*:alarm:Gota-\w+-(Monitoring)?|[0-9A-F]{8}-ABC123$/g, '')}`)];
        const metrics = (p.metrics as Json[][]).map((m) => {
          const options = m[m.length - 1] as Json;
          if (options.expression) return `expr ${options.expression}`;
          const hidden = options.visible === false ? ' (hidden)' : '';
          const operation = m.indexOf('Operation') > 1 ? ` ${m[m.indexOf('Operation') + 1]}` : '';
          // CloudWatch draws Average when a widget metric names no statistic.
          return `${m[0]} ${m[1]}${operation} ${options.stat ?? 'Average'}${hidden}`;
        });
        return [p.title, metrics];
      }),
  );
}

describe('dashboard', () => {
  const operations = ['GetItem', 'Query', 'PutItem', 'DeleteItem', 'TransactWriteItems'];

  it('draws exactly these metrics in each widget', () => {
    assert.deepEqual(widgets(dev), {
      'API requests': ['AWS/ApiGateway Count Sum'],
      'API 4xx / 401 / 5xx': [
        'AWS/ApiGateway 4XXError Sum',
        'Gota/Gota-dev Unauthorized Sum',
        'AWS/ApiGateway 5XXError Sum',
        'expr IF(requests >= 20, 100 * unauthorized / requests, 0)',
        'AWS/ApiGateway Count Sum (hidden)',
        'expr IF(requests >= 20, 100 * errors / requests, 0)',
      ],
      'API latency (ms)': ['AWS/ApiGateway Latency p50', 'AWS/ApiGateway Latency p90', 'AWS/ApiGateway Latency p99'],
      'Lambda invocations, errors, throttles': ['AWS/Lambda Invocations Sum', 'AWS/Lambda Errors Sum', 'AWS/Lambda Throttles Sum'],
      'Lambda duration (ms)': ['AWS/Lambda Duration p50', 'AWS/Lambda Duration p90', 'AWS/Lambda Duration p99'],
      'Lambda concurrency': ['AWS/Lambda ConcurrentExecutions Maximum'],
      'Lambda init duration (cold starts, ms)': ['logs initDurationMs'],
      'DynamoDB consumed capacity': ['AWS/DynamoDB ConsumedReadCapacityUnits Sum', 'AWS/DynamoDB ConsumedWriteCapacityUnits Sum'],
      'DynamoDB throttled requests': [
        `expr ${operations.map((op) => op.toLowerCase()).join(' + ')}`,
        ...operations.map((op) => `AWS/DynamoDB ThrottledRequests ${op} Sum (hidden)`),
      ],
      'DynamoDB latency, average and maximum (ms)': operations.flatMap((op) =>
        ['Average', 'Maximum'].map((stat) => `AWS/DynamoDB SuccessfulRequestLatency ${op} ${stat}`),
      ),
      'DynamoDB conditional-check failures': ['AWS/DynamoDB ConditionalCheckFailedRequests Sum'],
      // The business-metrics row (business-metrics.ts; names checked against `gota-api metrics`
      // in parity.test.ts).
      'Recipes written': ['RecipesCreated', 'RecipesReplaced', 'RecipesPatched', 'RecipesDeleted'].map((m) => `Gota ${m} Sum`),
      'Idempotent replays, precondition failures': ['Gota IdempotentReplays Sum', 'Gota PreconditionFailures Sum'],
      'Auth failures (answered by the function)': ['Gota AuthFailures Sum'],
      Alarms: ['Api5xxRate', 'ApiP99Latency', 'ApiUnauthorizedRate', 'LambdaErrors', 'LambdaThrottles', 'DynamoThrottles'].map(
        (a) => `alarm ${a}`,
      ),
      // The photos row (photos.ts).
      'Photo queue depth': ['AWS/SQS ApproximateNumberOfMessagesVisible Maximum', 'AWS/SQS ApproximateNumberOfMessagesNotVisible Maximum'],
      'Photo queue, oldest message (s)': ['AWS/SQS ApproximateAgeOfOldestMessage Maximum'],
      'Photo dead letters': ['AWS/SQS ApproximateNumberOfMessagesVisible Maximum'],
      'Photo worker duration (ms)': ['AWS/Lambda Duration p50', 'AWS/Lambda Duration p99'],
      'Photo worker invocations, errors, throttles, concurrency': [
        'AWS/Lambda Invocations Sum',
        'AWS/Lambda Errors Sum',
        'AWS/Lambda Throttles Sum',
        'AWS/Lambda ConcurrentExecutions Maximum',
      ],
      'Photo alarms': ['PhotosDeadLetters', 'PhotosQueueAge', 'PhotosWorkerErrors', 'PhotosWorkerThrottles'].map((a) => `alarm ${a}`),
    });
  });

  it('asks DynamoDB latency only for statistics that metric publishes', () => {
    // SuccessfulRequestLatency: Minimum, Maximum, Average, Sum, SampleCount — no percentiles.
    const published = new Set(['Minimum', 'Maximum', 'Average', 'Sum', 'SampleCount']);
    const latency = widgets(prod)['DynamoDB latency, average and maximum (ms)']!;
    assert.ok(latency.length > 0);
    for (const m of latency) assert.ok(published.has(m.split(' ').at(-1)!), m);
  });

  it('shows the prod-only no-traffic alarm with the others', () => {
    assert.ok(widgets(prod).Alarms!.includes('alarm ApiNoTraffic'));
  });
});
