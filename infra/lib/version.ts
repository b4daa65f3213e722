import { execFileSync } from 'node:child_process';

/**
 * The workspace's one semantic version (`[workspace.package] version` in Cargo.toml, which every
 * crate inherits), as Cargo itself reads it: `cargo metadata --no-deps`, not a scan of the
 * manifest. `make release` bumps it; the stack carries it in the function's description and the
 * `gota:version` tag (ADR 0022).
 */
export function workspaceVersion(repoRoot: string): string {
  const out = execFileSync(
    'cargo',
    ['metadata', '--no-deps', '--format-version', '1', '--offline', '--manifest-path', `${repoRoot}/Cargo.toml`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const metadata = JSON.parse(out) as { packages: { name: string; version: string }[] };
  const versions = new Set(metadata.packages.map((p) => p.version));
  if (versions.size !== 1) {
    throw new Error(`the workspace's crates disagree on the version: ${[...versions].join(', ')}`);
  }
  return [...versions][0]!;
}
