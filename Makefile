# The one entry point people type. `make run` starts the whole system with a
# local PostgreSQL; `make test` runs every test once, the unit, backbone,
# sales and analytics tests under AddressSanitizer/UndefinedBehaviorSanitizer.
# CMake does the real building; this file only sequences it.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

NPROC := $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR := build
ASAN_DIR := build-asan
FUZZ_DIR := build-fuzz
# Tests ctest runs at once in `make test` and `make test-asan`.
TEST_JOBS ?= 2
# `make fuzz`: seconds each fuzz target runs, and the targets (tests/fuzz).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := command event pbjson http mail
FORMAT_DIRS := $(wildcard common services tools tests bench)
# Our C sources only: not the build trees, not generated protobuf-c code.
FORMAT_FILES = $(shell find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) \
                 -not -name '*.pb-c.*' -not -path '*/node_modules/*' | sort)

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Under the sanitizers: unit tests, the backbone, sales and analytics integration tests.
# `make test` runs each test once: these in the sanitizer pass, every other
# test in the plain pass (`make test-plain` runs them all on the plain build).
ASAN_LABELS := ^(unit|backbone|sales|analytics)$$

.PHONY: all deps build test test-plain test-asan fuzz chaos run bench bench-long format format-check clean help proto-baseline proto-breaking

all: build

help:
	@echo "make run           build, then start PostgreSQL, the bus and the services (tools/run-local.sh)"
	@echo "make test          build, run every test once: unit, backbone, sales, analytics under ASan/UBSan (TEST_JOBS=2 at once)"
	@echo "make test-plain    build, run every test on the plain build"
	@echo "make build         install missing dependencies, configure and build into $(BUILD_DIR)/"
	@echo "make deps          install missing Debian packages and npm tools (tools/install-deps.sh)"
	@echo "make test-asan     only the sanitizer pass (in $(ASAN_DIR)/)"
	@echo "make fuzz          build the libFuzzer targets with clang in $(FUZZ_DIR)/, run each FUZZ_SECONDS (60)"
	@echo "make chaos         build, then the chaos test's long mode: CHAOS_SECONDS (600) of faults"
	@echo "make bench         build, then bench/run.sh (arguments in BENCH_ARGS=...)"
	@echo "make bench-long    build, then bench/run.sh --long: the figures at 10k, 100k and 1M rows"
	@echo "make format        clang-format -i our .c/.h files; format-check only checks"
	@echo "make clean         remove $(BUILD_DIR)/, $(ASAN_DIR)/ and $(FUZZ_DIR)/"
	@echo "make proto-baseline  at a release: record proto/ as the baseline of the breaking-change check"
	@echo "make proto-breaking  check proto/ for breaking changes against main's"

# CRM_DEPS_CHECKED=1 skips the check when a recipe below calls make again.
deps:
ifneq ($(CRM_DEPS_CHECKED),1)
	@tools/install-deps.sh
endif

build: deps
	@if [ ! -f $(BUILD_DIR)/CMakeCache.txt ]; then set -x; \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo; fi
	cmake --build $(BUILD_DIR) -j$(NPROC)

# The suite is bound by CPU on two cores (README, "How long make test
# takes"), and the tests of ASAN_LABELS ran twice: once on the plain build,
# once sanitized, which checks everything the plain run does and more. So
# the plain pass leaves them to the sanitizer pass.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(TEST_JOBS) --timeout 600 -LE '$(ASAN_LABELS)'
	$(MAKE) --no-print-directory test-asan CRM_DEPS_CHECKED=1

test-plain: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(TEST_JOBS) --timeout 600

test-asan: deps
	@if [ ! -f $(ASAN_DIR)/CMakeCache.txt ]; then set -x; \
	  cmake -S . -B $(ASAN_DIR) -DCRM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug; fi
	cmake --build $(ASAN_DIR) -j$(NPROC)
	cd $(ASAN_DIR) && $(ASAN_ENV) ctest --output-on-failure -j$(TEST_JOBS) --timeout 600 -L '$(ASAN_LABELS)'

# Each target starts from its seed corpus (tests/fuzz/corpus/<target>/) and
# keeps what it learns in $(FUZZ_DIR)/corpus/<target>/; a crash or a failed
# property is written into tests/fuzz/corpus/<target>/ (crash-*, leak-*,
# timeout-*), where `make test` replays it from then on. Fix the bug, keep
# the file.
fuzz: deps
	@if [ ! -f $(FUZZ_DIR)/CMakeCache.txt ]; then set -x; \
	  CC=clang cmake -S . -B $(FUZZ_DIR) -DCRM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; fi
	cmake --build $(FUZZ_DIR) -j$(NPROC) --target crm_fuzzers
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/bin/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=tests/fuzz/corpus/$$t/ -timeout=25 -rss_limit_mb=2048 \
	    $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_DIR)/fuzz-$$t.log || rc=1; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^SUMMARY|^==[0-9]+==ERROR' \
	    $(FUZZ_DIR)/fuzz-$$t.log | sed "s/^/fuzz: $$t: /" || true; \
	done; exit $$rc

run: build
	exec tools/run-local.sh

# The chaos test's long mode, outside ctest: ctest's per-test TIMEOUT (sized
# for the short mode in make test) would end a long run before its checks.
CHAOS_SECONDS ?= 600
chaos: build
	cd tests/integration && CRM_BUILD_DIR=$(abspath $(BUILD_DIR)) \
	  CRM_SOURCE_DIR=$(abspath .) CRM_CHAOS_SECONDS=$(CHAOS_SECONDS) \
	  PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 test_chaos.py -v

bench: build
	exec bench/run.sh $(BENCH_ARGS)

bench-long: build
	exec bench/run.sh --long $(BENCH_ARGS)

format:
	@command -v clang-format >/dev/null || { echo "format: clang-format not found (apt-get install clang-format)" >&2; exit 1; }
	clang-format -i $(FORMAT_FILES)

format-check:
	@command -v clang-format >/dev/null || { echo "format-check: clang-format not found (apt-get install clang-format)" >&2; exit 1; }
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)

# At a release: the current schemas become the baseline that
# tests/integration/test_proto_schema.py falls back to when it has no git
# checkout with main to compare with.
proto-baseline: deps
	node_modules/.bin/buf build proto -o proto/breaking-baseline.json

# Breaking changes of proto/ against main's proto/ where this branch left
# main (what the tests check).
proto-breaking: deps
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  git archive "$$(git merge-base HEAD main)" proto | tar -x -C "$$tmp" && \
	  node_modules/.bin/buf breaking proto --against "$$tmp/proto" && echo "proto: no breaking change against main"
