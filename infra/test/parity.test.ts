/**
 * The stack and the Rust binary must agree: same table, same routes with the same auth, the
 * environment the binary reads, and the DynamoDB calls the store makes. Each side is read from
 * its source of truth (the binary's output or its code), never copied into the test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { dynamoActionsTheStoreUses, gotaApi, variablesTheBinaryReads } from './binary.js';
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
  const served = new Map<string, 'bearer' | 'public'>();
  const doc = gotaApi('openapi') as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      served.set(`${method.toUpperCase()} ${path}`, op.security && op.security.length > 0 ? 'bearer' : 'public');
    }
  }
  // Served by the binary but, being the document itself, not listed in it.
  served.set('GET /openapi.json', 'public');
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
    assert.ok(served.size >= 12, `only ${served.size} routes (with HEAD) in the OpenAPI document`);
    assert.equal(served.get('GET /health'), 'public');
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

  it('has no catch-all, no ANY method and no dev-auth route', () => {
    for (const r of all) {
      assert.doesNotMatch(r.path, /\{proxy\+?\}|\+\}/);
      assert.notEqual(r.method, 'ANY');
      assert.doesNotMatch(r.path, /^\/dev(\/|$)/);
    }
  });
});

describe('the function', () => {
  const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1];
  const env = fn.Properties.Environment.Variables as Record<string, unknown>;

  it('is given only variables the binary reads', () => {
    const read = variablesTheBinaryReads();
    assert.ok(read.has('GOTA_CURSOR_KEY') && read.has('RUST_LOG'), 'could not read the binary configuration');
    for (const name of Object.keys(env)) assert.ok(read.has(name), `${name} is not read by gota-api`);
  });

  it('is given every variable Lambda mode requires, and no emulator override', () => {
    for (const name of ['GOTA_TABLE_NAME', 'GOTA_USER_POOL_ID', 'GOTA_USER_POOL_CLIENT_IDS', 'GOTA_CURSOR_KEY']) {
      assert.ok(name in env, `${name} missing`);
    }
    for (const name of ['GOTA_JWT_ISSUER', 'GOTA_JWKS_URL', 'GOTA_LISTEN', 'GOTA_DATA_DIR', 'AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH']) {
      assert.ok(!(name in env), `${name} must not be set on AWS`);
    }
  });

  it('may make exactly the DynamoDB calls the store makes', () => {
    const needed = dynamoActionsTheStoreUses();
    assert.ok(needed.size >= 3, `found only ${[...needed].join(', ')} in dynamodb.rs`);
    const granted = new Set<string>();
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) if (String(action).startsWith('dynamodb:')) granted.add(action);
      }
    }
    assert.deepEqual([...granted].sort(), [...needed].sort());
  });
});
