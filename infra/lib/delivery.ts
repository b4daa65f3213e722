import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface DeliveryProps {
  /** The alias API Gateway invokes (`Api.alias`). */
  readonly alias: lambda.Alias;
  /**
   * The REST API's name and stage in front of it, as plain strings: their 5xx answers also
   * judge a release. Not the `Stage` construct: the alias's update policy names the deployment
   * group, whose alarms would then depend on the stage, which depends (through its methods) on
   * the alias — a cycle CloudFormation refuses (cfn-lint E3004 caught it).
   */
  readonly api: { readonly name: string; readonly stageName: string };
  /** Above this p99 function duration on the alias, a release is rolled back. */
  readonly p99Duration: Duration;
  /** Further alarms that stop and roll back a release (e.g. the API's 5xx rate). */
  readonly alarms?: cloudwatch.IAlarm[];
  /** Where the alias alarms notify (a rollback is worth knowing about). */
  readonly alarmTopic?: sns.ITopic;
}

/** The alias alarms judge a release in 1-minute periods: the canary step lasts 5 minutes. */
const PERIOD = Duration.minutes(1);

/**
 * Releases reach clients gradually and go back on their own (ADR 0017): each deploy publishes
 * a new version, and CodeDeploy moves the `live` alias to it — 10 % of invocations for 5
 * minutes, then all — stopping and returning the alias to the previous version when an alarm
 * on the alias fires, or when the deployment fails or is stopped.
 */
export class Delivery extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** Function errors (crash, timeout, init failure) on the alias: none is normal. */
  readonly aliasErrors: cloudwatch.Alarm;
  readonly aliasP99Duration: cloudwatch.Alarm;
  /** 5xx answers of the stage, in 1-minute periods. */
  readonly server5xx: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const { alias } = props;

    // The alias's metrics (dimension Resource = function:live) count both versions while the
    // traffic is split. Handled errors (4xx, 503 problems) are not Lambda errors, so a single
    // error in a minute is a real fault, and in the canary step most likely the new version's.
    this.aliasErrors = new cloudwatch.Alarm(this, 'AliasErrors', {
      metric: alias.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      alarmDescription:
        'The live alias reported a function error (crash, timeout); during a release CodeDeploy rolls back. Runbook: doc/operations.md#release-rolled-back',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Two slow minutes out of three: one cold start or one slow DynamoDB call is not a reason
    // to roll back, a version that is slow for most of the canary step is.
    this.aliasP99Duration = new cloudwatch.Alarm(this, 'AliasP99Duration', {
      metric: alias.metric('Duration', { period: PERIOD, statistic: 'p99' }),
      alarmDescription: `The live alias's p99 duration is above ${props.p99Duration.toMilliseconds()} ms; during a release CodeDeploy rolls back. Runbook: doc/operations.md#release-rolled-back`,
      threshold: props.p99Duration.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // A version that answers every request with a handled 500/503 (wrong permissions, a bad
    // setting) raises no Lambda error, so the alias alarms above would let it through. The
    // stage's 5XXError counts those; the API's own 5xx-rate alarm (Monitoring) judges 5-minute
    // periods, too slow for a 5-minute canary step. 3 in a minute: one store hiccup is not a
    // reason to roll back. Like the alias alarms it also notifies the topic.
    this.server5xx = new cloudwatch.Alarm(this, 'Api5xx', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensionsMap: { ApiName: props.api.name, Stage: props.api.stageName },
        period: PERIOD,
        statistic: 'Sum',
      }),
      alarmDescription:
        'The stage answered 5xx at least 3 times in a minute; during a release CodeDeploy rolls back. Runbook: doc/operations.md#release-rolled-back',
      threshold: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      for (const alarm of [this.aliasErrors, this.aliasP99Duration, this.server5xx]) {
        alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
        alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
      }
    }

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.aliasErrors, this.aliasP99Duration, this.server5xx, ...(props.alarms ?? [])],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    Validations.of(this.deploymentGroup.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "CodeDeploy's service role for Lambda deployments; AWS's managed 'Limited' policy is the documented one for it: read alarms, get and update aliases, and reach only hook functions and topics named CodeDeployHook_* / CodeDeployTopic_*.",
    });
  }
}

/**
 * Concurrency to reserve for a function behind a stage throttled at `throttle`, whose p99
 * duration is at most `p99` (ADR 0017). Little's law: in-flight requests = arrival rate × time
 * in the system, so the steady state needs `rateLimit × p99`; and API Gateway's token bucket
 * admits up to `burstLimit` requests at once. Reserving the larger of the two means every
 * request API Gateway lets through finds a slot, so overload is refused by API Gateway's 429
 * (the contract's throttle answer), never by a Lambda throttle.
 */
export function reservedConcurrencyFor(
  throttle: { readonly rateLimit: number; readonly burstLimit: number },
  p99: Duration,
): number {
  const steady = Math.ceil((throttle.rateLimit * p99.toMilliseconds()) / 1000);
  return Math.max(steady, throttle.burstLimit);
}
