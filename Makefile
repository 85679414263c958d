# mmapd: every target installs the Debian packages it needs first (as root), or prints the
# exact apt-get line and stops.

SWIFT ?= swift
DEB_PACKAGES := libmicrohttpd-dev libpcre2-dev pkg-config curl python3
BENCH_PACKAGES := nginx-light wrk ripgrep
CONFIG ?= config/mmapd.json

.PHONY: deps bench-deps build release run test bench clean

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: bench-deps release
	./Benchmarks/run

clean:
	rm -rf .build
