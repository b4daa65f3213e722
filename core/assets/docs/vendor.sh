#!/usr/bin/env bash
# Copies the files GET /docs needs from the pinned swagger-ui-dist (package-lock.json) into
# vendor/, which is committed: `cargo build` embeds it and never needs npm or a network (ADR 0021).
#   core/assets/docs/vendor.sh           refresh vendor/ (after changing the pinned version)
#   core/assets/docs/vendor.sh --check   fail if vendor/ differs from the pinned package
set -euo pipefail
cd "$(dirname "$0")"

# Only what the page loads, and the licences that must travel with it.
FILES=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)

# --ignore-scripts: swagger-ui-dist depends on @scarf/scarf, whose install script reports the
# installation to a third party; nothing here needs an install script.
SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --silent

out=vendor
if [[ "${1:-}" == "--check" ]]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
for f in "${FILES[@]}"; do
  cp "node_modules/swagger-ui-dist/$f" "$out/$f"
done
if [[ "${1:-}" == "--check" ]]; then
  diff -r -q "$out" vendor || {
    echo "core/assets/docs/vendor/ differs from swagger-ui-dist in package-lock.json: run core/assets/docs/vendor.sh" >&2
    exit 1
  }
  echo "core/assets/docs/vendor/ matches swagger-ui-dist $(node -p 'require("./node_modules/swagger-ui-dist/package.json").version')"
fi
