import { App, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';

import { GotaStack } from './gota-stack.js';
import { parseBooleanContext, parseStage, stageConfig, type StageOverrides } from './stage.js';

export interface BuildAppOptions {
  readonly app: App;
  readonly code: lambda.Code;
  readonly relayCode: lambda.Code;
  readonly workerCode: lambda.Code;
  /** The workspace version (`workspaceVersion`): the function's description and a stack tag. */
  readonly version: string;
}

/**
 * The app as `cdk synth` sees it: one stack for the stage chosen in context, checked by cdk-nag's
 * AwsSolutions pack (any unacknowledged finding stops synthesis).
 */
export function buildApp({ app, code, relayCode, workerCode, version }: BuildAppOptions): GotaStack {
  const stage = parseStage(app.node.tryGetContext('stage'));
  const overrides: StageOverrides = {
    corsAllowOrigin: optionalString(app, 'corsAllowOrigin'),
    alarmEmail: optionalString(app, 'alarmEmail'),
    alarmWebhookUrl: optionalString(app, 'alarmWebhookUrl'),
    runbookUrl: optionalString(app, 'runbookUrl'),
    selfSignUp: parseBooleanContext('selfSignUp', app.node.tryGetContext('selfSignUp')),
    waf: parseBooleanContext('waf', app.node.tryGetContext('waf')),
  };
  const stack = new GotaStack(app, `Gota-${stage}`, {
    config: stageConfig(stage, overrides),
    code,
    relayCode,
    workerCode,
    version,
    description: `Gota recipe API ${version} (${stage})`,
    tags: { project: 'gota', stage, 'gota:version': version },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

function optionalString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
}
