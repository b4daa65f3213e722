import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface AuthProps {
  readonly selfSignUp: boolean;
  /** Deletion protection and RETAIN: a deleted pool takes every user's identity (`sub`) with it. */
  readonly protectData: boolean;
  /**
   * Hosted-UI / OAuth 2.0 settings for the app client. Without them OAuth is off: CDK would
   * otherwise give the client implicit and code grants, every scope and an
   * `https://example.com` callback. The API itself needs none of it (see `API_SCOPE`).
   */
  readonly oAuth?: cognito.OAuthSettings;
}

/**
 * Who may call the API: a Cognito user pool, the app client the API accepts tokens from, and
 * the admin group (`GOTA_ADMIN_GROUP`).
 */
export class Auth extends Construct {
  /** The group whose members may read and change every recipe. The binary defaults to it too. */
  static readonly ADMIN_GROUP = 'admin';
  /**
   * The scope API Gateway's Cognito authorizer requires on every bearer route. Every access
   * token the user-pools API issues (InitiateAuth, RespondToAuthChallenge, refresh) carries it,
   * with or without OAuth on the client; an authorizer with scopes accepts access tokens only
   * (ID tokens are 401). ADR 0016.
   * https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-enable-cognito-user-pool.html
   */
  static readonly API_SCOPE = 'aws.cognito.signin.user.admin';

  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly adminGroupName: string = Auth.ADMIN_GROUP;
  /** What the API's authorizer asks of an access token: one of these scopes. */
  readonly apiScopes: readonly string[] = [Auth.API_SCOPE];

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: props.selfSignUp,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: props.protectData,
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is OPTIONAL (TOTP only) by design: the issue asks for optional MFA so API clients and scripts can sign in with USER_PASSWORD_AUTH; users and admins can enrol a TOTP factor.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection (advanced security) needs the Cognito Plus feature plan, billed per monthly active user; the pool uses Essentials. Turn it on per account when the cost is accepted.',
      },
    );

    this.client = this.userPool.addClient('ApiClient', {
      authFlows: { userPassword: true, userSrp: true },
      ...(props.oAuth ? { oAuth: props.oAuth } : { disableOAuth: true }),
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    new cognito.CfnUserPoolGroup(this, 'AdminGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: this.adminGroupName,
      description: 'May read, replace, patch and delete any recipe (GOTA_ADMIN_GROUP).',
    });
  }
}
