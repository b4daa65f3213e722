/** Fine-grained assertions on the properties that matter, for both stages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match } from 'aws-cdk-lib/assertions';

import { synth } from './support.js';

const dev = synth({ stage: 'dev' }).template;
const prod = synth({
  stage: 'prod',
  alarmEmail: 'oncall@example.com',
  alarmWebhookUrl: 'https://chat.example.com/hooks/gota',
  corsAllowOrigin: 'https://app.example.com',
}).template;

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const resourcesOf = (template: typeof dev, type: string): [string, Resource][] =>
  Object.entries((template.toJSON() as { Resources: Record<string, Resource> }).Resources).filter(
    ([, r]) => r.Type === type,
  );
const only = (template: typeof dev, type: string): Resource => {
  const found = resourcesOf(template, type);
  assert.equal(found.length, 1, `expected one ${type}`);
  return found[0]![1];
};
const apiFunction = (template: typeof dev) =>
  resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))!;

describe('auth', () => {
  it('has a strong password policy, optional TOTP MFA and no self sign-up', () => {
    dev.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
    });
  });

  it('protects the pool from deletion in prod only', () => {
    assert.equal(only(prod, 'AWS::Cognito::UserPool').Properties.DeletionProtection, 'ACTIVE');
    assert.equal(only(prod, 'AWS::Cognito::UserPool').DeletionPolicy, 'Retain');
    assert.equal(only(dev, 'AWS::Cognito::UserPool').Properties.DeletionProtection, 'INACTIVE');
  });

  it('has one public app client for password, SRP and refresh flows', () => {
    const client = only(dev, 'AWS::Cognito::UserPoolClient').Properties;
    assert.deepEqual(
      [...client.ExplicitAuthFlows].sort(),
      ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH'],
    );
    assert.equal(client.GenerateSecret, false);
    assert.equal(client.PreventUserExistenceErrors, 'ENABLED');
  });

  it('has the admin group the function is told about', () => {
    const group = only(dev, 'AWS::Cognito::UserPoolGroup').Properties;
    const env = apiFunction(dev)[1].Properties.Environment.Variables;
    assert.equal(group.GroupName, 'admin');
    assert.equal(env.GOTA_ADMIN_GROUP, group.GroupName);
  });
});

describe('database', () => {
  it('has point-in-time recovery in every stage', () => {
    for (const t of [dev, prod]) {
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      });
    }
  });

  it('is deletion-protected and retained in prod, and goes with a dev stack', () => {
    const p = only(prod, 'AWS::DynamoDB::Table');
    assert.equal(p.Properties.DeletionProtectionEnabled, true);
    assert.equal(p.DeletionPolicy, 'Retain');
    assert.equal(p.UpdateReplacePolicy, 'Retain');
    const d = only(dev, 'AWS::DynamoDB::Table');
    assert.equal(d.Properties.DeletionProtectionEnabled, false);
    assert.equal(d.DeletionPolicy, 'Delete');
  });
});

describe('function', () => {
  it('is the arm64 custom-runtime bootstrap with traced, JSON logs', () => {
    const [, fn] = apiFunction(dev);
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    assert.equal(fn.Properties.Handler, 'bootstrap');
    assert.equal(fn.Properties.MemorySize, 512);
    assert.equal(fn.Properties.Timeout, 10);
    assert.deepEqual(fn.Properties.TracingConfig, { Mode: 'Active' });
    assert.equal(fn.Properties.LoggingConfig.LogFormat, 'JSON');
    assert.ok(fn.Properties.LoggingConfig.LogGroup, 'function writes to its own log group');
  });

  it('wires the table, pool, client and cursor key into the environment', () => {
    const env = apiFunction(dev)[1].Properties.Environment.Variables;
    const [tableId] = resourcesOf(dev, 'AWS::DynamoDB::Table')[0]!;
    const [poolId] = resourcesOf(dev, 'AWS::Cognito::UserPool')[0]!;
    const [clientId] = resourcesOf(dev, 'AWS::Cognito::UserPoolClient')[0]!;
    const [secretId] = resourcesOf(dev, 'AWS::SecretsManager::Secret')[0]!;
    assert.deepEqual(env.GOTA_TABLE_NAME, { Ref: tableId });
    assert.deepEqual(env.GOTA_USER_POOL_ID, { Ref: poolId });
    assert.deepEqual(env.GOTA_USER_POOL_CLIENT_IDS, { Ref: clientId });
    assert.equal(env.GOTA_LOG_FORMAT, 'json');
    // The secret's ARN, read by the binary at init (ADR 0018); never the key itself.
    assert.deepEqual(env.GOTA_CURSOR_SECRET_ARN, { Ref: secretId });
    assert.equal(env.GOTA_CURSOR_KEY, undefined);
  });

  it('trusts the one CA bundle file of the runtime and keeps the DynamoDB warm-up on (ADR 0026)', () => {
    const env = apiFunction(dev)[1].Properties.Environment.Variables;
    assert.equal(env.GOTA_ROOT_CERTIFICATES, '/etc/pki/tls/certs/ca-bundle.crt');
    assert.equal(env.GOTA_WARM_UP, undefined, 'on by default; off is for benchmarks');
  });

  it('gets a cursor key that is valid base64 of at least 32 bytes', () => {
    const [, secret] = resourcesOf(dev, 'AWS::SecretsManager::Secret').find(([id]) => id.startsWith('ApiCursorKey'))!;
    const generated = secret.Properties.GenerateSecretString;
    // Only [A-Za-z0-9]: a multiple of 4 such characters is unpadded standard base64.
    assert.equal(generated.ExcludePunctuation, true);
    assert.equal(generated.IncludeSpace, false);
    assert.equal(generated.PasswordLength % 4, 0);
    assert.ok((generated.PasswordLength / 4) * 3 >= 32);
  });

  it('may touch only its table and index, its log group, its cursor key, photo objects and X-Ray', () => {
    const statements = resourcesOf(dev, 'AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('ApiFunctionRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    for (const s of statements) {
      const actions = [s.Action].flat() as string[];
      if (actions.every((a) => a.startsWith('xray:'))) {
        assert.equal(s.Resource, '*');
      } else {
        assert.notEqual(s.Resource, '*', `${actions.join(',')} on *`);
        assert.ok(
          actions.every(
            (a) => a.startsWith('dynamodb:') || a.startsWith('logs:') || a === 'secretsmanager:GetSecretValue' || a.startsWith('s3:'),
          ),
          actions.join(','),
        );
        // Objects of the photo bucket only (exact grants: photos.test.ts).
        if (actions.some((a) => a.startsWith('s3:'))) assert.match(JSON.stringify(s.Resource), /"PhotosBucket[0-9A-F]{8}","Arn"/);
      }
    }
    const role = resourcesOf(dev, 'AWS::IAM::Role').find(([id]) => id.startsWith('ApiFunctionRole'))![1];
    assert.equal(role.Properties.ManagedPolicyArns, undefined, 'no managed policies on the function role');
  });

  it('reads the by_id index by name, not index/*', () => {
    const json = JSON.stringify(dev.toJSON());
    assert.match(json, /\/index\/by_id"/);
    assert.doesNotMatch(json, /\/index\/\*"/);
  });
});

describe('logs', () => {
  it('keeps every log group for a stage-dependent time', () => {
    for (const [t, days] of [
      [dev, 14],
      [prod, 90],
    ] as const) {
      const groups = resourcesOf(t, 'AWS::Logs::LogGroup');
      assert.deepEqual(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort(), [
        'ApiAccessLogs',
        'ApiExecutionLogs',
        'ApiFunctionLogs',
        'ChatRelayLogs',
        'PhotosWorkerLogs',
      ]);
      for (const [, g] of groups) assert.equal(g.Properties.RetentionInDays, days);
    }
  });

  it("owns API Gateway's execution log group: deleted with a dev stack, kept in prod", () => {
    for (const [t, policy] of [
      [dev, 'Delete'],
      [prod, 'Retain'],
    ] as const) {
      const [id, group] = resourcesOf(t, 'AWS::Logs::LogGroup').find(([i]) => i.startsWith('ApiExecutionLogs'))!;
      const [restApiId] = resourcesOf(t, 'AWS::ApiGateway::RestApi')[0]!;
      const [, stage] = resourcesOf(t, 'AWS::ApiGateway::Stage')[0]!;
      // The name API Gateway writes to: API-Gateway-Execution-Logs_{rest api id}/{stage}.
      assert.deepEqual(group.Properties.LogGroupName, {
        'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: restApiId }, `/${stage.Properties.StageName}`]],
      });
      assert.equal(group.DeletionPolicy, policy);
      // The stage (which turns execution logging on) is created after the group exists.
      assert.ok(([] as string[]).concat((stage as any).DependsOn ?? []).includes(id), 'stage depends on the group');
    }
  });
});

describe('REST API', () => {
  it('throttles, traces and access-logs the stage, never logging bodies', () => {
    dev.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
    });
    prod.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
    });
  });

  it('answers its own errors as problem+json with CORS and security headers', () => {
    const responses = resourcesOf(prod, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => r.Properties);
    const types = responses.map((r) => r.ResponseType);
    for (const needed of ['DEFAULT_4XX', 'DEFAULT_5XX', 'UNAUTHORIZED', 'THROTTLED', 'MISSING_AUTHENTICATION_TOKEN']) {
      assert.ok(types.includes(needed), needed);
    }
    for (const r of responses) {
      assert.deepEqual(
        {
          type: r.ResponseParameters['gatewayresponse.header.Content-Type'],
          cache: r.ResponseParameters['gatewayresponse.header.Cache-Control'],
          nosniff: r.ResponseParameters['gatewayresponse.header.X-Content-Type-Options'],
          origin: r.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin'],
        },
        {
          type: "'application/problem+json'",
          cache: "'no-store'",
          nosniff: "'nosniff'",
          origin: "'https://app.example.com'",
        },
        r.ResponseType,
      );
      const body = JSON.parse(r.ResponseTemplates['application/json']);
      assert.deepEqual(Object.keys(body).sort(), ['detail', 'status', 'title', 'type'], r.ResponseType);
      assert.match(body.type, /^urn:gota:problem:[a-z-]+$/);
      assert.equal(String(body.status), r.StatusCode, r.ResponseType);
    }
  });

  it('challenges for a bearer token on 401 and calls an unknown path 404', () => {
    prod.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.WWW-Authenticate': "'Bearer'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'WWW-Authenticate'",
      }),
    });
    prod.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Retry-After': "'1'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'Retry-After'",
      }),
    });
    prod.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
    });
  });

  it('lets a browser send auth, precondition and idempotency headers', () => {
    const preflights = resourcesOf(prod, 'AWS::ApiGateway::Method').filter(([, m]) => m.Properties.HttpMethod === 'OPTIONS');
    assert.ok(preflights.length > 0);
    for (const [, m] of preflights) {
      const headers = m.Properties.Integration.IntegrationResponses[0].ResponseParameters;
      assert.equal(headers['method.response.header.Access-Control-Allow-Origin'], "'https://app.example.com'");
      const allowed = headers['method.response.header.Access-Control-Allow-Headers'] as string;
      for (const h of ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key']) {
        assert.ok(allowed.includes(h), `${h} not allowed`);
      }
      // Every response carries these, preflights answered by API Gateway included (doc/api.md).
      assert.equal(headers['method.response.header.Cache-Control'], "'no-store'");
      assert.equal(headers['method.response.header.X-Content-Type-Options'], "'nosniff'");
      assert.equal(headers['method.response.header.Access-Control-Max-Age'], "'600'");
      assert.equal(headers['method.response.header.Vary'], "'Origin'");
      const declared = m.Properties.MethodResponses[0].ResponseParameters;
      for (const name of Object.keys(headers)) assert.equal(declared[name], true, name);
    }
  });
});

describe('monitoring', () => {
  const alarms = (t: typeof dev) =>
    // The Monitoring construct's alarms; delivery.test.ts and canary.test.ts assert their own.
    Object.fromEntries(resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('Monitoring')).map(([id, a]) => [id.replace(/[0-9A-F]{8}$/, ''), a.Properties]));

  it('alarms on 5xx rate, p99 latency, function errors and throttles, and table throttles', () => {
    const a = alarms(dev);
    assert.deepEqual(Object.keys(a).sort(), [
      'MonitoringApi5xxRate',
      'MonitoringApiP99Latency',
      'MonitoringApiUnauthorizedRate',
      'MonitoringDynamoThrottles',
      'MonitoringLambdaErrors',
      'MonitoringLambdaThrottles',
    ]);
    const rate = a.MonitoringApi5xxRate!;
    assert.equal(rate.Threshold, 1);
    assert.equal(rate.ComparisonOperator, 'GreaterThanThreshold');
    const expression = rate.Metrics.find((m: any) => m.Expression).Expression as string;
    assert.equal(expression, 'IF(requests >= 20, 100 * errors / requests, 0)');
    assert.ok(rate.Metrics.some((m: any) => m.MetricStat?.Metric.MetricName === '5XXError'));

    const p99 = a.MonitoringApiP99Latency!.Metrics[0].MetricStat;
    assert.equal(p99.Stat, 'p99');
    assert.equal(p99.Metric.MetricName, 'Latency');
    assert.equal(a.MonitoringApiP99Latency!.Threshold, 1500);

    assert.equal(a.MonitoringLambdaErrors!.MetricName, 'Errors');
    assert.equal(a.MonitoringLambdaErrors!.Threshold, 1);
    assert.equal(a.MonitoringLambdaThrottles!.MetricName, 'Throttles');
    assert.equal(a.MonitoringLambdaThrottles!.Threshold, 1);
    const dynamo = a.MonitoringDynamoThrottles!;
    assert.equal(dynamo.Threshold, 1);
    assert.ok(dynamo.Metrics.some((m: any) => m.MetricStat?.Metric.MetricName === 'ThrottledRequests'));
  });

  it('sends every alarm and its recovery to the one topic, and treats no data as fine', () => {
    const [topicId] = resourcesOf(dev, 'AWS::SNS::Topic')[0]!;
    for (const [name, alarm] of Object.entries(alarms(dev))) {
      assert.deepEqual(alarm.AlarmActions, [{ Ref: topicId }], name);
      assert.deepEqual(alarm.OKActions, [{ Ref: topicId }], name);
      assert.equal(alarm.TreatMissingData, 'notBreaching', name);
      assert.match(alarm.AlarmDescription, /doc\/operations\.md#/, `${name} links its runbook`);
    }
  });

  it('subscribes email and an HTTPS webhook only when configured', () => {
    // Only the chat relay's (chat-relay.test.ts) in a stage configured with neither.
    dev.resourceCountIs('AWS::SNS::Subscription', 1);
    dev.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'lambda' }, 1);
    prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    prod.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://chat.example.com/hooks/gota',
    });
  });
  // The dashboard's widgets, metric by metric: test/monitoring.test.ts.
});

describe('stack', () => {
  it('outputs what a user needs to call the API', () => {
    for (const name of ['ApiUrl', 'UserPoolId', 'UserPoolClientId', 'TableName', 'DashboardUrl', 'CursorKeySecretArn']) {
      dev.hasOutput(name, Match.anyValue());
    }
  });

  it('names no resource: CloudFormation generates every physical name', () => {
    const named: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Cognito::UserPool': 'UserPoolName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::CloudWatch::Dashboard': 'DashboardName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::IAM::Role': 'RoleName',
    };
    for (const [type, property] of Object.entries(named)) {
      for (const [id, r] of resourcesOf(prod, type)) {
        // API Gateway decides its execution log group's name; the stack only adopts it.
        if (id.startsWith('ApiExecutionLogs')) continue;
        assert.equal(r.Properties?.[property], undefined, `${id}.${property}`);
      }
    }
  });
});
