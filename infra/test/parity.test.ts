/**
 * The stack and the Rust binary must agree: same table, same routes with the same auth, the
 * environment the binary reads, and the AWS calls its adapters make. Each side is read from its
 * source of truth (what the binary prints about itself), never copied into the test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BUSINESS_METRIC_NAMES } from '../lib/business-metrics.js';
import { type BinaryVariable, gotaApi, gotaWorker, iamActionsTheBinaryCalls, routesTheBinaryServes, variablesTheBinaryReads } from './binary.js';
import { routes } from './routes.js';
import { synth } from './support.js';

const { template } = synth({ stage: 'dev' });
const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
const ofType = (type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
const sortBy = <T>(items: T[], key: (t: T) => string) => [...items].sort((a, b) => key(a).localeCompare(key(b)));

describe('the recipes table', () => {
  it('is exactly the table `gota-api table-schema` describes', () => {
    const schema = gotaApi('table-schema') as Record<string, any>;
    const tables = ofType('AWS::DynamoDB::Table');
    assert.equal(tables.length, 1);
    const table = tables[0]![1].Properties;

    assert.deepEqual(table.KeySchema, schema.KeySchema);
    assert.deepEqual(
      sortBy(table.AttributeDefinitions, (a: any) => a.AttributeName),
      sortBy(schema.AttributeDefinitions, (a: any) => a.AttributeName),
    );
    assert.equal(table.BillingMode, schema.BillingMode);
    assert.deepEqual(table.TimeToLiveSpecification, schema.TimeToLiveSpecification);
    assert.deepEqual(
      sortBy(table.GlobalSecondaryIndexes, (i: any) => i.IndexName),
      sortBy(schema.GlobalSecondaryIndexes, (i: any) => i.IndexName),
    );
    // Nothing the schema knows about is missing from the comparison above.
    assert.deepEqual(
      Object.keys(schema).sort(),
      ['AttributeDefinitions', 'BillingMode', 'GlobalSecondaryIndexes', 'KeySchema', 'TimeToLiveSpecification'],
    );
  });
});

describe('routes', () => {
  /** Every method API Gateway can route except OPTIONS (the preflight). */
  const ROUTABLE = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  // The router's own table, not the OpenAPI document: a route added to the router but not to
  // the document must still be deployed (a Rust test holds the two lists equal).
  const served = new Map<string, 'bearer' | 'public'>();
  for (const route of routesTheBinaryServes()) served.set(`${route.method} ${route.path}`, route.access);
  // axum answers HEAD from every GET handler (same extractors, so the same auth).
  for (const [key, access] of [...served]) {
    if (key.startsWith('GET ')) served.set(key.replace(/^GET /, 'HEAD '), access);
  }
  const servedPaths = [...new Set([...served.keys()].map((k) => k.split(' ')[1]!))];
  /** Per served path, the methods the binary does not serve there: its router answers 405. */
  const wrongMethods = servedPaths.flatMap((path) =>
    ROUTABLE.filter((m) => !served.has(`${m} ${path}`)).map((m) => `${m} ${path}`),
  );

  const all = routes(template);
  const proxied = all.filter((r) => r.method !== 'OPTIONS');
  const keyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
  const authorizers = ofType('AWS::ApiGateway::Authorizer');

  it('reads a non-trivial route list from the binary', () => {
    assert.ok(served.size >= 12, `only ${served.size} routes (with HEAD) in the route table`);
    assert.equal(served.get('GET /openapi.json'), 'public');
    assert.equal(served.get('GET /health'), 'public');
    assert.equal(served.get('GET /docs'), 'public');
    assert.equal(served.get('HEAD /recipes'), 'bearer');
    assert.equal(served.get('DELETE /recipes/{id}'), 'bearer');
    assert.ok(wrongMethods.includes('PUT /recipes') && wrongMethods.includes('POST /recipes/{id}'));
    assert.ok(!wrongMethods.some((k) => served.has(k)));
  });

  it('exposes every route the binary serves and every other method on its paths, and nothing else', () => {
    assert.deepEqual(proxied.map(keyOf).sort(), [...served.keys(), ...wrongMethods].sort());
  });

  it('puts the Cognito authorizer on every bearer route and nothing on public ones', () => {
    assert.equal(authorizers.length, 1);
    const [authorizerId, authorizer] = authorizers[0]!;
    assert.equal(authorizer.Properties.Type, 'COGNITO_USER_POOLS');
    for (const route of proxied.filter((r) => served.has(keyOf(r)))) {
      const key = keyOf(route);
      if (served.get(key) === 'bearer') {
        assert.equal(route.authorizationType, 'COGNITO_USER_POOLS', key);
        assert.deepEqual(route.authorizerId, { Ref: authorizerId }, key);
      } else {
        assert.equal(route.authorizationType, 'NONE', key);
        assert.equal(route.authorizerId, undefined, key);
      }
    }
  });

  it('sends a wrong method to the function without auth, so it answers 405 + Allow before authentication', () => {
    const wrong = proxied.filter((r) => !served.has(keyOf(r)));
    assert.deepEqual(wrong.map(keyOf).sort(), [...wrongMethods].sort());
    for (const route of wrong) {
      assert.equal(route.authorizationType, 'NONE', keyOf(route));
      assert.equal(route.authorizerId, undefined, keyOf(route));
    }
  });

  it("sends every route to the function's live alias as a proxy integration", () => {
    const [functionId] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))!;
    const [aliasId] = ofType('AWS::Lambda::Alias').find(([, a]) => a.Properties.FunctionName.Ref === functionId)!;
    const uris = new Set<string>();
    for (const route of proxied) {
      assert.equal(route.integrationType, 'AWS_PROXY', keyOf(route));
      assert.match(JSON.stringify(route.integrationUri), new RegExp(`\\{"Ref":"${aliasId}"\\}`), keyOf(route));
      uris.add(JSON.stringify(route.integrationUri));
    }
    assert.equal(uris.size, 1, 'served and 405 methods share one integration');
  });

  it('answers CORS preflight only on served paths, with a mock, without auth, allowing only served methods', () => {
    const preflights = all.filter((r) => r.method === 'OPTIONS');
    assert.deepEqual(preflights.map((r) => r.path).sort(), [...servedPaths].sort());
    for (const p of preflights) {
      assert.equal(p.integrationType, 'MOCK');
      assert.equal(p.authorizationType, 'NONE');
      const allowed = p.preflightAllowMethods!.filter((m) => m !== 'OPTIONS');
      const servedHere = [...served.keys()].filter((k) => k.endsWith(` ${p.path}`)).map((k) => k.split(' ')[0]!);
      assert.deepEqual(allowed.sort(), servedHere.sort(), p.path);
    }
  });

  it('routes the docs page and each of its files on its own public resource', () => {
    const docs = [...served.keys()].filter((k) => /^GET \/docs(\/|$)/.test(k));
    assert.ok(docs.length >= 3, `the binary serves only ${docs.join(', ')} under /docs`);
    for (const key of docs) {
      const route = proxied.find((r) => keyOf(r) === key);
      assert.ok(route, `${key} is not routed`);
      assert.equal(route.authorizationType, 'NONE', key);
      assert.doesNotMatch(route.path, /\{/, key);
    }
  });

  it('has no catch-all, no ANY method and no dev-auth route', () => {
    for (const r of all) {
      assert.doesNotMatch(r.path, /\{proxy\+?\}|\+\}/);
      assert.notEqual(r.method, 'ANY');
      assert.doesNotMatch(r.path, /^\/dev(\/|$)/);
      // Standalone-only photo routes: on AWS the upload and image URLs point at S3.
      assert.doesNotMatch(r.path, /^\/(uploads|files)(\/|$)/);
    }
  });
});

