# recap: a thin wrapper. Everything real is in CMakeLists.txt, tests/ and bench/.
#   make deps    install what is missing (Debian packages, and the blog example's npm packages; idempotent)
#   make build   build/recap
#   make test    format and lint checks, unit tests (plain and ASan+UBSan builds), end-to-end tests,
#                and a 20 s run of every fuzz target
#   make demo    a throwaway Postgres, the example API and recap, the scenario, its rows and verify report
#   make fuzz    every fuzz target for FUZZ_SECONDS each (default 600)
#   make bench   bench/proxy.sh, cdc.sh, attribution.sh, verify.sh, replay.sh, diff.sh and pytest.sh
#   make format  clang-format every C file in place (format-check: only check)
#   make lint    pyflakes over the Python (tests, bench, integrations)

SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
PYTHON := /usr/bin/python3
JOBS ?= $(shell nproc)

# what building recap needs (docker/Dockerfile's build stage runs `make release` with exactly these)
BUILD_DEPS := build-essential cmake pkg-config libh2o-evloop-dev libpq-dev libssl-dev libjansson-dev \
        libfyaml-dev libpcre2-dev libcurl4-openssl-dev libjemalloc-dev zlib1g-dev libbrotli-dev
# what running it needs (docker/Dockerfile's runtime stage installs these; tests/e2e/test_80 checks)
RUNTIME_DEPS := libh2o-evloop0.13 libpq5 libssl3 libjansson4 libfyaml0 libpcre2-8-0 libcurl4 libjemalloc2 curl \
        ca-certificates zlib1g libbrotli1
DEPS := $(BUILD_DEPS) clang libclang-rt-14-dev clang-format curl openssl chromium python3-yaml python3-pyflakes \
        libcmocka-dev postgresql-15 postgresql-client-15 \
        python3-fastapi python3-uvicorn python3-sqlalchemy python3-psycopg2 python3-pytest \
        python3-pytest-timeout python3-httpx python3-pytest-xdist python3-requests python3-django python3-h2
BENCH_DEPS := wrk nginx-light h2o

C_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find common proxy cli tests -name '*.[ch]')

FUZZ_SECONDS ?= 600

.PHONY: deps deps-node deps-build deps-bench release build lint build-asan build-fuzz test unit e2e fuzz fuzz-smoke demo bench format format-check clean

deps:
	@./.ci/install-deps $(DEPS)
	@$(MAKE) deps-node

# npm packages, each folder pinned by its package-lock.json and installed into it: the second example API
# (tests/apps/blog) and the other test runners (tests/runners: newman with recap's reporter, Jest, supertest,
# Playwright's test runner, no browser); Debian's nodejs and npm when there is no node yet
NODE_DIRS = tests/apps/blog tests/apps/notes_node tests/runners
deps-node:
	@command -v npm >/dev/null || ./.ci/install-deps nodejs npm
	@for d in $(NODE_DIRS); do \
	  [ $$d/node_modules/.package-lock.json -nt $$d/package-lock.json ] || \
	    (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	done

deps-build:
	@./.ci/install-deps $(BUILD_DEPS)

# build-release/recap without tests: what the container image ships
release: deps-build
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECAP_TESTS=OFF >/dev/null
	cmake --build build-release -j $(JOBS) --target recap

deps-bench:
	@./.ci/install-deps $(BENCH_DEPS)

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j $(JOBS)

build-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRECAP_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRECAP_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)

fuzz: build-fuzz
	tests/fuzz/run.sh build-fuzz/tests/fuzz $(FUZZ_SECONDS)

# the 20-second run that is part of make test
fuzz-smoke: build-fuzz
	tests/fuzz/run.sh build-fuzz/tests/fuzz 20

unit: build build-asan
	cd build && ctest --output-on-failure --no-tests=error
	cd build-asan && ctest --output-on-failure --no-tests=error

# End-to-end tests run the sanitized binary: a leak or UB report makes recap exit non-zero. They wait on
# Postgres, apps and sockets more than they compute, so two pytest-xdist workers (each with its own
# throwaway Postgres and example API) take about 6.5 minutes where one takes 9 on 2 cores.
E2E_WORKERS ?= 2
e2e: build-asan
	RECAP_BIN=$(CURDIR)/build-asan/recap ASAN_OPTIONS=detect_leaks=1 \
	  $(PYTHON) -m pytest -p no:cacheprovider -p timeout --timeout 300 -q -n $(E2E_WORKERS) tests/e2e

test: format-check lint unit e2e fuzz-smoke

demo: build
	$(PYTHON) tests/demo.py

bench: build deps-bench
	bench/proxy.sh
	bench/cdc.sh
	bench/attribution.sh
	bench/verify.sh
	bench/replay.sh
	bench/diff.sh
	bench/pytest.sh

format:
	clang-format -i $(C_SOURCES)

# Python: unused imports, undefined names (pyflakes, from Debian)
lint: deps
	$(PYTHON) -m pyflakes tests bench integrations

format-check: deps
	@clang-format --dry-run --Werror $(C_SOURCES) && echo "format: ok"

clean:
	rm -rf build build-asan build-fuzz build-release
