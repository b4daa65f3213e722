/**
 * doc/deploy.md as a new user runs it: `make bootstrap` needs no Lambda build, every shell
 * variable its commands use is set on the page before, and SAM takes the deploy region.
 * Nothing here reaches AWS: the one command that would is pointed at a loopback server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { REPO_ROOT } from './support.js';

/** Runs a command to its end (or `timeoutMs`), with its output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('make bootstrap', () => {
  it('bootstraps the account without synthesizing the app, so before any Lambda build', async () => {
    // Stands in for every AWS endpoint and proxy: records who called and refuses the call.
    const seen: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? ''}`);
      res.writeHead(403, { 'Content-Type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>loopback stand-in</Message></Error></ErrorResponse>',
      );
    });
    server.on('connect', (req, socket) => {
      seen.push(`CONNECT ${req.url}`);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ENDPOINT_URL: local,
        HTTPS_PROXY: local,
        HTTP_PROXY: local,
        NO_PROXY: '',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'not-a-secret',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        CDK_DISABLE_VERSION_CHECK: '1',
        CDK_DISABLE_CLI_TELEMETRY: 'true',
      };
      const { output } = await run(
        'make',
        [
          '--no-print-directory',
          // The test runs with infra/ installed; never reinstall it from here.
          '-o',
          'infra/node_modules/.installed',
          'bootstrap',
          'ACCOUNT=111122223333',
          'REGION=eu-west-1',
          // If the verb synthesized the app, this would make it stop for want of a build.
          'CDK_ARGS=--no-notices -c lambdaDir=/nonexistent/gota-lambda-build',
        ],
        env,
        90_000,
      );
      assert.doesNotMatch(output, /gota infra:|bootstrap is missing|Subprocess exited/, output);
      assert.match(output, /Bootstrapping environment aws:\/\/111122223333\/eu-west-1/, output);
      assert.ok(
        seen.some((s) => /aws-cdk\//.test(s)),
        `the CDK CLI never reached (the stand-in for) AWS:\n${seen.join('\n')}\n${output}`,
      );
    } finally {
      server.close();
    }
  });
});

/** The fenced `bash` blocks of a Markdown page, in order. */
function bashBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Shell variables a page uses before setting them. Set means `NAME=` at the start of a
 * command (also after `export`, `;`, `&&`, `(`) or a `read`/`for` target; used means `$NAME`
 * or `${NAME…}` outside single quotes. Positional and special parameters are the shell's.
 */
function usedBeforeSet(blocks: string[], given: Set<string>): string[] {
  const set = new Set(given);
  const missing: string[] = [];
  for (const block of blocks) {
    for (const rawLine of block.split('\n')) {
      const line = rawLine.replace(/#.*$/, '').replace(/'[^']*'/g, "''");
      const uses = [...line.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
      const sets = [
        ...line.matchAll(/(?:^|[;&|(]\s*|\bexport\s+|\blocal\s+)([A-Za-z_][A-Za-z0-9_]*)=/g),
        ...line.matchAll(/\b(?:read(?:\s+-\w+)*|for)\s+([A-Za-z_][A-Za-z0-9_]*)/g),
      ].map((m) => m[1]!);
      // Assignments on a line happen before later uses on the same line (`A=$(…); use $A`).
      for (const name of uses) if (!set.has(name) && !sets.includes(name)) missing.push(name);
      for (const name of sets) set.add(name);
    }
  }
  return [...new Set(missing)];
}

describe('doc/deploy.md', () => {
  const page = readFileSync(join(REPO_ROOT, 'doc/deploy.md'), 'utf8');

  it('sets every shell variable before a command uses it', () => {
    const blocks = bashBlocks(page);
    assert.ok(blocks.length >= 5, 'the page has its commands in bash blocks');
    // Set by the shell or the user's environment, not by the page.
    const environment = new Set(['PATH', 'HOME']);
    assert.deepEqual(usedBeforeSet(blocks, environment), []);
  });

  it('catches a variable used but never set (the check can fail)', () => {
    assert.deepEqual(usedBeforeSet(['aws dynamodb delete-table --table-name "$TABLE"'], new Set()), ['TABLE']);
    assert.deepEqual(usedBeforeSet(['TABLE=$(out TableName)\necho "$TABLE"'], new Set()), []);
  });

  it('bootstraps with the make verb, before building', () => {
    const bootstrap = page.indexOf('make bootstrap');
    assert.ok(bootstrap > 0, 'the page bootstraps with `make bootstrap`');
    assert.ok(bootstrap < page.indexOf('make build-lambda'), 'bootstrap comes before the build');
    assert.doesNotMatch(page, /cd infra && npx cdk bootstrap/);
  });
});

describe('samconfig.toml', () => {
  it('names no region, so `sam` uses the region the stack was deployed to (AWS_REGION)', () => {
    const config = readFileSync(join(REPO_ROOT, 'samconfig.toml'), 'utf8');
    assert.doesNotMatch(config.replace(/#.*$/gm, ''), /^\s*region\s*=/m);
  });
});
