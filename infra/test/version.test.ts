/** The stack says which release it runs: the function's description and a stack tag (ADR 0022). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { workspaceVersion } from '../lib/version.js';
import { REPO_ROOT, synth } from './support.js';

type Resource = { Type: string; Properties: Record<string, any> };
const apiFunction = (template: ReturnType<typeof synth>['template']): Resource =>
  Object.entries((template.toJSON() as { Resources: Record<string, Resource> }).Resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('ApiFunction'),
  )![1];

describe('version', () => {
  it('is the one version every workspace crate has, as cargo reads it', () => {
    const version = workspaceVersion(REPO_ROOT);
    assert.match(version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    // What `make release` edits: the [workspace.package] table of the root manifest.
    const manifest = readFileSync(`${REPO_ROOT}Cargo.toml`, 'utf8');
    const table = manifest.slice(manifest.indexOf('[workspace.package]')).split(/\n\[/)[0]!;
    assert.ok(table.includes(`version = "${version}"`), table);
  });

  it('the deployed stage carries the workspace version in the function description and the gota:version tag', () => {
    const version = workspaceVersion(REPO_ROOT);
    const { stack, template, outdir } = synth({ stage: 'prod', alarmEmail: 'oncall@example.com' });
    assert.equal(
      apiFunction(template).Properties.Description,
      `gota-api ${version}: the Gota recipe API (Rust, lambda_http)`,
    );
    // Stack tags go to CloudFormation with the deploy (which tags every resource it can), as
    // the cloud assembly's manifest records them, not into the template.
    const manifest = JSON.parse(readFileSync(`${outdir}/manifest.json`, 'utf8')) as {
      artifacts: Record<string, { properties?: { tags?: Record<string, string> } }>;
    };
    assert.equal(manifest.artifacts[stack.artifactId]!.properties!.tags!['gota:version'], version);
    assert.equal(stack.tags.tagValues()['gota:version'], version);
    assert.equal(stack.templateOptions.description, `Gota recipe API ${version} (prod)`);
  });

  it('a version given as context wins (a deploy machine without cargo)', () => {
    const { stack, template } = synth({ stage: 'dev', version: '9.8.7-rc.1' });
    assert.match(apiFunction(template).Properties.Description as string, /^gota-api 9\.8\.7-rc\.1: /);
    assert.equal(stack.tags.tagValues()['gota:version'], '9.8.7-rc.1');
  });
});
