import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { businessMetricsWidgets } from './business-metrics.js';
import type { AlarmThresholds } from './stage.js';

export interface MonitoringProps {
  readonly stage: apigateway.Stage;
  readonly function: lambda.IFunction;
  readonly functionLogGroup: logs.ILogGroup;
  /** API Gateway's access log group (one JSON line per request, with `status`). */
  readonly accessLogGroup: logs.ILogGroup;
  readonly table: dynamodb.Table;
  readonly thresholds: AlarmThresholds;
  readonly alarmEmail?: string;
  readonly alarmWebhookUrl?: string;
}

/** The DynamoDB operations the store issues; the ones worth graphing and alarming on. */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

const PERIOD = Duration.minutes(5);

/**
 * DynamoDB publishes `SuccessfulRequestLatency` with Minimum, Maximum, Average, Sum and
 * SampleCount only — no percentiles — so the dashboard draws Average and Maximum.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
 */
export const DYNAMO_LATENCY_STATISTICS = ['Average', 'Maximum'] as const;

/**
 * One dashboard for the API, the function and the table, and the alarms of doc/operations.md,
 * all notifying one SNS topic (email and an HTTPS webhook when configured).
 *
 * Alarm construct ids (for CodeDeploy groups or other consumers, also readonly fields here):
 * `Api5xxRate`, `ApiP99Latency`, `ApiUnauthorizedRate`, `ApiNoTraffic` (prod only),
 * `LambdaErrors`, `LambdaThrottles`, `DynamoThrottles`.
 */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmTopic: sns.Topic;
  readonly api5xxRate: cloudwatch.Alarm;
  readonly apiP99Latency: cloudwatch.Alarm;
  /** Share of requests answered 401: a broken authorizer or token mismatch pages someone. */
  readonly apiUnauthorizedRate: cloudwatch.Alarm;
  /** No request at all reached the stage for a while (prod only; `undefined` elsewhere). */
  readonly apiNoTraffic?: cloudwatch.Alarm;
  readonly lambdaErrors: cloudwatch.Alarm;
  readonly lambdaThrottles: cloudwatch.Alarm;
  readonly dynamoThrottles: cloudwatch.Alarm;
  /** Every alarm above, in dashboard order; each notifies `alarmTopic` on ALARM and on OK. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stage, table, thresholds: t } = props;
    const fn = props.function;
    const stack = Stack.of(this);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { enforceSSL: true });
    // A topic policy replaces SNS's default one, and `enforceSSL` creates a policy holding only
    // a Deny: without this Allow, CloudWatch cannot publish ("no resource-based policy allows
    // the SNS:Publish action"). Scoped to alarms of this account and region (confused deputy).
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        },
      }),
    );
    Validations.of(this.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key, and a customer key costs per month; alarm messages carry only alarm names, states and metric values.",
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    if (props.alarmWebhookUrl) {
      this.alarmTopic.addSubscription(
        new subscriptions.UrlSubscription(props.alarmWebhookUrl, {
          protocol: sns.SubscriptionProtocol.HTTPS,
        }),
      );
    }

    const requests = stage.metricCount({ period: PERIOD, statistic: 'Sum' });
    const errors4xx = stage.metricClientError({ period: PERIOD, statistic: 'Sum' });
    const errors5xx = stage.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const latency = (statistic: string) => stage.metricLatency({ period: PERIOD, statistic, label: statistic });
    // API Gateway publishes 4XXError for every 4xx (404s, 422s and 412s are normal traffic);
    // the access log's `status` singles out 401s, whoever answered them (authorizer or binary).
    const unauthorized = new logs.MetricFilter(this, 'UnauthorizedFilter', {
      logGroup: props.accessLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '401'),
      metricNamespace: `Gota/${stack.stackName}`,
      metricName: 'Unauthorized',
      metricValue: '1',
      defaultValue: 0,
      unit: cloudwatch.Unit.COUNT,
    }).metric({ period: PERIOD, statistic: 'Sum', label: '401' });

    const rate5xx = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${t.api5xxMinRequests}, 100 * errors / requests, 0)`,
      usingMetrics: { requests, errors: errors5xx },
      period: PERIOD,
      label: '5xx rate (%)',
    });
    const rate401 = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${t.apiUnauthorizedMinRequests}, 100 * unauthorized / requests, 0)`,
      usingMetrics: { requests, unauthorized },
      period: PERIOD,
      label: '401 rate (%)',
    });
    const alarm = (name: string, a: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
      const created = new cloudwatch.Alarm(this, name, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...a,
      });
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(created);
      return created;
    };

    this.api5xxRate = alarm('Api5xxRate', {
      metric: rate5xx,
      alarmDescription: `More than ${t.api5xxRatePercent}% of API requests answered 5xx. Runbook: doc/operations.md#api-5xx-rate`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: t.api5xxRatePercent,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    this.apiP99Latency = alarm('ApiP99Latency', {
      metric: latency('p99'),
      alarmDescription: `API p99 latency above ${t.apiP99Latency.toMilliseconds()} ms. Runbook: doc/operations.md#api-p99-latency`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: t.apiP99Latency.toMilliseconds(),
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    this.apiUnauthorizedRate = alarm('ApiUnauthorizedRate', {
      metric: rate401,
      alarmDescription: `More than ${t.apiUnauthorizedRatePercent}% of API requests answered 401 (authorizer or token mismatch?). Runbook: doc/operations.md#api-401-rate`,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: t.apiUnauthorizedRatePercent,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    if (t.noTrafficMinutes !== undefined) {
      const periods = Math.ceil(t.noTrafficMinutes / PERIOD.toMinutes());
      this.apiNoTraffic = alarm('ApiNoTraffic', {
        metric: requests,
        alarmDescription: `No request reached the API for ${t.noTrafficMinutes} minutes. Runbook: doc/operations.md#api-no-traffic`,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        // API Gateway publishes no Count datapoint for a period without requests: silence is
        // exactly what this alarm is for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
    this.lambdaErrors = alarm('LambdaErrors', {
      metric: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      alarmDescription: 'The function crashed or timed out. Runbook: doc/operations.md#lambda-errors',
      threshold: t.lambdaErrors,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    this.lambdaThrottles = alarm('LambdaThrottles', {
      metric: fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      alarmDescription: 'Lambda refused invocations (concurrency limit). Runbook: doc/operations.md#lambda-throttles',
      threshold: t.lambdaThrottles,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    const tableThrottles = table.metricThrottledRequestsForOperations({
      operations: TABLE_OPERATIONS,
      period: PERIOD,
    });
    this.dynamoThrottles = alarm('DynamoThrottles', {
      metric: tableThrottles,
      alarmDescription: 'DynamoDB throttled requests to the recipes table. Runbook: doc/operations.md#dynamodb-throttles',
      threshold: t.dynamoThrottles,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });

    const fnMetric = (metric: string, statistic: string) =>
      fn.metric(metric, { period: PERIOD, statistic, label: `${metric} ${statistic}` });
    const tableMetric = (metricName: string, statistic: string, operation?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: operation ? { TableName: table.tableName, Operation: operation } : { TableName: table.tableName },
        statistic,
        period: PERIOD,
        label: operation ? `${operation} ${statistic}` : `${metricName}`,
      });

    const region = stack.region;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `## Gota — API, function, table\nAlarms notify the SNS topic; every alarm has a runbook in doc/operations.md. Region: ${region}.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'API requests', left: [requests], width: 6 }),
          new cloudwatch.GraphWidget({
            title: 'API 4xx / 401 / 5xx',
            left: [errors4xx, unauthorized, errors5xx],
            right: [rate401, rate5xx],
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency (ms)',
            left: [latency('p50'), latency('p90'), latency('p99')],
            leftAnnotations: [this.apiP99Latency.toAnnotation()],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Lambda invocations, errors, throttles',
            left: [fnMetric('Invocations', 'Sum'), fnMetric('Errors', 'Sum'), fnMetric('Throttles', 'Sum')],
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'Lambda duration (ms)',
            left: [fnMetric('Duration', 'p50'), fnMetric('Duration', 'p90'), fnMetric('Duration', 'p99')],
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'Lambda concurrency',
            left: [fnMetric('ConcurrentExecutions', 'Maximum')],
            width: 6,
          }),
          // Lambda publishes no metric for cold starts; the platform report log lines carry it.
          new cloudwatch.LogQueryWidget({
            title: 'Lambda init duration (cold starts, ms)',
            logGroupNames: [props.functionLogGroup.logGroupName],
            view: cloudwatch.LogQueryVisualizationType.LINE,
            queryLines: [
              'filter type = "platform.report" and ispresent(record.metrics.initDurationMs)',
              'stats count(*) as cold_starts, pct(record.metrics.initDurationMs, 50) as p50, pct(record.metrics.initDurationMs, 99) as p99 by bin(5m)',
            ],
            width: 6,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'DynamoDB consumed capacity',
            left: [tableMetric('ConsumedReadCapacityUnits', 'Sum'), tableMetric('ConsumedWriteCapacityUnits', 'Sum')],
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'DynamoDB throttled requests',
            left: [tableThrottles],
            leftAnnotations: [this.dynamoThrottles.toAnnotation()],
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'DynamoDB latency, average and maximum (ms)',
            left: TABLE_OPERATIONS.flatMap((op) =>
              DYNAMO_LATENCY_STATISTICS.map((statistic) => tableMetric('SuccessfulRequestLatency', statistic, op)),
            ),
            width: 6,
          }),
          new cloudwatch.GraphWidget({
            title: 'DynamoDB conditional-check failures',
            left: [tableMetric('ConditionalCheckFailedRequests', 'Sum')],
            width: 6,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: this.alarms,
            width: 24,
          }),
        ],
      ],
    });
    this.dashboard.addWidgets(...businessMetricsWidgets(stage.stageName));
  }

  /** Console link to the dashboard. */
  get dashboardUrl(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
