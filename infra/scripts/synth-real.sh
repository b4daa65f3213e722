#!/usr/bin/env bash
# Synthesizes every stage with the real cargo-lambda build (not part of `npm test`: a cold
# `cargo lambda build --release --arm64` takes ~8 min on 2 cores). Needs cargo-lambda and Zig,
# which `make deps` installs into ../.venv.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
export PATH="$root/.venv/bin:$PATH"
(cd "$root" && cargo lambda build --release --arm64 -p gota-core --bin gota-api -p gota-relay --bin gota-relay -p gota-worker --bin gota-worker)
for bin in gota-api gota-relay gota-worker; do
  test -x "$root/target/lambda/$bin/bootstrap"
  # ELF e_machine 0xB7 (bytes 18-19) is aarch64: catch an x86_64 build before AWS does.
  machine=$(od -An -tx1 -j18 -N2 "$root/target/lambda/$bin/bootstrap" | tr -d ' ')
  [ "$machine" = "b700" ] || { echo "synth:real: $bin bootstrap is not an arm64 ELF (e_machine $machine)" >&2; exit 1; }
done
cd "$here"
# dev last: samconfig.toml points `sam local` at cdk.out/Gota-dev.template.json.
for stage in prod dev; do
  npx cdk synth --quiet -c stage="$stage" -o "cdk.out"
done
echo "synth:real: cdk.out/Gota-dev.template.json and Gota-prod.template.json use the real bootstrap"
