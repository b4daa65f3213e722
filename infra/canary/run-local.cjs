/**
 * Runs the deployed canary's handler (`src/index.js`, unchanged) on this machine, with the
 * Synthetics runtime and the AWS SDK replaced by `stand-ins/` (see each stand-in for what it
 * does and does not reproduce). Used by `make test` against the local binary:
 *
 *   GOTA_API_URL=… GOTA_USER_POOL_CLIENT_ID=… GOTA_CANARY_SECRET_ARN=… \
 *   GOTA_STAND_IN_SECRET_STRING='{"username":…,"password":…}' GOTA_COGNITO_ENDPOINT=http://127.0.0.1:… \
 *   node infra/canary/run-local.cjs
 *
 * Prints the steps as JSON on stdout; exit 0 when the handler resolved, 1 when it threw.
 */
'use strict';

const Module = require('node:module');
const path = require('node:path');

// The stand-ins are found the way the runtime's own modules are: by bare name. NODE_PATH is
// read once at start-up, so it is set and re-read here rather than by whoever runs this.
const standIns = path.join(__dirname, 'stand-ins');
process.env.NODE_PATH = standIns;
Module._initPaths();
if (!require.resolve('Synthetics').startsWith(standIns)) throw new Error('Synthetics did not resolve to the stand-in');

const { steps } = require('Synthetics');
const { handler } = require('./src/index.js');

handler().then(
  (message) => {
    process.stdout.write(`${JSON.stringify({ passed: true, message, steps })}\n`);
  },
  (error) => {
    process.stdout.write(`${JSON.stringify({ passed: false, error: String(error.message), steps })}\n`);
    process.exitCode = 1;
  },
);
