import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

import { gatewayResponses } from './gateway-responses.js';

export interface ApiProps {
  /** The `bootstrap` of `cargo lambda build --release --arm64`; tests pass a stand-in. */
  readonly code: lambda.Code;
  /** The release the code was built from; the function's description names it. */
  readonly version: string;
  readonly table: dynamodb.ITable;
  /** Index the store queries by recipe id; the only index the function may read. */
  readonly tableIndexName: string;
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  readonly adminGroupName: string;
  /**
   * OAuth scopes the Cognito authorizer requires on bearer routes: with scopes it accepts
   * access tokens carrying one of them, and no ID token (ADR 0016).
   */
  readonly authorizationScopes: readonly string[];
  readonly stageName: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * The origin API Gateway's preflights and its own (gateway) responses allow. The function's
   * responses carry `Access-Control-Allow-Origin: *` from the binary whatever this is.
   */
  readonly corsAllowOrigin: string;
  readonly logRetention: logs.RetentionDays;
  /** Keep log groups when the stack is deleted. */
  readonly protectData: boolean;
  /**
   * Concurrency reserved for the function (and the most it may use); `undefined` reserves
   * none. Sized from the stage throttle by `reservedConcurrencyFor` (delivery.ts, ADR 0017).
   */
  readonly reservedConcurrency?: number;
  /** The stack attaches a WAF web ACL to the stage (`Firewall`): APIG3 is then satisfied. */
  readonly firewall?: boolean;
}

/**
 * Headers a browser client sends: auth, bodies, preconditions, idempotency, correlation. Used
 * by the preflights, which API Gateway answers (a mock): in Lambda they never reach the binary.
 */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'If-Match',
  'If-None-Match',
  'Idempotency-Key',
  'X-Request-Id',
];

/** How long a browser may cache a preflight: the same as the binary's CORS layer (doc/api.md). */
export const CORS_MAX_AGE = Duration.seconds(600);

/** Every method API Gateway can route besides OPTIONS (the CORS preflight, answered by a mock). */
export const ROUTABLE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type RoutableMethod = (typeof ROUTABLE_METHODS)[number];

/**
 * The files of the docs page under `/docs`, each its own resource (no `{proxy+}`): the binary
 * embeds and routes exactly these (`core/src/http/docs.rs`; the parity test compares). The
 * Swagger UI files name its version, so an upgrade changes these paths (ADR 0021).
 */
export const DOCS_FILES = ['init.js', 'swagger-ui-bundle-5.35.0.js', 'swagger-ui-5.35.0.css'] as const;

/**
 * The `gota-api` function and the REST API in front of it. Only the paths the binary serves
 * exist: `/health`, `/openapi.json`, the docs page `/docs` and each of its files public,
 * `/recipes`, `/recipes/{id}`, `/recipes/{id}/photo`, `/recipes/{id}/photo/{size}`,
 * `/recipes/import` and `/shopping-list` behind the
 * Cognito authorizer. On those paths every other method also goes to the function, without
 * auth, so the binary answers it 405 + `Allow` (ADR 0008). No `{proxy+}`, so `/dev/*`
 * (standalone-only) can never be reached through here, and an unknown path is API Gateway's 404.
 */
