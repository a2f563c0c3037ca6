# The two commands a newcomer needs (see README.md):
#   make run    build ttfa (release) and run the default comparison against the embedded server
#   make test   build and run the test suite
# Both install the system libraries first (apt-get, via sudo when not root).

SWIFT ?= swift
ARGS ?=
# make install: where (PREFIX) and into which staging root (DESTDIR, for packagers).
PREFIX ?= /usr/local
DESTDIR ?=
# The release binary links the Swift runtime statically: it needs only the system's own
# libraries at run time (libcurl, OpenSSL, SQLite, libsndfile, libsoxr), wherever it is copied.
RELEASE_FLAGS := -c release --static-swift-stdlib
# WebRTC: GStreamer's webrtcbin (plugins-bad), ICE (nice), Opus and RTP (base, good) and their
# headers; the binary loads them at run time, so it still starts where they are missing.
WEBRTC_PACKAGES := libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libopus-dev \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev libsndfile1-dev libsoxr-dev pkg-config $(WEBRTC_PACKAGES)
# What only the tests need: xmllint validates the JUnit reports against a schema; a real
# PostgreSQL server (started by scripts/with-postgres.sh for the run) holds the shared store;
# a real Prometheus (started by its test on a free port) scrapes `ttfa monitor`, and promtool
# checks the text format and the example alert rules.
TEST_PACKAGES := libxml2-utils postgresql python3 prometheus
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps test-deps apt-packages build run dist install test lint format test-parallel test-timing test-dist bench-accuracy bench-soak fuzz fuzz-smoke clean

deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-packages PACKAGES="$(APT_PACKAGES) $(TEST_PACKAGES)"

apt-packages:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product ttfa

run: build
	.build/release/ttfa $(ARGS)

# dist/ttfa-VERSION-linux-ARCH.tar.gz (bin/ttfa, share/ttfa/{dialects,recordings}, the man page,
# shell completions, LICENSE, README.md) and its .sha256, the binary stamped with its commit.
dist: build
	scripts/dist archive dist

# The same tree as the archive, under $(DESTDIR)$(PREFIX): bin/ttfa, share/ttfa, share/man/man1, ...
install: build
	scripts/dist tree "$(DESTDIR)$(PREFIX)"

# The suite in two parts: everything that checks behaviour runs in parallel; what must measure
# time runs alone afterwards, each figure judged against a baseline taken in the same run.
test: test-deps lint
	$(SWIFT) build --build-tests
	@$(MAKE) --no-print-directory test-parallel test-timing

# The house style (.swift-format: 4 spaces, 120 columns), checked by make test; `make format`
# rewrites the files to it.
SWIFT_SOURCES := Sources Tests Benchmarks Fuzz Package.swift
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_SOURCES)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_SOURCES)

# libFuzzer under AddressSanitizer (Fuzz/README.md): `make fuzz TARGET=sse SECONDS=600` fuzzes one
# target; `make fuzz-smoke` runs every target for 30 s (part of CI). A finding fails the run and
# is left in .build/fuzz-findings/TARGET/.
TARGET ?=
SECONDS ?= 600
fuzz: deps
	@[ -n "$(TARGET)" ] || { echo "make fuzz TARGET=name [SECONDS=600]; targets: $$(ls Fuzz/corpus | tr '\n' ' ')"; exit 2; }
	scripts/fuzz run "$(TARGET)" "$(SECONDS)"

fuzz-smoke: deps
	scripts/fuzz smoke 30

test-parallel:
	scripts/with-postgres.sh $(SWIFT) test --skip-build --skip TimingTests --skip DistTests

test-timing:
	$(SWIFT) test --skip-build --filter TimingTests

# The release archive unpacked and run as a user would, and the CI recipes run with it.
test-dist: test-deps dist
	$(SWIFT) build --build-tests
	TTFA_DIST_ARCHIVE="$$(ls -t dist/ttfa-*-linux-*.tar.gz | head -n 1)" $(SWIFT) test --skip-build --filter DistTests

# The accuracy figures (link delay and rate, dialect files against the built-in code, a
# server's delay in TTFA), each against a same-run baseline: see Benchmarks/Accuracy/README.md.
bench-accuracy: deps
	$(SWIFT) build -c release --product ttfa-accuracy
	.build/release/ttfa-accuracy $(ARGS)

# The monitor's soak: `ttfa monitor --every 10s` for 30 minutes (MINUTES=…) against the embedded
# server, its memory, descriptors and threads sampled every round (Benchmarks/Soak).
MINUTES ?= 30
bench-soak: build
	Benchmarks/Soak/monitor-soak.py --minutes $(MINUTES) --ttfa .build/release/ttfa

clean:
	rm -rf .build
