/** Photos: the bucket, the upload queue and its dead letters, the worker, and both roles' grants. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { synth } from './support.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] };
type Json = { Resources: Record<string, Resource> };

const dev = synth({ stage: 'dev' }).template.toJSON() as Json;
const prod = synth({ stage: 'prod', corsAllowOrigin: 'https://app.example.com' }).template.toJSON() as Json;

const ofType = (t: Json, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const one = (t: Json, type: string, idPrefix: string): [string, Resource] => {
  const found = ofType(t, type).filter(([id]) => id.startsWith(idPrefix));
  assert.equal(found.length, 1, `one ${type} ${idPrefix}*`);
  return found[0]!;
};
const bucket = (t: Json) => one(t, 'AWS::S3::Bucket', 'PhotosBucket');
const queue = (t: Json) => one(t, 'AWS::SQS::Queue', 'PhotosUploads');
const deadLetters = (t: Json) => one(t, 'AWS::SQS::Queue', 'PhotosDeadLetterQueue');
const worker = (t: Json) => one(t, 'AWS::Lambda::Function', 'PhotosWorker');
const apiFunction = (t: Json) => ofType(t, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))!;
const roleOf = (fn: Resource) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const statementsOf = (t: Json, roleId: string) =>
  ofType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
/** `GetAtt Bucket.Arn` + `/<prefix>*`, as `bucket.arnForObjects` writes it. */
const objects = (bucketId: string, pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] });
/** Every (action, resource) pair a role's statements on the photo bucket allow, sorted. */
const s3Grants = (t: Json, roleId: string) =>
  statementsOf(t, roleId)
    .filter((s) => asList(s.Action).some((a: string) => a.startsWith('s3:')))
    .flatMap((s) => {
      assert.equal(s.Effect, 'Allow');
      return asList(s.Action).flatMap((a: string) => asList(s.Resource).map((r) => `${a} ${JSON.stringify(r)}`));
    })
    .sort();

