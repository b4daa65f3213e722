#!/usr/bin/env bash
# Runs schemathesis with every check against a fresh standalone gota-api (embedded store, dev
# auth) on a free loopback port, then stops the server. Usage: schemathesis.sh SEED EXAMPLES
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}; examples=${2:-300}
data=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GOTA_DATA_DIR="$data" GOTA_LISTEN="127.0.0.1:$port" RUST_LOG=warn target/debug/gota-api &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/dev/token" -H 'Content-Type: application/json' \
  -d '{"username": "schemathesis", "groups": ["admin"]}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
cd integration-tests
GOTA_TOKEN="$token" PYTHONPATH=. ../.venv/bin/st run "http://127.0.0.1:$port/openapi.json" \
  --checks all --seed "$seed" --max-examples "$examples"
