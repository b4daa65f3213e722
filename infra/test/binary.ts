/** The real `gota-api`: what it prints and what its sources read, for the parity tests. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from './support.js';

let built = false;

/**
 * Runs `gota-api <command>` (debug build) with no Gota or Lambda configuration in the
 * environment. `cargo build` first, so a stale binary can never pass: a no-op when the
 * workspace is up to date, ~3 min on a cold checkout.
 */
export function gotaApi(command: 'table-schema' | 'openapi' | 'routes' | 'metrics'): unknown {
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

/** Rust source without its `#[cfg(test)]` module (test code names variables it never reads). */
function productionSource(relative: string): string {
  const text = readFileSync(join(REPO_ROOT, relative), 'utf8');
  const cut = text.indexOf('#[cfg(test)]');
  return cut === -1 ? text : text.slice(0, cut);
}

/** Every environment variable name the binary's configuration and telemetry read. */
export function variablesTheBinaryReads(): Set<string> {
  const names = new Set<string>();
  for (const file of ['core/src/config.rs', 'core/src/telemetry.rs', 'core/src/http/mod.rs']) {
    for (const m of productionSource(file).matchAll(/"((?:GOTA|RUST|AWS)_[A-Z_]+)"/g)) names.add(m[1]!);
  }
  return names;
}

/**
 * The IAM actions the DynamoDB store needs: one per SDK call on the client, plus the per-item
 * action of each part of a TransactWriteItems. Table administration (`create-table`, emulators
 * only) is left out on purpose: the function must not be able to do it.
 */
export function dynamoActionsTheStoreUses(): Set<string> {
  const source = productionSource('core/src/store/dynamodb.rs');
  const adminOnly = new Set(['create_table', 'describe_table', 'update_time_to_live']);
  const pascal = (snake: string) => snake.replace(/(^|_)(.)/g, (_, __, c: string) => c.toUpperCase());
  const actions = new Set<string>();
  for (const m of source.matchAll(/\.client\s*\.(\w+)\(\)/g)) {
    const op = m[1]!;
    if (adminOnly.has(op) || op === 'transact_write_items') continue;
    actions.add(`dynamodb:${pascal(op)}`);
  }
  for (const m of source.matchAll(/TransactWriteItem::builder\(\)\s*\.(put|update|delete|condition_check)\(/g)) {
    const part = { put: 'PutItem', update: 'UpdateItem', delete: 'DeleteItem', condition_check: 'ConditionCheckItem' }[
      m[1] as 'put' | 'update' | 'delete' | 'condition_check'
    ];
    actions.add(`dynamodb:${part}`);
  }
  return actions;
}
