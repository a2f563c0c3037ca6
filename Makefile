# The two commands a newcomer needs (see README.md):
#   make run    build ttfa (release) and run the default comparison against the embedded server
#   make test   build and run the test suite
# Both install the system libraries first (apt-get, via sudo when not root).

SWIFT ?= swift
ARGS ?=
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev libsndfile1-dev libsoxr-dev pkg-config
# What only the tests need: xmllint validates the JUnit reports against a schema; a real
# PostgreSQL server (started by scripts/with-postgres.sh for the run) holds the shared store.
TEST_PACKAGES := libxml2-utils postgresql python3
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps test-deps apt-packages build run test clean

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
	$(SWIFT) build -c release --product ttfa

run: build
	.build/release/ttfa $(ARGS)

test: test-deps
	scripts/with-postgres.sh $(SWIFT) test

clean:
	rm -rf .build
