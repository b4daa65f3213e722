# The verbs people type. `make run` serves the API locally; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
# Emulators and tools the tests start themselves: moto, schemathesis, cargo-lambda (+ Zig).
VENV_STAMP := $(VENV)/.installed

.PHONY: help run test lint fmt build deps schemathesis

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

run: ## Serve the API on 127.0.0.1:3000 (embedded store in ./.gota, dev auth)
	$(CARGO) run -p gota-core --bin gota-api

test: deps lint ## Run every test: fmt, clippy, unit, router, conformance, black-box on moto, Lambda, schemathesis
	$(CARGO) test --workspace --all-targets

deps: $(VENV_STAMP) ## Install the test tools into ./.venv (pinned in integration-tests/requirements.txt)

$(VENV_STAMP): integration-tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r integration-tests/requirements.txt
	touch $@

schemathesis: deps ## Explore the API with schemathesis beyond CI's fixed seed: make schemathesis SEED=42 EXAMPLES=500
	$(CARGO) build -p gota-core --bin gota-api
	integration-tests/schemathesis.sh "$(or $(SEED),$$RANDOM)" "$(or $(EXAMPLES),300)"

lint: ## cargo fmt --check and clippy with warnings denied
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

build: ## Release build of gota-api
	$(CARGO) build --release -p gota-core --bin gota-api
