/** One way to build the app in tests: no Rust compile, no bundling, nag on. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';

import { buildApp } from '../lib/app.js';
import type { GotaStack } from '../lib/gota-stack.js';
import { workspaceVersion } from '../lib/version.js';

/** Repository root, for the `gota-api` binary and the Rust sources the parity tests read. */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** A stand-in for the cargo-lambda build: a directory holding a `bootstrap` that does nothing. */
export function fakeLambdaCode(): lambda.Code {
  const dir = mkdtempSync(join(tmpdir(), 'gota-lambda-'));
  writeFileSync(join(dir, 'bootstrap'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  return lambda.Code.fromAsset(dir);
}

export interface Synthesized {
  readonly stack: GotaStack;
  readonly template: Template;
  /** Directory of the cloud assembly (the template file is `<stackName>.template.json`). */
  readonly outdir: string;
  readonly templatePath: string;
}

const cache = new Map<string, Synthesized>();

/** Synthesizes the stage once per test process (nag runs as part of `app.synth()`). */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(context);
  const hit = cache.get(key);
  if (hit) return hit;
  const outdir = mkdtempSync(join(tmpdir(), 'gota-cdk-out-'));
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = buildApp({
    app,
    code: fakeLambdaCode(),
    relayCode: fakeLambdaCode(),
    workerCode: fakeLambdaCode(),
    version: typeof context.version === 'string' ? context.version : workspaceVersion(REPO_ROOT),
  });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const result: Synthesized = {
    stack,
    template: Template.fromJSON(artifact.template as Record<string, unknown>),
    outdir,
    templatePath: join(outdir, artifact.templateFile),
  };
  cache.set(key, result);
  return result;
}