describe('photo bucket', () => {
  it('is SSE-S3 encrypted, private, ACL-less and unversioned', () => {
    for (const t of [dev, prod]) {
      const [, b] = bucket(t);
      assert.deepEqual(b.Properties.BucketEncryption, {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      assert.deepEqual(b.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      assert.equal(b.Properties.VersioningConfiguration, undefined);
      assert.equal(b.Properties.AccessControl, undefined);
    }
  });

  it('refuses every request without TLS', () => {
    const [bucketId] = bucket(dev);
    const [, policy] = ofType(dev, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === bucketId)!;
    const deny = (policy.Properties.PolicyDocument.Statement as Record<string, any>[]).filter((s) => s.Effect === 'Deny');
    assert.deepEqual(deny.map((s) => [s.Action, s.Principal, s.Condition]), [
      ['s3:*', { AWS: '*' }, { Bool: { 'aws:SecureTransport': 'false' } }],
    ]);
    assert.deepEqual(deny[0]!.Resource, [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, objects(bucketId, '*')]);
  });

  it('expires abandoned uploads and unfinished multipart uploads after a day, nothing else', () => {
    const [, b] = bucket(prod);
    assert.deepEqual(b.Properties.LifecycleConfiguration.Rules, [
      { Id: 'AbandonedUploads', Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' },
      { Id: 'IncompleteMultipartUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
    ]);
  });

  it("lets browsers POST or PUT from the API's origin, with Content-Type only", () => {
    for (const [t, origin] of [
      [dev, '*'],
      [prod, 'https://app.example.com'],
    ] as const) {
      assert.deepEqual(bucket(t)[1].Properties.CorsConfiguration.CorsRules, [
        { AllowedOrigins: [origin], AllowedMethods: ['POST', 'PUT'], AllowedHeaders: ['Content-Type'], MaxAge: 600 },
      ]);
    }
  });

  it('logs access to its own log bucket, which is as locked down', () => {
    for (const t of [dev, prod]) {
      const [, b] = bucket(t);
      const [logsId, logs] = one(t, 'AWS::S3::Bucket', 'PhotosAccessLogs');
      assert.deepEqual(b.Properties.LoggingConfiguration, { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'photos/' });
      assert.equal(logs.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
      assert.deepEqual(logs.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      assert.equal(logs.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets, true);
    }
  });

  it('is kept in prod, as the table is, and goes with a dev stack', () => {
    assert.equal(bucket(prod)[1].DeletionPolicy, 'Retain');
    assert.equal(one(prod, 'AWS::DynamoDB::Table', '')[1].DeletionPolicy, 'Retain');
    assert.equal(bucket(dev)[1].DeletionPolicy, 'Delete');
    // Emptied first in dev (CloudFormation cannot delete a bucket holding objects), never in prod.
    for (const [t, count] of [
      [dev, 1],
      [prod, 0],
    ] as const) {
      for (const [id] of [bucket(t), one(t, 'AWS::S3::Bucket', 'PhotosAccessLogs')]) {
        const emptiers = ofType(t, 'Custom::S3AutoDeleteObjects').filter(([, r]) => r.Properties.BucketName.Ref === id);
        assert.equal(emptiers.length, count, id);
      }
    }
  });
});

describe('upload notifications', () => {
  it('send ObjectCreated under uploads/ (and nothing else) to the queue', () => {
    const [bucketId] = bucket(dev);
    const [queueId] = queue(dev);
    const [, notifications] = one(dev, 'Custom::S3BucketNotifications', 'PhotosBucketNotifications');
    assert.deepEqual(notifications.Properties.BucketName, { Ref: bucketId });
    assert.deepEqual(notifications.Properties.NotificationConfiguration, {
      QueueConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
          QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
      ],
    });
  });

  it('are set only once the queue policy lets S3 send', () => {
    // "After Amazon S3 receives this request, it first verifies that any ... Amazon SQS
    // destination exists, and that the bucket owner has permission to publish to it by sending
    // a test notification" (PutBucketNotificationConfiguration, S3 API Reference): the custom
    // resource that makes that request must come after the queue's policy.
    const [queueId] = queue(dev);
    const [policyId] = ofType(dev, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      (p.Properties.Queues as { Ref: string }[]).some((q) => q.Ref === queueId),
    )!;
    const [, notifications] = one(dev, 'Custom::S3BucketNotifications', 'PhotosBucketNotifications');
    assert.ok(notifications.DependsOn?.includes(policyId), JSON.stringify(notifications.DependsOn));
  });

  it("may be sent only by S3 for this bucket in this account, over TLS", () => {
    const [bucketId] = bucket(dev);
    const [queueId] = queue(dev);
    const policies = ofType(dev, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      (p.Properties.Queues as { Ref: string }[]).some((q) => q.Ref === queueId),
    );
    assert.equal(policies.length, 1);
    const statements = policies[0]![1].Properties.PolicyDocument.Statement as Record<string, any>[];
    const s3Statements = statements.filter((s) => s.Principal?.Service === 's3.amazonaws.com');
    const allow = s3Statements.filter((s) => s.Effect === 'Allow');
    assert.equal(allow.length, 1);
    assert.ok(asList(allow[0]!.Action).includes('sqs:SendMessage'));
    assert.deepEqual(allow[0]!.Condition, { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } });
    const deny = s3Statements.filter((s) => s.Effect === 'Deny');
    assert.deepEqual(
      deny.map((s) => [s.Action, s.Condition]),
      [['sqs:SendMessage', { StringNotEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }]],
    );
    assert.ok(
      statements.some((s) => s.Effect === 'Deny' && s.Principal?.AWS === '*' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
      'TLS only',
    );
  });
});

describe('upload queue', () => {
  it('is SSE-SQS encrypted, and so is its dead-letter queue', () => {
    for (const [, q] of [queue(dev), deadLetters(dev)]) assert.equal(q.Properties.SqsManagedSseEnabled, true);
  });

  it("hides a received message for at least 6 × the worker's timeout", () => {
    for (const t of [dev, prod]) {
      const timeout = worker(t)[1].Properties.Timeout as number;
      assert.ok(timeout > 0);
      assert.ok(queue(t)[1].Properties.VisibilityTimeout >= 6 * timeout, `${queue(t)[1].Properties.VisibilityTimeout} < 6 × ${timeout}`);
    }
  });

  it('sends a message received 5 times to the dead-letter queue, which keeps it 14 days', () => {
    const [dlqId, dlq] = deadLetters(dev);
    assert.deepEqual(queue(dev)[1].Properties.RedrivePolicy, {
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    assert.equal(dlq.Properties.MessageRetentionPeriod, 14 * 24 * 3600);
  });
});

describe('photo worker', () => {
  it('is the arm64 gota-worker bootstrap, 1024 MB, 60 s, traced, JSON logs in its own group', () => {
    for (const [t, days] of [
      [dev, 14],
      [prod, 90],
    ] as const) {
      const [, fn] = worker(t);
      assert.equal(fn.Properties.Runtime, 'provided.al2023');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Handler, 'bootstrap');
      assert.equal(fn.Properties.MemorySize, 1024);
      assert.equal(fn.Properties.Timeout, 60);
      assert.deepEqual(fn.Properties.TracingConfig, apiFunction(t)[1].Properties.TracingConfig);
      assert.equal(fn.Properties.LoggingConfig.LogFormat, 'JSON');
      const [logsId, logs] = one(t, 'AWS::Logs::LogGroup', 'PhotosWorkerLogs');
      assert.deepEqual(fn.Properties.LoggingConfig.LogGroup, { Ref: logsId });
      assert.equal(logs.Properties.RetentionInDays, days);
    }
  });

  it('is told the table, the bucket and the CA bundle, as the API is', () => {
    const env = worker(dev)[1].Properties.Environment.Variables;
    const apiEnv = apiFunction(dev)[1].Properties.Environment.Variables;
    const [bucketId] = bucket(dev);
    assert.deepEqual(Object.keys(env).sort(), [
      'GOTA_LOG_FORMAT',
      'GOTA_PHOTO_BUCKET',
      'GOTA_ROOT_CERTIFICATES',
      'GOTA_TABLE_NAME',
      'RUST_LOG',
    ]);
    assert.deepEqual(env.GOTA_PHOTO_BUCKET, { Ref: bucketId });
    for (const name of ['GOTA_TABLE_NAME', 'GOTA_ROOT_CERTIFICATES', 'GOTA_LOG_FORMAT', 'RUST_LOG', 'GOTA_PHOTO_BUCKET']) {
      assert.deepEqual(env[name], apiEnv[name], name);
    }
  });

  it('reads the queue 10 at a time, reporting partial batch failures, at most 5 instances at once', () => {
    const [fnId] = worker(dev);
    const [queueId] = queue(dev);
    const [, mapping] = one(dev, 'AWS::Lambda::EventSourceMapping', 'PhotosWorker');
    assert.deepEqual(mapping.Properties.FunctionName, { Ref: fnId });
    assert.deepEqual(mapping.Properties.EventSourceArn, { 'Fn::GetAtt': [queueId, 'Arn'] });
    assert.ok(mapping.Properties.BatchSize <= 10 && mapping.Properties.BatchSize >= 1);
    assert.equal(mapping.Properties.MaximumBatchingWindowInSeconds, undefined, 'no batching window: BatchSize ≤ 10');
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.deepEqual(mapping.Properties.ScalingConfig, { MaximumConcurrency: 5 });
  });

  it('may read and delete uploads, write and delete renditions, tell a missing upload, and nothing else of the bucket', () => {
    const [bucketId] = bucket(dev);
    const roleId = roleOf(worker(dev)[1]);
    const uploads = JSON.stringify(objects(bucketId, 'uploads/*'));
    const photos = JSON.stringify(objects(bucketId, 'photos/*'));
    assert.deepEqual(s3Grants(dev, roleId), [
      `s3:DeleteObject ${photos}`,
      `s3:DeleteObject ${uploads}`,
      `s3:GetObject ${uploads}`,
      // Without it S3 answers a GetObject of a missing upload 403, not NoSuchKey, and the
      // worker's "nothing to do" became an error retried into the dead-letter queue.
      `s3:ListBucket ${JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] })}`,
      `s3:PutObject ${photos}`,
    ]);
  });

  it('may GetItem and PutItem on the table only, and consume its queue', () => {
    const [tableId] = one(dev, 'AWS::DynamoDB::Table', '');
    const [queueId] = queue(dev);
    const roleId = roleOf(worker(dev)[1]);
    const statements = statementsOf(dev, roleId);
    const dynamo = statements.filter((s) => asList(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    assert.deepEqual(dynamo.map((s) => [s.Effect, s.Action, s.Resource]), [
      ['Allow', ['dynamodb:GetItem', 'dynamodb:PutItem'], { 'Fn::GetAtt': [tableId, 'Arn'] }],
    ]);
    const sqs = statements.filter((s) => asList(s.Action).some((a: string) => a.startsWith('sqs:')));
    assert.deepEqual(sqs.map((s) => s.Resource), [{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
    assert.ok(!asList(sqs[0]!.Action).includes('sqs:SendMessage'), 'consume only');
    // No wildcard action anywhere, and "*" only for X-Ray.
    for (const s of statements) {
      for (const a of asList(s.Action) as string[]) assert.doesNotMatch(a, /\*/, a);
      if (s.Resource === '*') assert.ok(asList(s.Action).every((a: string) => a.startsWith('xray:')));
    }
    const role = one(dev, 'AWS::IAM::Role', 'PhotosWorkerRole')[1];
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });
});

describe("the API's share of photos", () => {
  it('is told the bucket', () => {
    const [bucketId] = bucket(dev);
    assert.deepEqual(apiFunction(dev)[1].Properties.Environment.Variables.GOTA_PHOTO_BUCKET, { Ref: bucketId });
  });

  it('may upload (what it presigns) and delete uploads, read (what it presigns) and delete renditions, nothing else', () => {
    const [bucketId] = bucket(dev);
    const roleId = roleOf(apiFunction(dev)[1]);
    const uploads = JSON.stringify(objects(bucketId, 'uploads/*'));
    const photos = JSON.stringify(objects(bucketId, 'photos/*'));
    assert.deepEqual(s3Grants(dev, roleId), [
      `s3:DeleteObject ${photos}`,
      `s3:DeleteObject ${uploads}`,
      `s3:GetObject ${photos}`,
      `s3:PutObject ${uploads}`,
    ]);
  });

  it('is the only other role with a grant on the bucket', () => {
    const [bucketId] = bucket(dev);
    const roles = ofType(dev, 'AWS::IAM::Policy')
      .filter(([, p]) =>
        (p.Properties.PolicyDocument.Statement as Record<string, any>[]).some(
          (s) => asList(s.Action).some((a: string) => a.startsWith('s3:')) && JSON.stringify(s.Resource).includes(`"${bucketId}"`),
        ),
      )
      .flatMap(([, p]) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref))
      .sort();
    // The dev stack's auto-delete custom resource is granted through the bucket policy instead;
    // CDK's notifications handler may only set the bucket's notification configuration.
    const [handlerRole] = one(dev, 'AWS::IAM::Role', 'BucketNotificationsHandler');
    assert.deepEqual(roles, [roleOf(apiFunction(dev)[1]), roleOf(worker(dev)[1]), handlerRole].sort());
    assert.deepEqual(
      statementsOf(dev, handlerRole).map((s) => s.Action),
      ['s3:PutBucketNotification'],
    );
  });
});

describe('photo alarms and dashboard', () => {
  const alarms = (t: Json) =>
    Object.fromEntries(
      ofType(t, 'AWS::CloudWatch::Alarm')
        .filter(([id]) => id.startsWith('Photos'))
        .map(([id, a]) => [id.replace(/^Photos/, '').replace(/[0-9A-F]{8}$/, ''), a.Properties]),
    );

  it('alarm on any dead letter, a 15-minute-old upload, worker errors and throttles, on the alarm topic', () => {
    const a = alarms(prod);
    assert.deepEqual(Object.keys(a).sort(), ['DeadLetters', 'QueueAge', 'WorkerErrors', 'WorkerThrottles']);
    const [topicId] = one(prod, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const [dlqId] = deadLetters(prod);
    const [queueId] = queue(prod);
    const [fnId] = worker(prod);
    /** A single-metric alarm, written inline or (with a label) as one MetricStat. */
    const metricOf = (x: Record<string, any>) => {
      if (!x.Metrics) return [x.Namespace, x.MetricName, x.Statistic, x.Dimensions];
      assert.equal(x.Metrics.length, 1);
      const { Metric: m, Stat } = x.Metrics[0].MetricStat;
      return [m.Namespace, m.MetricName, Stat, m.Dimensions];
    };
    assert.deepEqual(metricOf(a.DeadLetters!), [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'Maximum',
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    ]);
    assert.equal(a.DeadLetters!.Threshold, 1);
    assert.deepEqual(metricOf(a.QueueAge!), [
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'Maximum',
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    ]);
    assert.equal(a.QueueAge!.Threshold, 15 * 60);
    assert.deepEqual(metricOf(a.WorkerErrors!), ['AWS/Lambda', 'Errors', 'Sum', [{ Name: 'FunctionName', Value: { Ref: fnId } }]]);
    assert.deepEqual(metricOf(a.WorkerThrottles!), ['AWS/Lambda', 'Throttles', 'Sum', [{ Name: 'FunctionName', Value: { Ref: fnId } }]]);
    for (const [name, alarm] of Object.entries(a)) {
      assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold', name);
      assert.equal(alarm.TreatMissingData, 'notBreaching', name);
      assert.deepEqual(alarm.AlarmActions, [{ Ref: topicId }], name);
      assert.deepEqual(alarm.OKActions, [{ Ref: topicId }], name);
      assert.match(alarm.AlarmDescription, /Runbook: doc\/operations\.md#photo-/, name);
    }
  });
});
