# The two commands a newcomer needs (see README.md):
#   make run    build ttfa (release) and run the default comparison against the embedded server
#   make test   build and run the test suite
# Both install the system libraries first (apt-get, via sudo when not root).

SWIFT ?= swift
ARGS ?=
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps build run test clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product ttfa

run: build
	.build/release/ttfa $(ARGS)

test: deps
	$(SWIFT) test

clean:
	rm -rf .build
