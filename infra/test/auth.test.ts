/**
 * Who may call the deployed API: the app client (OAuth off unless configured), the tokens the
 * REST authorizer accepts (access tokens with the user-pools scope, never ID tokens), and the
 * self sign-up switch from context.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { Auth } from '../lib/auth.js';
import { synth } from './support.js';

type Json = any; // template fragments are untyped JSON

const dev = synth({ stage: 'dev' });

const clientOf = (template: Template) => Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0]!.Properties;

describe('app client', () => {
  it('has no OAuth grant, callback or scope unless OAuth is configured', () => {
    const client = clientOf(dev.template);
    // CDK's defaults would be implicit + code grants, every scope and https://example.com.
    assert.equal(client.AllowedOAuthFlowsUserPoolClient, false);
    for (const key of ['AllowedOAuthFlows', 'AllowedOAuthScopes', 'CallbackURLs', 'LogoutURLs']) {
      assert.equal(client[key], undefined, key);
    }
  });

  it('takes the OAuth settings it is given', () => {
    const stack = new Stack(new App(), 'Probe');
    new Auth(stack, 'Auth', {
      selfSignUp: false,
      protectData: false,
      oAuth: { flows: { authorizationCodeGrant: true }, callbackUrls: ['https://app.example.com/callback'] },
    });
    const client = clientOf(Template.fromStack(stack));
    assert.equal(client.AllowedOAuthFlowsUserPoolClient, true);
    assert.deepEqual(client.AllowedOAuthFlows, ['code']);
    assert.deepEqual(client.CallbackURLs, ['https://app.example.com/callback']);
  });
});

describe('which tokens the REST API accepts', () => {
  const methods = Object.values(dev.template.findResources('AWS::ApiGateway::Method')).map((m) => m.Properties as Json);

  it('asks every bearer method for an access token with the user-pools scope', () => {
    const bearer = methods.filter((m) => m.AuthorizationType === 'COGNITO_USER_POOLS');
    // /recipes GET HEAD POST, /recipes/{id} GET HEAD PUT PATCH DELETE, /recipes/import POST,
    // /shopping-list POST, /recipes/{id}/photo POST DELETE, /recipes/{id}/photo/{size} GET HEAD.
    assert.equal(bearer.length, 14);
    for (const m of bearer) assert.deepEqual(m.AuthorizationScopes, ['aws.cognito.signin.user.admin'], m.HttpMethod);
  });

  it('puts no scope on methods without the authorizer', () => {
    const others = methods.filter((m) => m.AuthorizationType !== 'COGNITO_USER_POOLS');
    assert.ok(others.length > 0);
    for (const m of others) assert.equal(m.AuthorizationScopes, undefined, m.HttpMethod);
  });

  it('asks for the scope every user-pools API access token carries', () => {
    assert.equal(Auth.API_SCOPE, 'aws.cognito.signin.user.admin');
    assert.deepEqual(dev.stack.auth.apiScopes, [Auth.API_SCOPE]);
  });
});

describe('self sign-up from context', () => {
  const adminOnly = (context: Record<string, unknown>) =>
    Object.values(synth({ stage: 'dev', ...context }).template.findResources('AWS::Cognito::UserPool'))[0]!.Properties
      .AdminCreateUserConfig.AllowAdminCreateUserOnly;

  it('is off by default', () => {
    assert.equal(adminOnly({}), true);
  });

  it('is on for -c selfSignUp=true (a string) and for a JSON true (cdk.json, --context JSON)', () => {
    assert.equal(adminOnly({ selfSignUp: 'true' }), false);
    assert.equal(adminOnly({ selfSignUp: true }), false);
  });

  it('stays off for false in either form, and refuses anything else', () => {
    assert.equal(adminOnly({ selfSignUp: false }), true);
    assert.equal(adminOnly({ selfSignUp: 'false' }), true);
    assert.throws(() => adminOnly({ selfSignUp: 'yes' }), /selfSignUp must be true or false/);
  });
});
