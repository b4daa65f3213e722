#!/usr/bin/env bash
# `make bench`: every benchmark of the project, in one run, on this machine.
#   1. criterion in-process benches (cargo bench -p gota-core --bench inprocess)
#   2. the arm64 Lambda zip (cargo lambda build --release --arm64 --output-format zip), built
#      alongside the release build when asked (BENCH_ZIP=1) or when a zip built here before is
#      older than the source; a fresh clone skips it (it is a second compile of everything)
#   3. gota-bench: the crash test (kill -9 under load), the Lambda cold start reading DynamoDB
#      over TLS (warmed and unwarmed), start-up and wrk load, release gota-api vs bare axum /
#      bare lambda_http
#   4. gota-bench photo: the photo worker's develop() per 12 MP image (median, p90, the split)
#      and the peak RSS of one develop() (12 MP, 48 MP, 48 MP at the worker's concurrency)
# Results: target/bench/report.md (the tables doc/performance.md quotes), with each phase's time.
# Needs: the repo's .venv (moto for cold-dynamo; cargo-lambda and Zig for the zip), made here
# alongside the build if missing, and wrk (installed here if missing).
# BENCH_ZIP=1 builds the zip, BENCH_ZIP=0 never does; unset, it is rebuilt only when one exists
# and a source file is newer (cold it is ~6 min more on 2 cores, and `make bench` from a fresh
# clone must stay under 10 min). Without a zip the report says "not built".
# Arguments go to gota-bench (--rounds N --duration SECS --starts N …).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
target=${CARGO_TARGET_DIR:-target}
out=$target/bench
mkdir -p "$out"
# Seconds each phase took, for the report: "name seconds" lines.
phases=$out/phases.txt
: >"$phases"
phase_started=$started
phase() {
  local now
  now=$(date +%s)
  echo "$1 $((now - phase_started))" >>"$phases"
  phase_started=$now
}

# The venv (pip, mostly downloads) is made while the release build keeps the cores busy, rather
# than before it (`make bench` used to depend on `make deps`, which also installs chromium, that
# no benchmark uses). Only the zip build needs it early (cargo-lambda, Zig).
venv_pid=""
if [ ! -f .venv/.installed ]; then
  echo "bench: making .venv alongside the build (log in $out/venv.log)" >&2
  make --no-print-directory .venv/.installed >"$out/venv.log" 2>&1 &
  venv_pid=$!
fi
wait_venv() {
  if [ -n "$venv_pid" ]; then
    wait "$venv_pid" || { tail -20 "$out/venv.log" >&2; echo "bench: making .venv failed" >&2; exit 1; }
    venv_pid=""
  fi
}

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk (Debian package)" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y -q wrk >/dev/null 2>&1 \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q wrk >/dev/null; }
fi

# The arm64 zip is a second compile of everything. With one codegen unit and fat LTO each build
# has long single-threaded stretches (the DynamoDB SDK crate, the final link), so the two builds
# run side by side and fill each other's idle core. The zip build has a target folder of its
# own inside target/ (cargo would otherwise make one build wait for the other's lock).
zip_dir=$target/lambda-zip
zip_pid=""
trap '[ -z "$zip_pid" ] || kill "$zip_pid" 2>/dev/null || true; [ -z "$venv_pid" ] || kill "$venv_pid" 2>/dev/null || true' EXIT
zip=$zip_dir/lambda/gota-api/bootstrap.zip
build_zip=${BENCH_ZIP:-}
if [ -z "$build_zip" ]; then
  build_zip=0
  # A file the zip is built from (tracked Rust sources, manifests, the lock file) newer than it.
  if [ -f "$zip" ]; then
    newest=$(git ls-files -z -- '*.rs' '*Cargo.toml' Cargo.lock \
      | xargs -0 -r stat -c %Y 2>/dev/null | sort -n | tail -1)
    [ "${newest:-0}" -le "$(stat -c %Y "$zip")" ] || build_zip=1
  fi
  [ -f "$zip" ] || echo "bench: no arm64 zip (BENCH_ZIP=1 builds it, ~6 min more cold)" >&2
