/**
 * `cdk synth|deploy -c stage=dev|prod`: the Lambda code is the output of
 * `cargo lambda build --release --arm64` (`make build-lambda`), found in the workspace target
 * (or in the folder given as `-c lambdaDir=…`, which holds `gota-api/`, `gota-relay/` and
 * `gota-worker/`).
 * `make bootstrap` never runs this app.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

import { buildApp } from '../lib/app.js';
import { workspaceVersion } from '../lib/version.js';

const app = new App();
// cargo lambda's output folder: one sub-folder per binary (`gota-api/`, `gota-relay/`, `gota-worker/`).
const lambdaDir: unknown = app.node.tryGetContext('lambdaDir');
const lambdaRoot =
  typeof lambdaDir === 'string' && lambdaDir !== ''
    ? `${lambdaDir.replace(/\/$/, '')}/`
    : fileURLToPath(new URL('../../target/lambda/', import.meta.url));

/** The folder holding `binary`'s arm64 `bootstrap`; stops with one clear line when it is missing. */
function built(binary: string): string {
  const dir = `${lambdaRoot}${binary}/`;
  if (!existsSync(`${dir}bootstrap`)) {
    console.error(
      `gota infra: ${dir}bootstrap is missing; build it first with \`make build-lambda\` ` +
        '(cargo lambda build --release --arm64, every binary).',
    );
    process.exit(1);
  }
  return dir;
}

// `-c version=…` overrides the workspace version (e.g. a deploy machine without cargo).
const versionContext: unknown = app.node.tryGetContext('version');
const version =
  typeof versionContext === 'string' && versionContext !== ''
    ? versionContext
    : workspaceVersion(fileURLToPath(new URL('../../', import.meta.url)));

buildApp({
  app,
  version,
  code: lambda.Code.fromAsset(built('gota-api')),
  relayCode: lambda.Code.fromAsset(built('gota-relay')),
  workerCode: lambda.Code.fromAsset(built('gota-worker')),
});
