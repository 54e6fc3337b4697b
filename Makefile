# mxcheck: build, run, test, install. Every target installs the Debian packages it needs first.
PREFIX ?= /usr/local
SWIFT ?= swift
ARGS ?= --help

# Debian packages the build, the test lab and the benchmark need.
BUILD_PACKAGES := libssl-dev pkg-config
LAB_PACKAGES := postfix openssl python3 util-linux iproute2
BENCH_PACKAGES := hyperfine

.PHONY: all build release run demo test bench install uninstall clean deps build-deps lab-deps bench-deps

all: build

# apt-get only for what is missing; Postfix comes with debconf's "No configuration", so no system mail service starts.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

build-deps:
	$(call apt_install,$(BUILD_PACKAGES))

lab-deps: build-deps
	$(call apt_install,$(LAB_PACKAGES))
	@python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema

bench-deps: lab-deps
	$(call apt_install,$(BENCH_PACKAGES))

deps: bench-deps

build: build-deps
	$(SWIFT) build

release: build-deps
	$(SWIFT) build -c release

# make run ARGS="smtp mx.example.com"
run: build
	$(SWIFT) run mxcheck $(ARGS)

# Checks the bundled local lab (a private Postfix on loopback, with good and broken cases); works offline.
demo: release lab-deps
	@bash Tests/Lab/demo.sh .build/release/mxcheck

# Unit tests plus end-to-end tests that run the binary against the lab (started and stopped by the suite).
test: build lab-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

bench: release bench-deps
	@bash Tests/Lab/bench.sh .build/release/mxcheck

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/release/mxcheck $(DESTDIR)$(PREFIX)/bin/mxcheck

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mxcheck

clean:
	rm -rf .build
