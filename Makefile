# mmapd: every target installs the Debian packages it needs first (as root), or prints the
# exact apt-get line and stops.

SWIFT ?= swift
DEB_PACKAGES := libmicrohttpd-dev libpcre2-dev pkg-config curl python3 openssl
BENCH_PACKAGES := nginx-light wrk ripgrep linux-source-6.1
# The real clients the listing tests drive (Tests/python/test_listing_clients.py).
LISTING_CLIENT_PACKAGES := rclone lftp wget gdal-bin python3-gdal
CONFIG ?= config/mmapd.json

.PHONY: deps bench-deps build release run test unit-test python-test bench conformance docker-check deploy-check format format-check clean

# Installs what is missing; `apt-get update` runs only when something must be installed.
deps:
	@./.ci/install-packages $(DEB_PACKAGES)

bench-deps: deps
	@./.ci/install-packages $(BENCH_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Serves ./data, seeded from config/sample on first run, on http://127.0.0.1:8080.
run: release
	@mkdir -p data && [ -n "$$(ls -A data)" ] || cp -R config/sample/. data/
	.build/release/mmapd --config $(CONFIG)

# Everything CI runs: unit and live-server tests, the Python-driven live tests (real clients, the
# Python client), then the OpenAPI conformance run and the deployment manifest checks.
test: format-check unit-test python-test conformance deploy-check

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Live tests driven from Python (Tests/python, clients/python/tests) against the debug build; the
# pinned PyPI packages go into ~/.cache/mmapd-pytest.
python-test: build
	@python3 -c 'import ensurepip' 2>/dev/null || ./.ci/install-packages python3-venv
	@./.ci/install-packages ripgrep   # the tree-search tests compare counts with rg
	@./.ci/install-packages chromium chromium-driver   # the page tests drive headless Chromium
	@./.ci/install-packages $(LISTING_CLIENT_PACKAGES)
	Tests/python/run

bench: bench-deps release
	./Benchmarks/run

# docs/openapi.yaml is valid, and a live mmapd (debug build, --writable, a token) conforms to it:
# schemathesis with a fixed seed and example budget, about a minute. Installs the pinned
# schemathesis and openapi-spec-validator from PyPI into ~/.cache/mmapd-conformance when missing.
conformance: build
	@python3 -c 'import ensurepip' 2>/dev/null || ./.ci/install-packages python3-venv
	Tests/conformance/run

# What the Dockerfile relies on, without a Docker engine: the runtime stage's packages provide
# every library of the static-stdlib release binary; non-root run, /healthz, clean SIGTERM.
# Builds the release binary (minutes) unless MMAPD_BIN names one.
docker-check: deps
	@./.ci/install-packages binutils
	Tests/deploy/check_dockerfile.sh

# deploy/kubernetes: kinds, probes, security context, resources, grace periods, config keys.
deploy-check:
	@python3 -c 'import yaml' 2>/dev/null || ./.ci/install-packages python3-yaml
	python3 Tests/deploy/check_manifests.py

# --- Hardening ---------------------------------------------------------------------------------
# make fuzz      every libFuzzer target for FUZZ_SECONDS (30) each; figures in Fuzz/results.txt
# make sanitize  the whole test suite under AddressSanitizer, then ThreadSanitizer
# make load      wrk load + slow clients against a release build; figures in Tests/load/results.txt

FUZZ_SECONDS ?= 30
# ASan: LSan ignores leaks that are not ours (XCTest, Foundation) and the SIGBUS guard's documented
# per-fault leak (see Fuzz/lsan.supp). A small quarantine keeps freed buffers from counting as
# resident memory in the tests that measure RssAnon (PatchStorageTests).
ASAN_ENV := ASAN_OPTIONS=quarantine_size_mb=16:detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan.supp
# TSan: reports that are not races (Swift's Mutex is invisible to TSan) are suppressed, with
# reasons, in Fuzz/tsan.supp; any other report fails the run (exit code 66).
TSAN_ENV := TSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/tsan.supp:halt_on_error=0:exitcode=66:history_size=4
# Not under TSan: the tests that stop a search inside one regex call (Search cancellation,
# CancellationTests). TSan defers asynchronous signals until the thread enters one of its
# interceptors, which JIT-compiled matching never does, so the interrupt arrives only when the
# call is over (minutes for those patterns).
# Nor the tests that make the server read a mapping whose file was truncated (writes use pwrite).
# The SIGBUS then often happens inside TSan's own memchr/memcpy interceptors, and the guard
# cannot jump out of the sanitizer runtime: the process dies with SIGBUS. (They pass under ASan
# and without a sanitizer.)
# (With TLS, the guarded copy of a body is such a memcpy: aFileTruncatedMidDownloadEndsTheDownload;
# resizeUnderDownloadsAndSearches shrinks files under searches; aWholeCopyOfACutMappingIsRefused and
# aCutMappingProvesNothing copy and memmem a cut mapping under the guard.)
TSAN_SKIP := SearchCancellationTests|ByteSearchTests\.CancellationTests|ByteSearchTests\.FaultTests|MmapdTests\.FaultTests/truncation|replacedTruncatedAndGrown|truncationIsRemapped|readingATruncatedMapping|truncationDuringASearch|aFileTruncatedMidDownloadEndsTheDownload|resizeUnderDownloadsAndSearches|aWholeCopyOfACutMappingIsRefused|aCutMappingProvesNothing

.PHONY: fuzz sanitize sanitize-address sanitize-thread load

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./Fuzz/run

sanitize: sanitize-address sanitize-thread

# Not under ASan: the test that bounds the server's memory growth while it streams a million
# NDJSON matches. ASan's shadow memory and quarantine count in that figure, not the server's own use.
ASAN_SKIP := ndjsonStreamsAMillionMatchesInBoundedMemory

sanitize-address: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	$(ASAN_ENV) $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --parallel --skip '$(ASAN_SKIP)'

sanitize-thread: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(TSAN_ENV) $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --parallel --skip '$(TSAN_SKIP)'

load: bench-deps release
	./Tests/load/run

# swift-format (shipped with the toolchain) against .swift-format: lists every line the formatter
# would change and fails if there is one; `make test` starts with it. `make format` fixes what it
# can (`--in-place`); the few rules it cannot fix (e.g. OnlyOneTrailingClosureArgument) are left
# to the author.
format:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Package.swift

format-check:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

clean:
	rm -rf .build .build-asan .build-tsan Fuzz/.build
