import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Where uploads land (`gota_domain::photo::UPLOADS_PREFIX`): the worker's input. */
export const UPLOADS_PREFIX = 'uploads/';
/** Where the renditions go (`gota_domain::photo::PHOTOS_PREFIX`): the worker's output. */
export const PHOTOS_PREFIX = 'photos/';

/** The worker's timeout: one batch of up to 10 images of ~0.3 s each, S3 and DynamoDB calls included. */
export const WORKER_TIMEOUT = Duration.seconds(60);
/** Messages per invocation: at most 10 (SQS's ReceiveMessage maximum, without a batching window). */
export const WORKER_BATCH_SIZE = 10;
/** Worker instances the queue may run at once: bounds the table writes, whatever the backlog. */
export const WORKER_MAX_CONCURRENCY = 5;
/** Receives before a message goes to the dead-letter queue (doc/api.md, "The worker"). */
export const MAX_RECEIVE_COUNT = 5;

const PERIOD = Duration.minutes(5);

export interface PhotosProps {
  /** The `gota-worker` bootstrap of `cargo lambda build --release --arm64`; tests pass a stand-in. */
  readonly workerCode: lambda.Code;
  readonly table: dynamodb.ITable;
  /** The origin browsers upload from: the API's own (`StageConfig.corsAllowOrigin`). */
  readonly corsAllowOrigin: string;
  readonly logRetention: logs.RetentionDays;
  /** Keep the bucket, its access logs and the log group when the stack is deleted (as the table). */
  readonly protectData: boolean;
}

/**
 * Recipe photos (doc/api.md, "Photos"): the private bucket clients upload to with a presigned
 * POST, the queue S3 tells about each upload, and `gota-worker`, which turns an upload into
 * its renditions and sets the recipe's photo status. The API function's share (its grants,
 * `GOTA_PHOTO_BUCKET`) is `grantApi`; alarms and dashboard widgets are `monitor`.
 */
