import { fileURLToPath } from 'node:url';

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';

/** The script: `checks.js` (plain functions, also run by `make test`) and its Synthetics wrapper. */
export const CANARY_SCRIPT_DIR = fileURLToPath(new URL('../canary/src/', import.meta.url));

/** The Cognito user the canary signs in as; created by hand (doc/operations.md#synthetic-user). */
/**
 * The pool signs users in by e-mail address (`signInAliases: { email: true }`), so the username
 * must be one: AdminCreateUser refuses anything else ("Username should be an email"). `.invalid`
 * is reserved (RFC 2606): no mail can ever go there.
 */
export const CANARY_USERNAME = 'canary@gota.invalid';

export interface SyntheticUserProps {
  /** Base URL of the stage, ending with `/` (`Api.url`). */
  readonly apiUrl: string;
  readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * Which token the canary sends: the one the deployed API's authorizer accepts
   * (doc/api.md, "Identity and access").
   */
  readonly tokenUse: 'access' | 'id';
  readonly alarmTopic?: sns.ITopic;
  /** Keep the artifacts bucket and the credentials when the stack is deleted. */
  readonly protectData: boolean;
}

/**
 * An always-on synthetic user (ADR 0017): every 5 minutes a CloudWatch Synthetics canary
 * checks `/health`, signs in as `canary@gota.invalid` with the password kept in Secrets Manager, and
 * lists recipes with the token (and is refused without it). An alarm fires when runs fail.
 */
export class SyntheticUser extends Construct {
  readonly canary: synthetics.Canary;
  /** `{"username":"canary@gota.invalid","password":…}`, generated to satisfy the pool's policy. */
  readonly credentials: secretsmanager.Secret;
  readonly failing: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SyntheticUserProps) {
    super(scope, id);
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.credentials = new secretsmanager.Secret(this, 'Credentials', {
      description: `Cognito username and password of the synthetic user (${CANARY_USERNAME})`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: CANARY_USERNAME }),
        generateStringKey: 'password',
        // The pool asks for 12+ characters with each of upper, lower, digit and symbol.
        passwordLength: 32,
        requireEachIncludedType: true,
        includeSpace: false,
      },
      removalPolicy,
    });
    Validations.of(this.credentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "A rotation would change the secret without changing the Cognito user's password (that needs a rotation function calling AdminSetUserPassword); the runbook rotates both together by hand.",
    });

    const artifacts = new s3.Bucket(this, 'Artifacts', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy,
      // The canary writes here every 5 minutes, and CloudFormation cannot delete a bucket that
      // holds objects: without emptying it first, `make destroy` of a dev stage would end in
      // DELETE_FAILED. Prod keeps the bucket (RETAIN), so nothing is emptied there.
      autoDeleteObjects: !props.protectData,
    });
    Validations.of(artifacts).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only the canary run reports and logs Synthetics writes (30-day expiry); access logs of it would need another bucket and would record only the canary role writing.',
    });

    this.canary = new synthetics.Canary(this, 'Canary', {
      runtime: synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0,
      test: synthetics.Test.custom({
        code: synthetics.Code.fromAsset(CANARY_SCRIPT_DIR),
        handler: 'index.handler',
      }),
      schedule: synthetics.Schedule.rate(Duration.minutes(5)),
      timeout: Duration.minutes(1),
      artifactsBucketLocation: { bucket: artifacts },
      successRetentionPeriod: Duration.days(7),
      failureRetentionPeriod: Duration.days(30),
      // Deletes the canary's Lambda function and layers with the canary.
      provisionedResourceCleanup: true,
      environmentVariables: {
        GOTA_API_URL: props.apiUrl,
        GOTA_USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
        GOTA_CANARY_SECRET_ARN: this.credentials.secretArn,
        GOTA_TOKEN_USE: props.tokenUse,
      },
    });
    this.credentials.grantRead(this.canary.role);
    // The policy CDK writes for every canary (aws-synthetics, canaryPolicy); each wildcard is
    // one the service's documented role needs:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html
    Validations.of(this.canary.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only s3:ListAllMyBuckets (no resource-level permission exists for it) and cloudwatch:PutMetricData, which is conditioned on the CloudWatchSynthetics namespace.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::<SyntheticUserArtifactsBE75C841.Arn>/*]',
        reason: 's3:PutObject of run artifacts, into this canary’s own artifacts bucket only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/cwsyn-*]',
        reason:
          "The canary's Lambda function writes its own logs; Synthetics names that function (cwsyn-<name>-<id>) when it creates it, so the group name is not known to the template.",
      },
    );

    // SuccessPercent per 15 minutes is the mean of about three runs: below 50 means most of
    // them failed (one failed run is a blip, not a page). No data for 15 minutes means the
    // canary itself stopped running, which is also worth a page.
    this.failing = new cloudwatch.Alarm(this, 'Failing', {
      metric: this.canary.metricSuccessPercent({ period: Duration.minutes(15), statistic: 'Average' }),
      alarmDescription:
        'The synthetic user failed most of its runs (health, sign-in or authenticated list). Runbook: doc/operations.md#synthetic-user-failing',
      threshold: 50,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    if (props.alarmTopic) {
      this.failing.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.failing.addOkAction(new actions.SnsAction(props.alarmTopic));
    }
  }
}
