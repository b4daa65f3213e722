/**
 * Offline checks of the synthesized templates: cdk-nag (already run by every synth: a finding
 * makes `app.synth()` throw), its acknowledgements, cfn-lint and `sam validate`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';

import { DOCS_FILES, ROUTABLE_METHODS } from '../lib/api.js';

import { REPO_ROOT, synth } from './support.js';

const stages = { dev: synth({ stage: 'dev' }), prod: synth({ stage: 'prod' }) };

/** A tool from the repository's virtualenv (`make deps`), else from PATH. */
function tool(name: string): string | undefined {
  const venv = join(REPO_ROOT, '.venv/bin', name);
  if (existsSync(venv)) return venv;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

describe('cdk-nag (AwsSolutions)', () => {
  it('stops synthesis on a finding (so a clean synth means zero findings)', () => {
    const app = new App();
    new sns.Topic(new Stack(app, 'Bad'), 'TopicWithoutTls');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let report = '';
    assert.throws(() => app.synth(), (e: Error) => {
      report = readFileSync(/found in: (\S+)/.exec(e.message)![1]!, 'utf8');
      return true;
    });
    assert.match(report, /"ruleName":\s*"AwsSolutions-SNS3"/);
  });

  it('has exactly the reviewed acknowledgements, each on one construct and with a reason', () => {
    const found: string[] = [];
    for (const c of stages.prod.stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [rule, reason] of Object.entries(m.data as Record<string, string>)) {
          assert.ok(reason.length >= 40, `${rule} on ${c.node.path} needs a real reason`);
          const where = c.node.path.replace(/^Gota-prod\//, '');
          // Unauthenticated methods: GET/HEAD are the public routes, the rest exist for the 405
          // (under /recipes and on /shopping-list every route is bearer, so there even GET/HEAD
          // exist for the 405).
          const method = /^Api\/RestApi\/Default\/.+\/([A-Z]+)$/.exec(where)?.[1];
          const isPublic =
            method !== undefined && /GET|HEAD/.test(method) && !where.includes('/recipes/') && !where.includes('/shopping-list/');
          if (method) assert.match(reason, isPublic ? /public by contract/ : /answer 405 \+ Allow/, where);
          found.push(`${where} ${rule.replace(/^Annotation::/, '')}`);
        }
      }
    }
    // The docs page and each of its files: public on GET/HEAD like /health, the rest for the 405.
    const docs = ['docs', ...DOCS_FILES.map((file) => `docs/${file}`)].flatMap((path) =>
      ROUTABLE_METHODS.flatMap((method) =>
        ['APIG4', 'COG4'].map((rule) => `Api/RestApi/Default/${path}/${method} AwsSolutions-${rule}`),
      ),
    );
    assert.equal(docs.length, 48);
    assert.deepEqual(found.sort(), [
      ...docs,
      'Api/CursorKey AwsSolutions-SMG4',
      'Api/FunctionRole AwsSolutions-IAM5[Resource::*]',
      'Api/RestApi AwsSolutions-APIG2',
      'Api/RestApi/CloudWatchRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'Api/RestApi/Default/health/DELETE AwsSolutions-APIG4',
      'Api/RestApi/Default/health/DELETE AwsSolutions-COG4',
      'Api/RestApi/Default/health/GET AwsSolutions-APIG4',
      'Api/RestApi/Default/health/GET AwsSolutions-COG4',
      'Api/RestApi/Default/health/HEAD AwsSolutions-APIG4',
      'Api/RestApi/Default/health/HEAD AwsSolutions-COG4',
      'Api/RestApi/Default/health/PATCH AwsSolutions-APIG4',
      'Api/RestApi/Default/health/PATCH AwsSolutions-COG4',
      'Api/RestApi/Default/health/POST AwsSolutions-APIG4',
      'Api/RestApi/Default/health/POST AwsSolutions-COG4',
      'Api/RestApi/Default/health/PUT AwsSolutions-APIG4',
      'Api/RestApi/Default/health/PUT AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/DELETE AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/DELETE AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/GET AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/GET AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/HEAD AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/HEAD AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/PATCH AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/PATCH AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/POST AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/POST AwsSolutions-COG4',
      'Api/RestApi/Default/openapi.json/PUT AwsSolutions-APIG4',
      'Api/RestApi/Default/openapi.json/PUT AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/DELETE AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/DELETE AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/PATCH AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/PATCH AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/PUT AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/PUT AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/import/DELETE AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/import/DELETE AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/import/GET AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/import/GET AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/import/HEAD AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/import/HEAD AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/import/PATCH AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/import/PATCH AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/import/PUT AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/import/PUT AwsSolutions-COG4',
      'Api/RestApi/Default/recipes/{id}/POST AwsSolutions-APIG4',
      'Api/RestApi/Default/recipes/{id}/POST AwsSolutions-COG4',
      // Photos: /recipes/{id}/photo serves POST and DELETE, …/photo/{size} GET (and HEAD).
      ...['GET', 'HEAD', 'PUT', 'PATCH'].flatMap((m) =>
        ['APIG4', 'COG4'].map((rule) => `Api/RestApi/Default/recipes/{id}/photo/${m} AwsSolutions-${rule}`),
      ),
      ...['POST', 'PUT', 'PATCH', 'DELETE'].flatMap((m) =>
        ['APIG4', 'COG4'].map((rule) => `Api/RestApi/Default/recipes/{id}/photo/{size}/${m} AwsSolutions-${rule}`),
      ),
      'Api/FunctionRole AwsSolutions-IAM5[Resource::<PhotosBucket4131342A.Arn>/photos/*]',
      'Api/FunctionRole AwsSolutions-IAM5[Resource::<PhotosBucket4131342A.Arn>/uploads/*]',
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Photos/AccessLogs AwsSolutions-S1',
      'Photos/WorkerRole AwsSolutions-IAM5[Resource::*]',
      'Photos/WorkerRole AwsSolutions-IAM5[Resource::<PhotosBucket4131342A.Arn>/photos/*]',
      'Photos/WorkerRole AwsSolutions-IAM5[Resource::<PhotosBucket4131342A.Arn>/uploads/*]',
      'Api/RestApi/Default/shopping-list/DELETE AwsSolutions-APIG4',
      'Api/RestApi/Default/shopping-list/DELETE AwsSolutions-COG4',
      'Api/RestApi/Default/shopping-list/GET AwsSolutions-APIG4',
      'Api/RestApi/Default/shopping-list/GET AwsSolutions-COG4',
      'Api/RestApi/Default/shopping-list/HEAD AwsSolutions-APIG4',
      'Api/RestApi/Default/shopping-list/HEAD AwsSolutions-COG4',
      'Api/RestApi/Default/shopping-list/PATCH AwsSolutions-APIG4',
      'Api/RestApi/Default/shopping-list/PATCH AwsSolutions-COG4',
      'Api/RestApi/Default/shopping-list/PUT AwsSolutions-APIG4',
      'Api/RestApi/Default/shopping-list/PUT AwsSolutions-COG4',
      'Api/RestApi/DeploymentStage.prod AwsSolutions-APIG3',
      'Auth/UserPool AwsSolutions-COG2',
      'Auth/UserPool AwsSolutions-COG8',
      'ChatRelay/Secret AwsSolutions-SMG4',
      'Delivery/DeploymentGroup/ServiceRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      'Monitoring/AlarmTopic AwsSolutions-SNS2',
      'SyntheticUser/Artifacts AwsSolutions-S1',
      'SyntheticUser/Canary/ServiceRole AwsSolutions-IAM5[Resource::*]',
      'SyntheticUser/Canary/ServiceRole AwsSolutions-IAM5[Resource::<SyntheticUserArtifactsBE75C841.Arn>/*]',
      'SyntheticUser/Canary/ServiceRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/cwsyn-*]',
      'SyntheticUser/Credentials AwsSolutions-SMG4',
    ].sort());
  });
});

