# Murmur. The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# The node and CLI binaries with their examples, in target/node/ (one build line, in scripts/lib).
BUILD_NODE_BINARIES = source scripts/lib/common.sh && build_node_binaries
export CARGO_TERM_COLOR := never
WASM := --target wasm32-unknown-unknown

FUZZ_TARGETS := combined_payload peel_layer v4_decode rpc_json envelope message_open node_http bencoded
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 15

.PHONY: run test setup screenshots bundle lint test-native test-wasm test-e2e fuzz fuzz-smoke soak deny advisories bench bench-crypto bench-node bench-scale bench-latency bench-files bench-groups bench-app bench-tools clean

## make run: start a 12-node devnet and serve the app's release bundle on loopback (URLs printed).
run: setup
	scripts/run

## make test: formatting, clippy (native + wasm32), native tests, wasm tests in headless
## Chromium, and the browser end-to-end suite against the release bundle.
test: setup lint deny test-native test-wasm bundle test-e2e fuzz-smoke
	@echo "make test: all suites passed"

setup:
	scripts/setup

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p murmur-bench --lib --locked $(WASM) -- -D warnings
	cargo clippy -p murmur-core -p murmur-app --all-targets --locked $(WASM) -- -D warnings

## make deny: licences, bans and sources of every dependency (deny.toml); offline.
deny:
	cargo deny --locked check licenses bans sources
	cargo deny --manifest-path fuzz/Cargo.toml --locked check licenses bans sources

## make advisories: the RustSec advisory database check. It fetches the database from GitHub,
## which these build machines cannot reach, so it is not part of `make test`; run it where it can.
advisories:
	cargo deny --locked check advisories
	cargo deny --manifest-path fuzz/Cargo.toml --locked check advisories

test-native:
	cargo test --workspace --locked

## chromedriver leaves its Chromium profiles (~26 MB each) in TMPDIR; give it one to remove.
test-wasm:
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	TMPDIR=$$tmp CHROMEDRIVER=/usr/bin/chromedriver \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test -p murmur-core -p murmur-app --locked $(WASM)

bundle:
	trunk build --release --offline

## The e2e tests ask target/debug/murmur for expected values. `cargo test --no-run` with the
## flags of test-native builds it with the same feature set, so after test-native it is a no-op
## (a plain `cargo build -p murmur-cli` resolves features differently and rebuilds the deps).
## Two files at a time: one browser and devnet per core on the 2-core CI machine.
test-e2e:
	cargo test --workspace --locked --no-run -q
	node --test --test-concurrency=2 tests/e2e/

## make screenshots: refresh the README's screenshots (docs/screenshots/: a chat on a desktop
## and on a phone, light and dark) from the e2e run that takes them.
screenshots: setup bundle
	cargo test --workspace --locked --no-run -q
	node --test tests/e2e/messaging.test.mjs
	mkdir -p docs/screenshots
	cp target/e2e-screenshots/chat-{desktop,phone}{,-dark}.png docs/screenshots/

## make bench: every figure beside its anchor, as a table, written to BENCHMARKS.md with the
## machine and the command of each row (~10 min on 2 cores). QUICK=1: a one-minute subset,
## written to target/BENCHMARKS-quick.md. The parts below run alone too.
bench: setup bundle bench-tools
	$(BUILD_NODE_BINARIES)
	QUICK=$(QUICK) node scripts/bench.mjs

# Lighthouse, for the bench only (so `make test` never installs it), from the npm registry.
bench-tools:
	@test -x bench/lighthouse/node_modules/.bin/lighthouse || (cd bench/lighthouse && npm ci --no-audit --no-fund --loglevel=error)

## make bench-crypto: murmur-core crypto natively (criterion) and as wasm beside libsodium.js in
## headless Chromium, ops/s and ratios.
bench-crypto: setup
	scripts/bench-crypto

## make bench-scale: one node filled to 10k/100k/1M messages: store latency, memory, DB size.
bench-scale: setup
	scripts/bench-scale

## make bench-node: store/retrieve requests per second (p50/p99) through one node of a 6-node
## devnet, direct and as 3-hop onion requests, 1 KiB messages, HTTP keep-alive, beside the
## nginx static-200 and Storage::store ceilings (BENCH_SECONDS, BENCH_CONCURRENCY).
bench-node: setup
	scripts/bench-node

## make bench-latency: send → receive latency (p50/p99 over BENCH_MESSAGES=200) through 3-hop
## onion paths, the recipient following with `murmur inbox --follow` (BENCH_POLL_MS=1000); on
## NETWORK_FILE (e.g. .murmur/devnet/devnet.json of `make run`) or a fresh 9-node devnet.
bench-latency: setup
	scripts/bench-latency

## make bench-files: a 10 MB and a 100 MB file through 3-hop onion paths to a devnet's file
## server and back, beside the same parts moved directly (MB/s).
bench-files: setup
	scripts/bench-files

## make bench-groups: a message to a 100-member group until every member read it, beside a 1:1
## message; removing a member (time, bytes, key message); the first v2 message to a new contact.
bench-groups: setup
	scripts/bench-groups

## make bench-app: bundle sizes (raw/gzip/brotli), cold load, unlock, browser → browser
## latency and opening a 10,000-message conversation, release bundle in headless Chromium
## against a 9-node devnet (see scripts/bench-app.mjs for the knobs).
bench-app: setup bundle bench-tools
	$(BUILD_NODE_BINARIES)
	MURMUR_BIN_DIR=$(CURDIR)/target/node node scripts/bench-app.mjs

## make fuzz: each cargo-fuzz target for FUZZ_SECONDS (default 300); new inputs join the
## committed corpora in fuzz/corpus. Inputs that once crashed live in fuzz/regressions/<target>
## and are replayed by every run (and by a test in core). `make test` runs each for FUZZ_SMOKE_SECONDS on a scratch
## copy. Stable toolchain, so no sanitizer (-s none); libFuzzer still catches panics, and a
## crash fails the pipeline (pipefail + -e), stopping the loop.
fuzz:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  cargo fuzz run -s none $$t corpus/$$t $$(ls -d regressions/$$t 2>/dev/null) -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|panicked' | sed "s/^/fuzz $$t: /"; \
	done

fuzz-smoke:
	cd fuzz && cargo fuzz build -s none
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  scratch=$$(mktemp -d); \
	  cargo fuzz run -s none $$t $$scratch corpus/$$t $$(ls -d regressions/$$t 2>/dev/null) -- -max_total_time=$(FUZZ_SMOKE_SECONDS) -print_final_stats=1 2>&1 \
	    | grep -E 'stat::number_of_executed_units|ERROR|panicked' | sed "s/^/fuzz $$t: /"; \
	  rm -rf $$scratch; \
	done

## make soak MINUTES=N: N minutes (default 20) of steady traffic on 9 separate node processes
## while a random one is killed with SIGKILL every 4 s; prints loss (must be 0), errors, p99
## latency per minute and node memory growth; report in target/soak/report.txt.
MINUTES ?= 20
soak: setup
	$(BUILD_NODE_BINARIES)
	target/node/examples/soak --minutes $(MINUTES) --node-bin target/node/murmur-node

clean:
	cargo clean
	rm -rf dist .murmur
