import { Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface ChatRelayProps {
  /** The `gota-relay` bootstrap of `cargo lambda build --release --arm64`; tests pass a stand-in. */
  readonly code: lambda.Code;
  /** The topic every alarm notifies; the relay subscribes to it. */
  readonly alarmTopic: sns.ITopic;
  /** Console link added to every message. */
  readonly dashboardUrl: string;
  /** Where doc/operations.md is published; each alarm's runbook anchor is appended. */
  readonly runbookUrl?: string;
  readonly logRetention: logs.RetentionDays;
  /** Keep the secret and the log group when the stack is deleted. */
  readonly protectData: boolean;
}

/** The secret's value until an operator puts the chat credentials in it: no destination. */
export const UNCONFIGURED_CHAT_SECRET = '{}';

/**
 * Alerts in a chat: the `gota-relay` function, subscribed to the alarm topic, posts each alarm
 * state change to a Slack(-compatible) incoming webhook and/or a Telegram bot. The webhook URL
 * and bot token live in `secret` (doc/operations.md#chat-alerts), read by the function at init
 * with GetSecretValue on that one secret — never in its environment.
 */
export class ChatRelay extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly secret: secretsmanager.Secret;
  /** The relay itself failing: chat alerts are not arriving (email still does). */
  readonly errors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ChatRelayProps) {
    super(scope, id);
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // `{}` is no credential: CloudFormation writes it once, and never again while this
    // property is unchanged, so the value an operator puts survives every deploy.
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'gota-relay: chat destinations as JSON {slackWebhookUrl} and/or {telegramBotToken, telegramChatId}; see doc/operations.md#chat-alerts',
      secretStringValue: SecretValue.unsafePlainText(UNCONFIGURED_CHAT_SECRET),
      removalPolicy,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'It holds a webhook URL or bot token issued by Slack or Telegram, which no rotation Lambda can reissue; the operator replaces it (doc/operations.md#chat-alerts) and the relay re-reads it after a failed delivery.',
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'gota-relay: its own log group and GetSecretValue on its chat secret only',
    });
    this.logGroup.grantWrite(role);
    // Not grantRead: the relay never calls DescribeSecret, and the secret is not KMS-encrypted
    // with a customer key (the account's aws/secretsmanager key needs no grant).
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }),
    );

    this.function = new lambda.Function(this, 'Function', {
      description: 'gota-relay: CloudWatch alarm notifications to Slack / Telegram (Rust)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: props.code,
      role,
      // The relay waits on the network, not the CPU. 20 s: the secret read (5 s bound) and two
      // chat requests (5 s each), with room to spare.
      memorySize: 128,
      timeout: Duration.seconds(20),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        GOTA_RELAY_SECRET_ARN: this.secret.secretArn,
        GOTA_RELAY_DASHBOARD_URL: props.dashboardUrl,
        ...(props.runbookUrl ? { GOTA_RELAY_RUNBOOK_URL: props.runbookUrl } : {}),
        RUST_LOG: 'info',
      },
      // SNS invokes asynchronously: a failed delivery is retried twice by Lambda (1 and 2 minutes
      // later). An alert still undelivered after an hour is history: the dashboard and the
      // email have it (doc/adr/0019-chat-relay.md).
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });

    this.errors = new cloudwatch.Alarm(this, 'Errors', {
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      alarmDescription:
        'The chat relay failed to deliver an alarm (chat endpoint down, secret wrong). Runbook: doc/operations.md#chat-relay-errors',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The topic's other subscribers (e-mail) hear about it. The relay must not: with a revoked
    // webhook it would fail on its own alarm, which would then flip ALARM → OK → ALARM every
    // few minutes for as long as the webhook is broken. Filtering on the message body drops
    // this one alarm (and anything that is not an alarm) before the relay is invoked
    // ("SNS payload-based message filtering", Amazon SNS Developer Guide).
    this.errors.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    this.errors.addOkAction(new actions.SnsAction(props.alarmTopic));
    props.alarmTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.function, {
        filterPolicyWithMessageBody: {
          AlarmName: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ denylist: [this.errors.alarmName] })),
        },
      }),
    );
  }
}
