/**
 * The Synthetics canary: reads the canary user's credentials from Secrets Manager, then runs
 * the checks of `checks.js` as three steps. Only this file knows about Synthetics and the SDK;
 * both are provided by the syn-nodejs-puppeteer runtime (the SDK v3 comes with Lambda's
 * Node.js runtime: https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).
 */
'use strict';

const synthetics = require('Synthetics');
const log = require('SyntheticsLogger');
const { GetSecretValueCommand, SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');

const checks = require('./checks.js');

exports.handler = async () => {
  const config = checks.configFrom(process.env);
  await synthetics.executeStep('health', () => checks.checkHealth(config.apiUrl));
  // Kept outside the step: the check needs it, whatever executeStep resolves to.
  let token;
  await synthetics.executeStep('sign-in', async () => {
    const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: config.secretId }));
    const { username, password } = checks.credentialsFrom(secret.SecretString);
    log.info(`signing in as ${username}`);
    token = await checks.signIn({ ...config, username, password });
  });
  await synthetics.executeStep('list-recipes', () => checks.checkList(config.apiUrl, token));
  return 'health, sign-in and an authenticated list passed';
};
