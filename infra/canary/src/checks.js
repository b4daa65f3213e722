/**
 * What the synthetic user does, as plain functions of plain values: no Synthetics, no AWS SDK.
 * `index.js` runs them as Synthetics steps in AWS; `make test` runs the same file against the
 * local binary (integration-tests/tests/blackbox/smoke.rs). Node 22's global `fetch` only.
 */
'use strict';

/** Cognito's public endpoint; InitiateAuth is an unsigned call (no IAM credentials). */
function cognitoEndpoint(region) {
  return `https://cognito-idp.${region}.amazonaws.com/`;
}

/**
 * Signs in with USER_PASSWORD_AUTH and returns the token the API accepts (`tokenUse`:
 * "access" or "id"). Throws with Cognito's error type, never with the password.
 */
async function signIn({ endpoint, clientId, username, password, tokenUse }) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`sign-in as ${username} failed: HTTP ${response.status} ${body.__type ?? ''}`.trim());
  }
  const result = body.AuthenticationResult;
  if (!result) {
    throw new Error(`sign-in as ${username} asks for a challenge (${body.ChallengeName}); set a permanent password`);
  }
  const token = tokenUse === 'id' ? result.IdToken : result.AccessToken;
  if (!token) throw new Error(`sign-in returned no ${tokenUse} token`);
  return token;
}

/** `base` ends with `/` (the stack's ApiUrl does); `path` has no leading slash. */
function url(base, path) {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).toString();
}

async function expectJson(response, what) {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) throw new Error(`${what}: content-type ${type}`);
  return JSON.parse(text);
}

/** GET /health answers 200 `{"status":"ok"}` without a token. */
async function checkHealth(apiUrl) {
  const body = await expectJson(await fetch(url(apiUrl, 'health')), 'GET /health');
  if (body.status !== 'ok') throw new Error(`GET /health: status ${JSON.stringify(body.status)}`);
  return body;
}

/**
 * GET /recipes with the token answers 200 with a page (`items` an array), and without a token
 * 401: both halves of "authentication works" (a broken authorizer that lets everyone in fails).
 */
async function checkList(apiUrl, token) {
  const body = await expectJson(
    await fetch(url(apiUrl, 'recipes?limit=1'), { headers: { Authorization: `Bearer ${token}` } }),
    'GET /recipes',
  );
  if (!Array.isArray(body.items)) throw new Error('GET /recipes: no items array');
  const anonymous = await fetch(url(apiUrl, 'recipes?limit=1'));
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) throw new Error(`GET /recipes without a token: HTTP ${anonymous.status}, expected 401`);
  return body;
}

/**
 * The configuration the canary reads from its environment. `GOTA_COGNITO_ENDPOINT` exists for
 * the local run (moto); in AWS the regional endpoint is derived from `AWS_REGION`.
 */
function configFrom(env) {
  const need = (name) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const tokenUse = env.GOTA_TOKEN_USE ?? 'access';
  if (tokenUse !== 'access' && tokenUse !== 'id') throw new Error(`GOTA_TOKEN_USE must be access or id, got ${tokenUse}`);
  return {
    apiUrl: need('GOTA_API_URL'),
    clientId: need('GOTA_USER_POOL_CLIENT_ID'),
    secretId: need('GOTA_CANARY_SECRET_ARN'),
    endpoint: env.GOTA_COGNITO_ENDPOINT || cognitoEndpoint(need('AWS_REGION')),
    tokenUse,
  };
}

/** The secret's value: `{"username": …, "password": …}`. */
function credentialsFrom(secretString) {
  const parsed = JSON.parse(secretString);
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new Error('the canary secret must hold {"username", "password"}');
  }
  return { username: parsed.username, password: parsed.password };
}

module.exports = { signIn, checkHealth, checkList, configFrom, credentialsFrom, cognitoEndpoint };