describe('cfn-lint', () => {
  const cfnLint = tool('cfn-lint');

  for (const [stage, { templatePath }] of Object.entries(stages)) {
    it(`finds no error and no warning in the ${stage} template (W3005 ignored)`, () => {
      assert.ok(cfnLint, 'cfn-lint not found: run `make deps` or `pip install -r infra/requirements.txt`');
      // W3005 ("obsolete DependsOn") is how CDK orders a function after its role's policy;
      // harmless, and not ours to remove. Every other warning fails the test.
      const run = spawnSync(cfnLint, ['--ignore-checks', 'W3005', '--', templatePath], { encoding: 'utf8' });
      assert.equal(run.status, 0, `cfn-lint exit ${run.status}:\n${run.stdout}${run.stderr}`);
    });
  }
});

describe('sam validate', () => {
  const sam = tool('sam');
  // `sam validate --lint` cannot ignore W3005 (it passes fixed arguments to cfn-lint and reads
  // no .cfnlintrc), so it runs without --lint; cfn-lint above is the lint.
  it('accepts the dev template', { skip: sam ? false : 'sam not installed (pip install -r infra/requirements.txt)' }, () => {
    const out = execFileSync(sam!, ['validate', '--template-file', stages.dev.templatePath, '--region', 'us-east-1'], {
      encoding: 'utf8',
      env: { ...process.env, SAM_CLI_TELEMETRY: '0' },
    });
    assert.match(out, /is a valid SAM Template/);
  });
});
