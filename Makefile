# The README's commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: deps run test bench chaos lint fmt proto fuzz

## deps: install PostgreSQL and nats-server for the tests (scripts/install-deps.sh)
deps:
	bash scripts/install-deps.sh

## run: the whole platform in one process, on SQLite, no other services needed
run:
	$(CARGO) run -p casewire -- dev

## test: formatting and clippy first, then every test (nextest when installed)
test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace; \
	else \
		$(CARGO) test --workspace; \
	fi

## fuzz: Schemathesis against a casewire dev it starts (FUZZ_SECONDS, 300 by default)
fuzz:
	scripts/fuzz.sh

## chaos: the fault suite, long run (500 texts, 10 faults; CASEWIRE_CHAOS_SEED repeats one):
## kill -9 of each process, nats-server and PostgreSQL down, then exactly-once, chain and
## stream checks and a table of recoveries. Its short run is part of `make test`.
chaos: deps
	CASEWIRE_CHAOS=full $(CARGO) test -p casewire --test chaos -- --nocapture

## bench: the load benchmark
bench: deps
	$(CARGO) run --release -p casewire-bench

## lint: formatting check and clippy, warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## fmt: format the workspace
fmt:
	$(CARGO) fmt --all

## proto: regenerate proto/ (the OpenAPI document and event schemas) from the code
proto:
	CASEWIRE_UPDATE_PROTO=1 $(CARGO) test -p casewire --test proto proto_matches_the_code
