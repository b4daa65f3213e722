/** The real `gota-api`: what it prints about itself, for the parity tests. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { REPO_ROOT } from './support.js';

let built = false;

/**
 * Runs `gota-api <command>` (debug build) with no Gota or Lambda configuration in the
 * environment. `cargo build` first, so a stale binary can never pass: a no-op when the
 * workspace is up to date, ~3 min on a cold checkout.
 */
export function gotaApi(
  command: 'table-schema' | 'openapi' | 'routes' | 'metrics' | 'env' | 'iam-actions',
): unknown {
  if (!built) {
    execFileSync('cargo', ['build', '--quiet', '-p', 'gota-core', '--bin', 'gota-api'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    built = true;
  }
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('GOTA_') && k !== 'AWS_LAMBDA_RUNTIME_API'),
  );
  const out = execFileSync(join(REPO_ROOT, 'target/debug/gota-api'), [command], { env, encoding: 'utf8' });
  return JSON.parse(out);
}

/** One operation of `gota-api routes`: what the router serves (GET also answers HEAD). */
export interface BinaryRoute {
  readonly method: string;
  readonly path: string;
  readonly access: 'public' | 'bearer';
  /** In the OpenAPI document (false for the document itself). */
  readonly documented: boolean;
}

/** The Lambda router's own route table (no dev-auth routes), as the binary prints it. */
export function routesTheBinaryServes(): BinaryRoute[] {
  return gotaApi('routes') as BinaryRoute[];
}

/** How one mode uses a variable (`gota-api env`). */
export type VariableUse = 'required' | { required_unless: string } | 'optional' | 'selects' | 'absent' | 'unread';

/** One environment variable the binary's configuration reads, as `gota-api env` prints it. */
export interface BinaryVariable {
  readonly name: string;
  readonly lambda: VariableUse;
  readonly standalone: VariableUse;
  readonly meaning: string;
}

/** Every environment variable the binary's configuration reads (one table in config.rs). */
export function variablesTheBinaryReads(): BinaryVariable[] {
  return gotaApi('env') as BinaryVariable[];
}

/**
 * The IAM actions each adapter calls while serving, by service prefix (`dynamodb`,
 * `secretsmanager`). A black-box test on moto records what the SDK sends and holds it equal.
 * Table administration (`create-table`, emulators only) is not among them: the function must
 * not be able to do it.
 */
export function iamActionsTheBinaryCalls(): Record<string, string[]> {
  return gotaApi('iam-actions') as Record<string, string[]>;
}

let workerBuilt = false;

/**
 * Runs `gota-worker <command>` (debug build) as `gotaApi` runs `gota-api`: `cargo build`
 * first, so a missing or stale worker fails the test rather than passing it.
 */
export function gotaWorker(command: 'env'): unknown {
  if (!workerBuilt) {
    execFileSync('cargo', ['build', '--quiet', '-p', 'gota-worker', '--bin', 'gota-worker'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    workerBuilt = true;
  }
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('GOTA_') && k !== 'AWS_LAMBDA_RUNTIME_API'),
  );
  return JSON.parse(execFileSync(join(REPO_ROOT, 'target/debug/gota-worker'), [command], { env, encoding: 'utf8' }));
}