export class Photos extends Construct {
  readonly bucket: s3.Bucket;
  /** The photo bucket's server access logs (cdk-nag AwsSolutions-S1). */
  readonly accessLogs: s3.Bucket;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly worker: lambda.Function;
  readonly workerLogGroup: logs.LogGroup;
  /** Every alarm `monitor` created, each notifying the alarm topic on ALARM and on OK. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PhotosProps) {
    super(scope, id);
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // S3 log delivery is let in by a bucket policy (logging.s3.amazonaws.com, conditioned on
    // the source bucket and account), not the LogDeliveryWrite ACL, which BucketOwnerEnforced
    // forbids. AWS recommends the policy
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    // Who read or wrote which photo, for an investigation: the uploads come from browsers with
    // presigned POSTs, so CloudTrail management events would not show them.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.protectData ? 365 : 30) }],
      removalPolicy,
      autoDeleteObjects: !props.protectData,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'It is the access-log destination of the photo bucket; logging it would need yet another bucket, whose only entries would be S3 log delivery writing here.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3, not SSE-KMS: with SSE-KMS every upload and download needs kms:GenerateDataKey /
      // kms:Decrypt on the key for the principal behind the request ("To upload or download an
      // object encrypted with an AWS KMS key ... you need kms:GenerateDataKey and kms:Decrypt
      // permissions on the key", https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html),
      // which for a presigned POST is the API's role that signed it, and the POST policy would
      // have to carry the x-amz-server-side-encryption fields. A customer key adds a monthly
      // cost and per-request KMS calls for photos a recipe owner chose to share with the app.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // ACLs off: every object belongs to the bucket owner, whoever uploaded it.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // No versioning: every object is written once under a key naming its photo id (a new
      // UUIDv7 per upload), so nothing is ever overwritten, and a photo the user deleted must be
      // gone, not kept as a noncurrent version.
      versioned: false,
      lifecycleRules: [
        // An upload the worker processed is deleted by it; one that never got processed (the
        // client gave up, the message went to the dead-letter queue) goes after a day.
        { id: 'AbandonedUploads', prefix: UPLOADS_PREFIX, expiration: Duration.days(1) },
        { id: 'IncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Browsers upload straight to S3 (a form POST on AWS); the same single origin the API's
      // preflights allow. No GET: images are fetched through the API's 307.
      cors: [
        {
          allowedOrigins: [props.corsAllowOrigin],
          allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.PUT],
          allowedHeaders: ['Content-Type'],
          maxAge: 600,
        },
      ],
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'photos/',
      removalPolicy,
      autoDeleteObjects: !props.protectData,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Uploads', {
      // SSE-SQS: S3 event notifications cannot reach a queue encrypted with the AWS-managed
      // aws/sqs KMS key; SQS-managed keys need no key policy at all.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // "set the source queue's visibility timeout to at least six times the configuration
      // timeout on your function" (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
      visibilityTimeout: Duration.seconds(6 * WORKER_TIMEOUT.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // SqsDestination adds the queue policy letting s3.amazonaws.com send, conditioned on the
    // bucket's ARN. A bucket ARN names no account, so a bucket of that name in another account
    // (after this one is deleted) would match too: the Deny below pins the account as AWS
    // recommends for the S3 principal
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html).
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: UPLOADS_PREFIX,
    });
    // S3 has no CloudFormation property for notifications to a queue whose policy names the
    // bucket (a cycle), so CDK sets them with a custom resource: one stack-wide function whose
    // role calls s3:PutBucketNotification at deploy time.
    const handler = Stack.of(this).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    Validations.of(handler!.node.findChild('Role')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's bucket-notifications handler (runs at deploy time only, to set the uploads/ notification): AWS's basic execution policy lets it write its own logs, nothing else.",
    });
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThisAccountsBucket',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { StringNotEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogs', { retention: props.logRetention, removalPolicy });
    const role = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'gota-worker: its log group, X-Ray, its queue, uploads/ and photos/ objects, and two calls on the table',
    });
    this.workerLogGroup.grantWrite(role);
    // Exactly what the worker does with objects: read and delete the upload it was told about,
    // write (and, for a photo replaced meanwhile, delete) the renditions. Never a bucket-wide
    // object ARN.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${UPLOADS_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${PHOTOS_PREFIX}*`)],
      }),
    );
    // So that an upload already gone (a duplicate delivery that lost the race, one the
    // lifecycle rule expired) reads as NoSuchKey, which develop() acknowledges: "If the object
    // you request doesn't exist, the error that Amazon S3 returns depends on whether you also
    // have the s3:ListBucket permission" — 404 with it, 403 Access Denied without
    // (GetObject, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), and a
    // 403 is an error retried into the dead-letter queue. The bucket itself, unconditioned:
    // a GetObject has no s3:prefix to condition on.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    // RecipeStore::update_photo on DynamoDB: a consistent GetItem of the recipe (the owner and
    // id are in the object key) and a conditional PutItem. No Query, no index.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.table.tableArn],
      }),
    );

    this.worker = new lambda.Function(this, 'Worker', {
      description: 'gota-worker: recipe photos, from upload to renditions (Rust, SQS event source)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: props.workerCode,
      role,
      // The image core peaks at ~47 MiB and ~0.3 s for a 12 MP photo (x86, make bench): the
      // memory is for CPU, which "Lambda allocates ... in proportion to the amount of memory
      // configured" (at 1,769 MB one vCPU; https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
      // 1024 MB is ~0.58 vCPU: a 12 MP decode and three encodes in about a second.
      memorySize: 1024,
      timeout: WORKER_TIMEOUT,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.workerLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        GOTA_TABLE_NAME: props.table.tableName,
        GOTA_PHOTO_BUCKET: this.bucket.bucketName,
        GOTA_LOG_FORMAT: 'json',
        RUST_LOG: 'info',
        // As the API (ADR 0026): provided.al2023's one CA bundle file.
        GOTA_ROOT_CERTIFICATES: '/etc/pki/tls/certs/ca-bundle.crt',
      },
    });
    // Adds sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes and
    // GetQueueUrl on this queue to the role. A bad image is a verdict, not an error: only a
    // message whose S3 or DynamoDB call failed is reported back (partial batch response) and
    // retried, up to MAX_RECEIVE_COUNT receives.
    this.worker.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: WORKER_BATCH_SIZE,
        reportBatchItemFailures: true,
        // "Limits the number of concurrent instances that the Amazon SQS event source can
        // invoke" (ScalingConfig, Lambda API reference): a burst of uploads waits in the queue
        // instead of competing with the API for the table.
        maxConcurrency: WORKER_MAX_CONCURRENCY,
      }),
    );
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE) use "*": X-Ray does not support resource-level permissions for them.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.bucket)}.Arn>/${UPLOADS_PREFIX}*]`,
        reason:
          'GetObject and DeleteObject on uploads/ only: each upload has its own key (owner, recipe, photo id), named by the S3 event the worker is processing.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.bucket)}.Arn>/${PHOTOS_PREFIX}*]`,
        reason:
          'PutObject and DeleteObject on photos/ only: the renditions of each photo get keys made from the upload being processed.',
      },
    );
  }

  /**
   * The API function's share: `GOTA_PHOTO_BUCKET`, and exactly what it does with objects.
   * PutObject on uploads/ and GetObject on photos/ are for the URLs it presigns: "The
   * credentials used by the presigned URL are those of the AWS Identity and Access Management
   * (IAM) principal who generated the URL"
   * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html), so S3
   * checks the API's role when the browser uploads or downloads. DeleteObject on both, for a
   * replaced photo and a deleted recipe. Nothing else on the bucket.
   */
  grantApi(fn: lambda.Function): void {
    fn.addEnvironment('GOTA_PHOTO_BUCKET', this.bucket.bucketName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${UPLOADS_PREFIX}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${PHOTOS_PREFIX}*`)],
      }),
    );
    Validations.of(fn.role!).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.bucket)}.Arn>/${UPLOADS_PREFIX}*]`,
        reason:
          'PutObject (what the presigned POST it signs does; the POST policy pins the one key) and DeleteObject on uploads/ only, for photo replacement and recipe deletion.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.bucket)}.Arn>/${PHOTOS_PREFIX}*]`,
        reason:
          'GetObject (what the presigned GET it signs does, one rendition key each) and DeleteObject on photos/ only, for photo replacement and recipe deletion.',
      },
    );
  }

  /**
   * Alarms (each with its runbook in doc/operations.md) on `alarmTopic`, and a dashboard row:
   * queue depth and age, dead letters, the worker's duration, errors and concurrency.
   */
  monitor(alarmTopic: sns.ITopic, dashboard: cloudwatch.Dashboard): void {
    /** One 5-minute period at or above the threshold alarms, as the function alarms of Monitoring. */
    const alarm = (name: string, a: { metric: cloudwatch.IMetric; alarmDescription: string; threshold: number }) => {
      const created = new cloudwatch.Alarm(this, name, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        ...a,
      });
      created.addAlarmAction(new actions.SnsAction(alarmTopic));
      created.addOkAction(new actions.SnsAction(alarmTopic));
      this.alarms.push(created);
      return created;
    };
    const deadLetters = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: PERIOD,
      statistic: 'Maximum',
      label: 'dead letters',
    });
    const depth = this.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'waiting' });
    const inFlight = this.queue.metricApproximateNumberOfMessagesNotVisible({
      period: PERIOD,
      statistic: 'Maximum',
      label: 'in flight',
    });
    const age = this.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'oldest (s)' });
    const fnMetric = (metric: string, statistic: string) =>
      this.worker.metric(metric, { period: PERIOD, statistic, label: `${metric} ${statistic}` });

    const deadLetterAlarm = alarm('DeadLetters', {
      metric: deadLetters,
      alarmDescription:
        'An upload failed 5 times to be processed (S3 or DynamoDB unreachable, worker crash) and sits in the dead-letter queue. Runbook: doc/operations.md#photo-dead-letters',
      threshold: 1,
    });
    const ageAlarm = alarm('QueueAge', {
      metric: age,
      alarmDescription:
        'An upload has waited 15 minutes or more for the photo worker (worker failing, throttled or disabled). Runbook: doc/operations.md#photo-queue-age',
      threshold: Duration.minutes(15).toSeconds(),
    });
    alarm('WorkerErrors', {
      metric: this.worker.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      alarmDescription: 'The photo worker crashed or timed out. Runbook: doc/operations.md#photo-worker-errors',
      threshold: 1,
    });
    alarm('WorkerThrottles', {
      metric: this.worker.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      alarmDescription:
        "Lambda refused photo worker invocations (the account's concurrency is exhausted). Runbook: doc/operations.md#photo-worker-throttles",
      threshold: 1,
    });

    dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '### Photos — upload queue and worker', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({ title: 'Photo queue depth', left: [depth, inFlight], width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Photo queue, oldest message (s)',
        left: [age],
        leftAnnotations: [ageAlarm.toAnnotation()],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Photo dead letters',
        left: [deadLetters],
        leftAnnotations: [deadLetterAlarm.toAnnotation()],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Photo worker duration (ms)',
        left: [fnMetric('Duration', 'p50'), fnMetric('Duration', 'p99')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Photo worker invocations, errors, throttles, concurrency',
        left: [fnMetric('Invocations', 'Sum'), fnMetric('Errors', 'Sum'), fnMetric('Throttles', 'Sum')],
        right: [fnMetric('ConcurrentExecutions', 'Maximum')],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Photo alarms', alarms: this.alarms, width: 12 }),
    );
  }

  /** The logical id cdk-nag names a resource by in an IAM5 finding. */
  private logicalIdOf(bucket: s3.Bucket): string {
    return Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  }
}