fi
if [ "$build_zip" != 0 ]; then
  wait_venv
  echo "bench: arm64 Lambda zip (in the background, log in $out/zip-build.log)" >&2
  # cargo-lambda finds Zig as `python3 -m ziglang`: the venv's python must come first.
  PATH="$PWD/.venv/bin:$PATH" CARGO_TARGET_DIR="$zip_dir" \
    cargo lambda build --release --arm64 --output-format zip -p gota-core --bin gota-api \
    >"$out/zip-build.log" 2>&1 &
  zip_pid=$!
fi

echo "bench: release build of gota-api, the baselines and the criterion benches" >&2
# One invocation: the benches' dev-dependencies unify features with the binaries', so every
# crate is compiled once (a separate `cargo bench` build would compile the SDK again).
cargo build --release --locked -p gota-core -p gota-bench --bins --benches
phase "release build (gota-api, baselines, benches)"

if [ -n "$zip_pid" ] && ! wait "$zip_pid"; then
  tail -20 "$out/zip-build.log" >&2
  echo "bench: the arm64 zip build failed (log above)" >&2
  exit 1
fi
[ -z "$zip_pid" ] || phase "arm64 zip build (after the release build)"
zip_pid=""
wait_venv
phase "venv (after the release build)"

# Nothing else compiles from here on: the measurements have the machine to themselves.
echo "bench: in-process (criterion)" >&2
cargo bench --locked -p gota-core --bench inprocess -- --noplot | tee "$out/inprocess.txt"
phase "in-process (criterion)"
echo "bench: allocations per request" >&2
cargo bench --locked -p gota-core --bench allocations | tee "$out/allocations.txt"
phase "allocations"

# Longer than make test's (2 s, 2 kills); the checks after each restart read every acknowledged
# write back, so their cost grows with the load's length (60 s of load took 150 s in all).
echo "bench: crash test" >&2
"$target/release/gota-bench" crash --seconds 20 --rounds 6 | tee "$out/crash.txt"
phase "crash test"
echo "bench: Lambda cold start, first request reading DynamoDB over TLS" >&2
"$target/release/gota-bench" cold-dynamo --rounds 10 | tee "$out/cold-dynamo.txt"
phase "cold start over TLS (cold-dynamo)"
echo "bench: photo worker, develop() per image and its peak memory" >&2
"$target/release/gota-bench" photo | tee "$out/photo.txt"
phase "photo worker (gota-bench photo)"
echo "bench: start-up and load" >&2
"$target/release/gota-bench" --report "$out/servers.md" --zip "$zip" "$@"
phase "start-up and load"

{
  echo "# make bench — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m), $(rustc --version)"
  echo
  echo '## In-process (criterion medians; baseline = same path answering constant JSON)'
  echo
  echo '```'
  sed -n '/^case (median)/,$p' "$out/inprocess.txt"
  echo '```'
  echo
  echo '## Allocations per request (in-process; "gota own" = gota − baseline)'
  echo
  echo '```'
  sed -n '/^allocations per request/,$p' "$out/allocations.txt"
  echo '```'
  echo
  echo '## Crash test (kill -9 under POST/PUT load, restart, every acknowledged write checked)'
  echo
  echo '```'
  tail -3 "$out/crash.txt"
  echo '```'
  echo
  cat "$out/cold-dynamo.txt"
  echo
  cat "$out/photo.txt"
  echo
  cat "$out/servers.md"
  echo
  echo '## make bench itself'
  echo
  echo '| phase | seconds |'
  echo '|---|---:|'
  sed -E 's/^(.*) ([0-9]+)$/| \1 | \2 |/' "$phases"
  echo
  echo "make bench took $(( $(date +%s) - started )) s"
} > "$out/report.md"
echo "bench: report in $out/report.md" >&2
