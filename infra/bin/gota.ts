/**
 * `cdk synth|deploy -c stage=dev|prod`: the Lambda code is the output of
 * `cargo lambda build --release --arm64` (`make build-lambda`), found in the workspace target
 * (or in the directory given as `-c lambdaDir=…`). `make bootstrap` never runs this app.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

import { buildApp } from '../lib/app.js';

const app = new App();
const lambdaDir: unknown = app.node.tryGetContext('lambdaDir');
const buildDir =
  typeof lambdaDir === 'string' && lambdaDir !== ''
    ? `${lambdaDir.replace(/\/$/, '')}/`
    : fileURLToPath(new URL('../../target/lambda/gota-api/', import.meta.url));
if (!existsSync(`${buildDir}bootstrap`)) {
  console.error(
    `gota infra: ${buildDir}bootstrap is missing; build it first with \`make build-lambda\` ` +
      '(cargo lambda build --release --arm64 -p gota-core --bin gota-api).',
  );
  process.exit(1);
}

// Built by the same `make build-lambda`, next to gota-api.
const relayDir = fileURLToPath(new URL('../../target/lambda/gota-relay/', import.meta.url));
if (!existsSync(`${relayDir}bootstrap`)) {
  console.error(`gota infra: ${relayDir}bootstrap is missing; build it with \`make build-lambda\`.`);
  process.exit(1);
}

buildApp({ app, code: lambda.Code.fromAsset(buildDir), relayCode: lambda.Code.fromAsset(relayDir) });
