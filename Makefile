# The verbs people type. `make run` serves the API locally; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo

.PHONY: help run test lint fmt build

help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

run: ## Serve the API on 127.0.0.1:3000 (embedded store in ./.gota, dev auth)
	$(CARGO) run -p gota-core --bin gota-api

test: lint ## Run every test (format, lints, unit, router, store conformance, real binary)
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

lint: ## cargo fmt --check and clippy with warnings denied
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

build: ## Release build of gota-api
	$(CARGO) build --release -p gota-core --bin gota-api