export class Api extends Construct {
  readonly function: lambda.Function;
  /**
   * `live`: the alias API Gateway invokes. CodeDeploy moves it from version to version
   * (delivery.ts), so a release reaches clients only through it.
   */
  readonly alias: lambda.Alias;
  readonly functionLogGroup: logs.LogGroup;
  readonly restApi: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /**
   * API Gateway's execution log group, `API-Gateway-Execution-Logs_{restApiId}/{stage}`: API
   * Gateway creates it on first write, without retention, and nothing deletes it. Owning it
   * here gives it the stage's retention and removal policy (ADR 0016).
   */
  readonly executionLogGroup: logs.LogGroup;
  readonly authorizer: apigateway.CognitoUserPoolsAuthorizer;
  /**
   * Signs list cursors; every instance must share it. The function reads it at init and again
   * every 5 minutes (`GOTA_CURSOR_SECRET_ARN`, ADR 0018); rotate with put-secret-value.
   */
  readonly cursorKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const removalPolicy = props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // 64 characters of [A-Za-z0-9] is valid standard base64 (a multiple of 4, no padding) and
    // decodes to 48 bytes, above the binary's 32-byte minimum.
    this.cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'gota-api cursor key (GOTA_CURSOR_SECRET_ARN): base64 of at least 32 bytes that signs list cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.cursorKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotated by an operator with one put-secret-value (doc/operations.md, ADR 0018): the function verifies AWSCURRENT and AWSPREVIOUS and re-reads them, so no rotation Lambda is needed for a key only this function uses.',
    });

    this.functionLogGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: props.logRetention,
      removalPolicy,
    });

    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'gota-api: its own log group, X-Ray, and the recipes table only',
    });
    this.functionLogGroup.grantWrite(role);
    // Exactly the calls the DynamoDB store makes (core/src/store/dynamodb.rs; a test keeps the
    // two in step). TransactWriteItems needs the per-item action of each of its parts (Put).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        resources: [props.table.tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${props.tableIndexName}`],
      }),
    );

    // The cursor key, read by the binary at init and while it runs (ADR 0018): GetSecretValue
    // on this one secret, nothing else. Not in the function's environment, where anyone with
    // lambda:GetFunctionConfiguration could read it.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.cursorKey.secretArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      description: `gota-api ${props.version}: the Gota recipe API (Rust, lambda_http)`,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: props.code,
      role,
      // 512 MB: Lambda allots CPU in proportion to memory; at 512 MB TLS set-up and JSON work
      // finish several times faster than at 128 MB for the same cost per request, and the
      // binary itself needs well under 64 MB. 10 s: a DynamoDB call with the SDK's retries
      // ends in well under a second; anything slower is a fault that should fail before API
      // Gateway's 29 s integration limit, not hold a concurrency slot.
      memorySize: 512,
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.functionLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: {
        GOTA_TABLE_NAME: props.table.tableName,
        GOTA_USER_POOL_ID: props.userPool.userPoolId,
        GOTA_USER_POOL_CLIENT_IDS: props.userPoolClient.userPoolClientId,
        GOTA_ADMIN_GROUP: props.adminGroupName,
        GOTA_CURSOR_SECRET_ARN: this.cursorKey.secretArn,
        // The `Stage` dimension of the business metrics (EMF, on by default in Lambda).
        GOTA_STAGE: props.stageName,
        GOTA_LOG_FORMAT: 'json',
        RUST_LOG: 'info',
        // The SDK's TLS roots from provided.al2023's one bundle file instead of probing the
        // system's certificate folders: ~1/3 of init less (ADR 0026). A path that is gone
        // only costs the probe again: the binary warns and falls back to it.
        GOTA_ROOT_CERTIFICATES: '/etc/pki/tls/certs/ca-bundle.crt',
        // GOTA_WARM_UP stays unset (on): init opens the DynamoDB connection (ADR 0026).
      },
    });
    // A new version whenever the code or configuration changes (a new logical id); the alias
    // points at the one CodeDeploy last finished shifting to. CloudFormation deletes the
    // previous version only in its cleanup phase, after the shift succeeded, so a rollback
    // always has it to return to.
    this.alias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: 'live',
      version: this.function.currentVersion,
      description: 'The version API Gateway serves; moved by CodeDeploy',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE) use "*": X-Ray does not support resource-level permissions for them.',
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      // A label in the console and the ApiName dimension of its metrics; not an identifier.
      restApiName: Stack.of(this).stackName,
      description: 'Gota recipe API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway needs an account-level role to write any log; a fresh account has none.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        tracingEnabled: true,
        // Execution logs for errors only, and never request/response data: bodies and
        // Authorization headers must not reach the logs.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
    });
    // The name is API Gateway's; the stage depends on the group so it exists before any write.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
    this.executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${props.stageName}`,
      retention: props.logRetention,
      removalPolicy,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogGroup);
    const accountRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (accountRole) {
      Validations.of(accountRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role; AWS's managed policy is the documented one for it and grants log writes only.",
      });
    }
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          "Requests are validated by the binary, which must answer with the contract's problem+json and JSON pointers; an API Gateway validator would answer in its own shape and duplicate the schema.",
      },
    );

    if (!props.firewall) {
      Validations.of(this.restApi.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF web ACL by default (it costs per ACL and per request); stage throttling and Cognito cover the baseline. `-c waf=true` attaches one (doc/deploy.md).',
      });
    }

    for (const response of gatewayResponses(props.corsAllowOrigin)) {
      this.restApi.addGatewayResponse(response.id, response.options);
    }

    this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
    });

    const integration = new apigateway.LambdaIntegration(this.alias, {
      proxy: true,
      // One invoke permission for the API instead of one per method and test-invoke.
      scopePermissionToMethod: false,
    });
    /**
     * The CORS preflight for `methods`, answered by API Gateway itself (a mock: in Lambda it never
     * reaches the binary). Written out instead of `addCorsPreflight` so that it carries what every
     * response of the API carries (`Cache-Control: no-store`, `X-Content-Type-Options: nosniff`;
     * doc/api.md), which `CorsOptions` cannot add, and the binary's 600 s `max-age`.
     */
    const preflight = (resource: apigateway.Resource, methods: readonly string[]) => {
      const headers: Record<string, string> = {
        'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS.join(','),
        'Access-Control-Allow-Origin': props.corsAllowOrigin,
        'Access-Control-Allow-Methods': [...methods, 'OPTIONS'].join(','),
        'Access-Control-Max-Age': String(CORS_MAX_AGE.toSeconds()),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        // One fixed origin: caches must not reuse the answer for another origin's preflight.
        ...(props.corsAllowOrigin === '*' ? {} : { Vary: 'Origin' }),
      };
      const parameter = (name: string) => `method.response.header.${name}`;
      resource.addMethod(
        'OPTIONS',
        new apigateway.MockIntegration({
          requestTemplates: { 'application/json': '{ statusCode: 200 }' },
          integrationResponses: [
            {
              statusCode: '204',
              responseParameters: Object.fromEntries(Object.entries(headers).map(([k, v]) => [parameter(k), `'${v}'`])),
            },
          ],
        }),
        {
          authorizationType: apigateway.AuthorizationType.NONE,
          methodResponses: [
            { statusCode: '204', responseParameters: Object.fromEntries(Object.keys(headers).map((k) => [parameter(k), true])) },
          ],
        },
      );
    };
    const authenticated: apigateway.MethodOptions = {
      authorizationType: apigateway.AuthorizationType.COGNITO,
      authorizer: this.authorizer,
      authorizationScopes: [...props.authorizationScopes],
    };
    const unauthenticated: apigateway.MethodOptions = { authorizationType: apigateway.AuthorizationType.NONE };
    /**
     * The methods the binary serves on `resource`, with their auth, plus HEAD wherever GET is
     * (axum answers it from the GET handler) and the CORS preflight for them. Every other
     * method goes to the function unauthenticated: its router answers 405 + `Allow` before
     * any handler (and so any authentication) runs, as the contract orders.
     */
    const route = (resource: apigateway.Resource, access: 'public' | 'bearer', served: RoutableMethod[]) => {
      const methods = served.includes('GET') ? [...served, 'HEAD' as const] : served;
      for (const verb of methods) {
        const method = resource.addMethod(verb, integration, access === 'bearer' ? authenticated : unauthenticated);
        if (access === 'public') acknowledgeUnauthenticated(method, 'is public by contract (no token)');
      }
      for (const verb of ROUTABLE_METHODS.filter((m) => !methods.includes(m))) {
        acknowledgeUnauthenticated(
          resource.addMethod(verb, integration, unauthenticated),
          'is unauthenticated so that the function can answer 405 + Allow before authentication, as the contract orders; it serves no data on this method',
        );
      }
      preflight(resource, methods);
    };

    route(this.restApi.root.addResource('health'), 'public', ['GET']);
    route(this.restApi.root.addResource('openapi.json'), 'public', ['GET']);
    const docs = this.restApi.root.addResource('docs');
    route(docs, 'public', ['GET']);
    for (const file of DOCS_FILES) route(docs.addResource(file), 'public', ['GET']);
    const recipes = this.restApi.root.addResource('recipes');
    route(recipes, 'bearer', ['GET', 'POST']);
    const recipe = recipes.addResource('{id}');
    route(recipe, 'bearer', ['GET', 'PUT', 'PATCH', 'DELETE']);
    // Photos (doc/api.md): the upload and image URLs these answer point at S3, so the
    // standalone-only `/uploads/{token}` and `/files/{token}` have no resource here.
    const photo = recipe.addResource('photo');
    route(photo, 'bearer', ['POST', 'DELETE']);
    route(photo.addResource('{size}'), 'bearer', ['GET']);
    route(recipes.addResource('import'), 'bearer', ['POST']);
    route(this.restApi.root.addResource('shopping-list'), 'bearer', ['POST']);
  }

  /** `https://…/<stage>/`, the base every route hangs from. */
  get url(): string {
    return this.restApi.url;
  }

  /** Region of the stack, for console links. */
  get region(): string {
    return Stack.of(this).region;
  }
}

