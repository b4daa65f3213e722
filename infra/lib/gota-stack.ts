import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { Api } from './api.js';
import { Auth } from './auth.js';
import { SyntheticUser } from './canary.js';
import { ChatRelay } from './chat-relay.js';
import { Database } from './database.js';
import { Delivery, reservedConcurrencyFor } from './delivery.js';
import { Firewall } from './firewall.js';
import { Monitoring } from './monitoring.js';
import { Photos } from './photos.js';
import type { StageConfig } from './stage.js';

export interface GotaStackProps extends StackProps {
  readonly config: StageConfig;
  /** The Lambda code: the cargo-lambda build in `bin/`, a stand-in in tests. */
  readonly code: lambda.Code;
  /** The `gota-relay` code: its cargo-lambda build in `bin/`, a stand-in in tests. */
  readonly relayCode: lambda.Code;
  /** The `gota-worker` code: its cargo-lambda build in `bin/`, a stand-in in tests. */
  readonly workerCode: lambda.Code;
  /** The release this stack deploys (the workspace version): in the function's description. */
  readonly version: string;
}

/** One stage of Gota. Composes the four units and wires them; owns no resource itself. */
export class GotaStack extends Stack {
  readonly auth: Auth;
  readonly database: Database;
  readonly api: Api;
  readonly monitoring: Monitoring;
  readonly delivery: Delivery;
  readonly syntheticUser: SyntheticUser;
  readonly chatRelay: ChatRelay;
  readonly photos: Photos;
  /** The WAF web ACL on the stage, when the stage config asks for one. */
  readonly firewall?: Firewall;

  constructor(scope: Construct, id: string, props: GotaStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.auth = new Auth(this, 'Auth', { selfSignUp: config.selfSignUp, protectData: config.protectData });
    this.database = new Database(this, 'Database', { protectData: config.protectData });
    this.photos = new Photos(this, 'Photos', {
      workerCode: props.workerCode,
      table: this.database.table,
      corsAllowOrigin: config.corsAllowOrigin,
      logRetention: config.logRetention,
      protectData: config.protectData,
    });
    this.api = new Api(this, 'Api', {
      code: props.code,
      version: props.version,
      table: this.database.table,
      tableIndexName: Database.BY_ID_INDEX,
      userPool: this.auth.userPool,
      userPoolClient: this.auth.client,
      adminGroupName: this.auth.adminGroupName,
      authorizationScopes: this.auth.apiScopes,
      stageName: config.stage,
      throttle: config.throttle,
      corsAllowOrigin: config.corsAllowOrigin,
      logRetention: config.logRetention,
      protectData: config.protectData,
      // prod only: a fresh account's concurrency quota can be too small to reserve anything
      // (Lambda keeps 100 unreserved), and dev's throttle already bounds it (ADR 0017).
      reservedConcurrency:
        config.stage === 'prod' ? reservedConcurrencyFor(config.throttle, config.alarms.apiP99Latency) : undefined,
      firewall: config.waf !== undefined,
    });
    this.photos.grantApi(this.api.function);
    if (config.waf) {
      this.firewall = new Firewall(this, 'Firewall', {
        stage: this.api.restApi.deploymentStage,
        requestsPerIpPer5Minutes: config.waf.requestsPerIpPer5Minutes,
      });
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: this.api.restApi.deploymentStage,
      function: this.api.function,
      functionLogGroup: this.api.functionLogGroup,
      accessLogGroup: this.api.accessLogGroup,
      table: this.database.table,
      thresholds: config.alarms,
      alarmEmail: config.alarmEmail,
      alarmWebhookUrl: config.alarmWebhookUrl,
    });
    this.photos.monitor(this.monitoring.alarmTopic, this.monitoring.dashboard);
    this.delivery = new Delivery(this, 'Delivery', {
      alias: this.api.alias,
      api: { name: this.api.restApi.restApiName, stageName: config.stage },
      p99Duration: config.alarms.apiP99Latency,
      alarmTopic: this.monitoring.alarmTopic,
    });
    this.syntheticUser = new SyntheticUser(this, 'SyntheticUser', {
      apiUrl: this.api.url,
      userPoolClient: this.auth.client,
      tokenUse: 'access',
      alarmTopic: this.monitoring.alarmTopic,
      protectData: config.protectData,
    });
    this.chatRelay = new ChatRelay(this, 'ChatRelay', {
      code: props.relayCode,
      alarmTopic: this.monitoring.alarmTopic,
      dashboardUrl: this.monitoring.dashboardUrl,
      runbookUrl: config.runbookUrl,
      logRetention: config.logRetention,
      protectData: config.protectData,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (ends with the stage)' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.database.table.tableName });
    new CfnOutput(this, 'PhotoBucketName', { value: this.photos.bucket.bucketName });
    new CfnOutput(this, 'PhotoDeadLetterQueueUrl', {
      value: this.photos.deadLetterQueue.queueUrl,
      description: 'Uploads the worker gave up on (doc/operations.md#photo-dead-letters)',
    });
    new CfnOutput(this, 'DashboardUrl', { value: this.monitoring.dashboardUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'CursorKeySecretArn', {
      value: this.api.cursorKey.secretArn,
      description: 'The secret that signs list cursors (doc/operations.md, "Rotate the cursor key")',
    });
    new CfnOutput(this, 'CanarySecretArn', {
      value: this.syntheticUser.credentials.secretArn,
      description: 'Credentials of the synthetic user; `make canary-user` creates it in the pool',
    });
    new CfnOutput(this, 'DeploymentGroupName', {
      value: this.delivery.deploymentGroup.deploymentGroupName,
      description: 'CodeDeploy group that releases the function (doc/operations.md#release-rolled-back)',
    });
    new CfnOutput(this, 'ChatSecretArn', {
      value: this.chatRelay.secret.secretArn,
      description: 'Put the chat webhook URL / bot token here (doc/operations.md#chat-alerts)',
    });
  }
}
