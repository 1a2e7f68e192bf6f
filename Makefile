# Murmur. The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR := never
WASM := --target wasm32-unknown-unknown

.PHONY: run test setup bundle lint test-native test-wasm test-e2e clean

## make run: build the release bundle and serve the app on loopback (URL printed).
run: setup
	scripts/run

## make test: formatting, clippy (native + wasm32), native tests, wasm tests in headless
## Chromium, and the browser end-to-end suite against the release bundle.
test: setup lint test-native test-wasm bundle test-e2e
	@echo "make test: all suites passed"

setup:
	scripts/setup

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p murmur-core -p murmur-app --all-targets --locked $(WASM) -- -D warnings

test-native:
	cargo test --workspace --locked

test-wasm:
	CHROMEDRIVER=/usr/bin/chromedriver \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p murmur-core --locked $(WASM)

bundle:
	trunk build --release --offline
	cargo build -p murmur-cli --locked

test-e2e:
	node --test --test-concurrency=1 tests/e2e/

clean:
	cargo clean
	rm -rf dist .murmur tests/artifacts