describe('the function', () => {
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1];
  const env = fn.Properties.Environment.Variables as Record<string, unknown>;

  const variables = variablesTheBinaryReads();
  const readInLambda = variables.filter((v) => v.lambda !== 'unread' && v.lambda !== 'absent');

  it('is given only variables the binary reads in Lambda mode', () => {
    const names = new Set(readInLambda.map((v) => v.name));
    assert.ok(names.has('GOTA_CURSOR_SECRET_ARN') && names.has('RUST_LOG'), 'could not read `gota-api env`');
    for (const name of Object.keys(env)) assert.ok(names.has(name), `${name} is not read by gota-api in Lambda`);
  });

  it('is given every variable Lambda mode requires, and no emulator override', () => {
    const required = readInLambda.filter((v) => v.lambda === 'required' || typeof v.lambda === 'object');
    assert.ok(required.length >= 4, `only ${required.map((v) => v.name).join(', ')} required in Lambda`);
    for (const { name, lambda } of required) {
      const alternative = typeof lambda === 'object' ? lambda.required_unless : undefined;
      assert.ok(name in env || (alternative !== undefined && alternative in env), `${name} missing`);
    }
    // GOTA_CURSOR_KEY: the key itself in the configuration, readable by anyone allowed
    // lambda:GetFunctionConfiguration; the function reads the secret instead.
    for (const name of [
      'GOTA_CURSOR_KEY',
      'GOTA_JWT_ISSUER',
      'GOTA_JWKS_URL',
      'GOTA_LISTEN',
      'GOTA_DATA_DIR',
      'AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH',
    ]) {
      assert.ok(!(name in env), `${name} must not be set on AWS`);
    }
  });

  it('may make exactly the DynamoDB calls the store makes', () => {
    const needed = new Set(iamActionsTheBinaryCalls().dynamodb);
    assert.ok(needed.size >= 3, `\`gota-api iam-actions\` lists only ${[...needed].join(', ')}`);
    const granted = new Set<string>();
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) if (String(action).startsWith('dynamodb:')) granted.add(action);
      }
    }
    assert.deepEqual([...granted].sort(), [...needed].sort());
  });
});