/** cdk-nag: a method without the Cognito authorizer (APIG4, COG4), on that method only. */
function acknowledgeUnauthenticated(method: apigateway.Method, why: string) {
  const reason = `${method.httpMethod} ${method.resource.path} ${why}.`;
  Validations.of(method).acknowledge(
    { id: 'AwsSolutions-APIG4', reason },
    { id: 'AwsSolutions-COG4', reason },
  );
}

function accessLogFormat(): apigateway.AccessLogFormat {
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: apigateway.AccessLogField.contextRequestId(),
      requestTime: apigateway.AccessLogField.contextRequestTime(),
      ip: apigateway.AccessLogField.contextIdentitySourceIp(),
      userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
      method: apigateway.AccessLogField.contextHttpMethod(),
      resourcePath: apigateway.AccessLogField.contextResourcePath(),
      status: apigateway.AccessLogField.contextStatus(),
      responseLength: apigateway.AccessLogField.contextResponseLength(),
      responseLatency: apigateway.AccessLogField.contextResponseLatency(),
      integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
      integrationStatus: apigateway.AccessLogField.contextIntegrationStatus(),
      errorType: apigateway.AccessLogField.contextErrorResponseType(),
      authorizerError: apigateway.AccessLogField.contextAuthorizerError(),
      sub: apigateway.AccessLogField.contextAuthorizerClaims('sub'),
    }),
  );
}
