import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

import { Api } from './api.js';
import { Auth } from './auth.js';
import { Database } from './database.js';
import { Firewall } from './firewall.js';
import { Monitoring } from './monitoring.js';
import type { StageConfig } from './stage.js';

export interface GotaStackProps extends StackProps {
  readonly config: StageConfig;
  /** The Lambda code: the cargo-lambda build in `bin/`, a stand-in in tests. */
  readonly code: lambda.Code;
}

/** One stage of Gota. Composes the four units and wires them; owns no resource itself. */
export class GotaStack extends Stack {
  readonly auth: Auth;
  readonly database: Database;
  readonly api: Api;
  readonly monitoring: Monitoring;
  /** The WAF web ACL on the stage, when the stage config asks for one. */
  readonly firewall?: Firewall;

  constructor(scope: Construct, id: string, props: GotaStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.auth = new Auth(this, 'Auth', { selfSignUp: config.selfSignUp, protectData: config.protectData });
    this.database = new Database(this, 'Database', { protectData: config.protectData });
    this.api = new Api(this, 'Api', {
      code: props.code,
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
      firewall: config.waf !== undefined,
    });
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

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (ends with the stage)' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.database.table.tableName });
    new CfnOutput(this, 'DashboardUrl', { value: this.monitoring.dashboardUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn });
  }
}