describe('the cursor key', () => {
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1];
  const env = fn.Properties.Environment.Variables as Record<string, unknown>;
  // The stack holds other secrets too (the synthetic user's, the chat relay's).
  const secrets = ofType('AWS::SecretsManager::Secret').filter(([id]) => id.startsWith('ApiCursorKey'));

  it('reaches the function as the ARN of its one secret, never as a value', () => {
    assert.equal(secrets.length, 1);
    const [secretId] = secrets[0]!;
    assert.deepEqual(env.GOTA_CURSOR_SECRET_ARN, { Ref: secretId });
    assert.doesNotMatch(JSON.stringify(fn), /resolve:secretsmanager/);
  });

  it('may be read by the function with GetSecretValue on that secret only', () => {
    const [secretId] = secrets[0]!;
    const role = ofType('AWS::IAM::Role').find(([id]) => id.startsWith('ApiFunctionRole'))!;
    const functionPolicies = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role[0] }]),
    );
    const grants = functionPolicies
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[])
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
    const declared = iamActionsTheBinaryCalls().secretsmanager;
    assert.ok(declared && declared.length > 0, 'could not read `gota-api iam-actions`');
    assert.deepEqual(grants, [
      { Action: declared.length === 1 ? declared[0] : declared, Effect: 'Allow', Resource: { Ref: secretId } },
    ]);
    // And no other role may read the cursor key.
    const readers = ofType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes(JSON.stringify({ Ref: secretId })),
    );
    assert.deepEqual(readers.map(([, p]) => p.Properties.Roles), [[{ Ref: role[0] }]]);
    assert.deepEqual(fn.Properties.Role, { 'Fn::GetAtt': [role[0], 'Arn'] });
  });
});

