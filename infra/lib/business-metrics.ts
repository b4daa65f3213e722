import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * The business metrics `gota-api` emits as CloudWatch Embedded Metric Format lines in the
 * function's log (core/src/metrics.rs; `gota-api metrics` prints them, and a parity test keeps
 * this list equal to it). CloudWatch Logs extracts EMF from a Lambda function's stdout:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html
 */
export const BUSINESS_METRICS = {
  namespace: 'Gota',
  dimension: 'Stage',
  writes: ['RecipesCreated', 'RecipesReplaced', 'RecipesPatched', 'RecipesDeleted'],
  refusals: ['IdempotentReplays', 'PreconditionFailures'],
  auth: ['AuthFailures'],
} as const;

/** Every metric name, in the order the widgets draw them. */
export const BUSINESS_METRIC_NAMES: readonly string[] = [
  ...BUSINESS_METRICS.writes,
  ...BUSINESS_METRICS.refusals,
  ...BUSINESS_METRICS.auth,
];

/** One business metric of `stageName`: events per `period` (each EMF line counts 1). */
export function businessMetric(stageName: string, metricName: string, period = Duration.minutes(5)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: BUSINESS_METRICS.namespace,
    metricName,
    dimensionsMap: { [BUSINESS_METRICS.dimension]: stageName },
    statistic: 'Sum',
    period,
    label: metricName,
  });
}

/**
 * A dashboard row for the business metrics of `stageName`. Auth failures here are the 401s the
 * binary itself answers; the ones API Gateway's authorizer answers never reach it and show in
 * the API 4xx graph instead.
 */
export function businessMetricsWidgets(stageName: string): cloudwatch.IWidget[] {
  const metrics = (names: readonly string[]) => names.map((name) => businessMetric(stageName, name));
  return [
    new cloudwatch.GraphWidget({ title: 'Recipes written', left: metrics(BUSINESS_METRICS.writes), width: 12 }),
    new cloudwatch.GraphWidget({
      title: 'Idempotent replays, precondition failures',
      left: metrics(BUSINESS_METRICS.refusals),
      width: 6,
    }),
    new cloudwatch.GraphWidget({ title: 'Auth failures (answered by the function)', left: metrics(BUSINESS_METRICS.auth), width: 6 }),
  ];
}