describe('business metrics', () => {
  const printed = gotaApi('metrics') as { namespace: string; dimension: string; unit: string; metrics: string[] };
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1];
  const env = fn.Properties.Environment.Variables as Record<string, unknown>;

  /** The dashboard body, parsed, with every token (always inside a JSON string) as `<token:base64 of its JSON>`. */
  const dashboard = (() => {
    const [, board] = ofType('AWS::CloudWatch::Dashboard')[0]!;
    const body = board.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
    const text =
      typeof body === 'string'
        ? body
        : body['Fn::Join'][1]
            .map((part) => (typeof part === 'string' ? part : `<token:${Buffer.from(JSON.stringify(part)).toString('base64')}>`))
            .join('');
    return JSON.parse(text) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
  })();

  it('are the ones the binary emits, under its namespace and dimension', () => {
    assert.ok(printed.metrics.length >= 7, printed.metrics.join(','));
    assert.deepEqual([...BUSINESS_METRIC_NAMES].sort(), [...printed.metrics].sort());
    assert.equal(printed.namespace, 'Gota');
    assert.equal(printed.dimension, 'Stage');
    assert.equal(printed.unit, 'Count');
  });

  it('are emitted by the function with the stage as their dimension', () => {
    assert.equal(env.GOTA_STAGE, 'dev');
    assert.equal(env.GOTA_METRICS, undefined, 'EMF is on by default in Lambda');
  });

  const stages = ofType('AWS::ApiGateway::Stage');
  /** A dimension value: a literal, or the `Ref` of the API stage (its name), resolved. */
  const resolved = (value: unknown): unknown => {
    const m = /^<token:(.+)>$/.exec(String(value));
    if (!m) return value;
    const token = JSON.parse(Buffer.from(m[1]!, 'base64').toString()) as { Ref?: string };
    const stage = stages.find(([id]) => id === token.Ref);
    assert.ok(stage, `dimension is an unexpected token ${JSON.stringify(token)}`);
    return stage[1].Properties.StageName;
  };

  it('each have a dashboard graph of their sum for this stage', () => {
    const drawn = new Map<string, unknown[]>();
    for (const widget of dashboard.widgets) {
      for (const metric of widget.properties.metrics ?? []) {
        if (metric[0] === printed.namespace) drawn.set(String(metric[1]), metric);
      }
    }
    assert.deepEqual([...drawn.keys()].sort(), [...printed.metrics].sort());
    for (const [name, metric] of drawn) {
      assert.deepEqual(metric.slice(0, 3), [printed.namespace, name, printed.dimension], name);
      assert.equal(resolved(metric[3]), env.GOTA_STAGE, `${name}: the dimension the function emits`);
      const options = metric[4] as { stat?: string; period?: number };
      assert.equal(options.stat, 'Sum', name);
      assert.equal(options.period ?? 300, 300, `${name}: 5-minute sums (CloudWatch's default when unset)`);
    }
  });
});

describe('the photo worker', () => {
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('PhotosWorker'))![1];
  const env = fn.Properties.Environment.Variables as Record<string, unknown>;

  it('is given exactly the variables `gota-worker env` reads in Lambda, every required one included', () => {
    const variables = gotaWorker('env') as BinaryVariable[];
    const read = variables.filter((v) => v.lambda !== 'unread' && v.lambda !== 'absent');
    const names = new Set(read.map((v) => v.name));
    assert.ok(names.has('GOTA_PHOTO_BUCKET') && names.has('GOTA_TABLE_NAME'), 'could not read `gota-worker env`');
    for (const name of Object.keys(env)) assert.ok(names.has(name), `${name} is not read by gota-worker in Lambda`);
    for (const { name, lambda } of read.filter((v) => v.lambda === 'required' || typeof v.lambda === 'object')) {
      const alternative = typeof lambda === 'object' ? lambda.required_unless : undefined;
      assert.ok(name in env || (alternative !== undefined && alternative in env), `${name} missing`);
    }
  });
});
