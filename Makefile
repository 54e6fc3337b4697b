# mxcheck: build, run, test, install. Every target installs the Debian packages it needs first.
SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
# The C compiler of the Swift toolchain (it finds the GCC runtime libraries the Swift runtime links).
SWIFT_CLANG ?= $(dir $(realpath $(shell command -v $(SWIFT))))clang
ARGS ?= --help

# Debian packages the build, the test lab and the benchmark need.
BUILD_PACKAGES := libssl-dev libunbound-dev pkg-config
LAB_PACKAGES := postfix nsd openssl python3 util-linux iproute2 parallel ldnsutils unbound dns-root-data
# Tests/Lab/exim.sh: Debian's Exim (GnuTLS) is unpacked from its .deb (apt-get download, dpkg -x), never
# installed (it conflicts with Postfix); these are the shared libraries its binary needs.
LAB_PACKAGES += apt dpkg libidn12 libidn2-0 libdb5.3 libgnutls30 libgnutls-dane0 libnsl2 libpcre2-8-0 libcrypt1
BENCH_PACKAGES := hyperfine time testssl.sh valgrind

.PHONY: all build release run demo test bench install uninstall clean deps build-deps lab-deps bench-deps fuzz sanitize
.PHONY: promtool-deps man install-built order-file

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

lab-deps: build-deps promtool-deps
	$(call apt_install,$(LAB_PACKAGES))
	@python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema

# promtool (Debian's prometheus package) checks the Prometheus output and alert rules in the tests. A policy-rc.d
# that exits 101 keeps the package from starting a Prometheus service; one already there is put back after.
promtool-deps:
	@command -v promtool >/dev/null 2>&1 || { \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		saved=""; if [ -e /usr/sbin/policy-rc.d ]; then saved=$$(mktemp); $$SUDO cp -p /usr/sbin/policy-rc.d $$saved; fi; \
		restore() { if [ -n "$$saved" ]; then $$SUDO cp -p $$saved /usr/sbin/policy-rc.d; rm -f $$saved; else $$SUDO rm -f /usr/sbin/policy-rc.d; fi; }; \
		trap restore EXIT; \
		printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null; $$SUDO chmod 755 /usr/sbin/policy-rc.d; \
		echo "installing Debian packages: prometheus (for promtool)"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; \
	}

bench-deps: lab-deps
	$(call apt_install,$(BENCH_PACKAGES))

deps: bench-deps

build: build-deps
	$(SWIFT) build

# Release link (issue 13): lld with RELR packed relative relocations (40,000 RELA entries, 940 KB, become 8 KB that the
# loader reads at start; glibc 2.36 or later runs such a binary).
RELEASE_LINK_FLAGS ?= -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs
# Tests/Lab/startup.order (make order-file) puts the functions a basic check runs together at the start of .text,
# so it touches about 3 MB fewer pages of the binary; names a later build lacks are skipped.
RELEASE_LINK_FLAGS += -Xlinker --symbol-ordering-file=$(CURDIR)/Tests/Lab/startup.order -Xlinker --no-warn-symbol-ordering

# libstdc++, which only the static Swift runtime uses, is linked statically too: the loader then maps one library
# fewer and resolves some 1,650 fewer symbols at every start (mxcheck --version 5.1 -> 4.5 ms, a basic check 5 %
# less wall time, 1 MB less RSS). The linker looks for -lstdc++ in STATIC_CXX first, where only the archive is;
# without an archive from the compiler it falls back to the shared library.
STATIC_CXX := $(CURDIR)/.build/static-cxx
RELEASE_LINK_FLAGS += -Xlinker -L$(STATIC_CXX)

# No $ORIGIN run path: the release binary needs no library of its own directory, and with one the loader first reads
# /proc/self/exe, then looks for libssl.so.3 in 12 subdirectories of it (24 failed system calls per start).
RELEASE_LINK_FLAGS += --disable-local-rpath

# Concrete generic types (such as `[String: [EndpointJob]]`'s storage) are instantiated through their metadata
# accessors rather than by demangling their mangled names at first use (issue 13): the runtime then neither decodes
# some 40 type names nor scans every protocol conformance record to check their generic requirements, which took
# about 0.3 ms of a basic check's CPU time. The binary grows by about 60 KB.
RELEASE_SWIFT_FLAGS ?= -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors

release: build-deps
	@mkdir -p $(STATIC_CXX) && { ln -sfn "$$($(SWIFT_CLANG) -print-file-name=libstdc++.a)" $(STATIC_CXX)/libstdc++.a 2>/dev/null || true; }
	$(SWIFT) build -c release --static-swift-stdlib $(RELEASE_SWIFT_FLAGS) $(RELEASE_LINK_FLAGS)

# make run ARGS="smtp mx.example.com"
run: build
	$(SWIFT) run mxcheck $(ARGS)

# Checks the bundled local lab (a private Postfix on loopback, with good and broken cases); works offline.
demo: release lab-deps
	@bash Tests/Lab/demo.sh .build/release/mxcheck

# Unit tests plus end-to-end tests that run the binary against the lab (started and stopped by the suite).
# Ends with one summary line, "tests: N passed, N failed, N skipped", taken from XCTest's own count.
test: build lab-deps
	$(SWIFT) build --build-tests
	@set -o pipefail; $(SWIFT) test --disable-swift-testing 2>&1 | tee .build/test.log; status=$$?; \
	summary=$$(grep -E "Executed [0-9]+ tests?, with .*[0-9]+ failures?" .build/test.log | tail -1); \
	total=$$(echo "$$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/'); \
	failed=$$(echo "$$summary" | sed -E 's/.* ([0-9]+) failures? .*/\1/'); \
	skipped=$$(echo "$$summary" | grep -oE "[0-9]+ tests? skipped" | grep -oE "^[0-9]+" || echo 0); \
	if [ -n "$$summary" ]; then \
		echo "tests: $$((total - failed - skipped)) passed, $$failed failed, $$skipped skipped" | tee .build/test-summary.txt; \
	fi; \
	exit $$status

# libFuzzer targets (Tests/Fuzz, a package of its own): each runs FUZZ_SECONDS from the committed seeds.
FUZZ_TARGETS := FuzzReplyParser FuzzTargetParser FuzzCertificateFacts FuzzServerHello FuzzMonitoringOutput FuzzTLSARecords
FUZZ_TARGETS += FuzzTerminalText FuzzReceivedParser
FUZZ_TARGETS += FuzzPolicyRecords FuzzMTASTSPolicy FuzzHTTPResponse
FUZZ_SECONDS ?= 60
fuzz: build-deps
	cd Tests/Fuzz && $(SWIFT) build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p Tests/Fuzz/.build/corpus/$$t Tests/Fuzz/crashes; \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		Tests/Fuzz/.build/debug/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
			-artifact_prefix=Tests/Fuzz/crashes/$$t- Tests/Fuzz/.build/corpus/$$t Tests/Fuzz/Corpus/$$t 2>Tests/Fuzz/.build/$$t.log \
			|| { tail -40 Tests/Fuzz/.build/$$t.log; echo "$$t found a crash: see Tests/Fuzz/crashes/"; exit 1; }; \
		grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" Tests/Fuzz/.build/$$t.log; \
	done

# The whole test suite (the end-to-end tests run the sanitized binary) under AddressSanitizer, then ThreadSanitizer.
# Leaks are checked in mxcheck itself (MXCHECK_ASAN_OPTIONS reaches the binary), not in the XCTest runner.
sanitize: lab-deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	MXCHECK_SANITIZER=address ASAN_OPTIONS=detect_leaks=0 MXCHECK_ASAN_OPTIONS=detect_leaks=1 \
		$(SWIFT) test --disable-swift-testing --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	MXCHECK_SANITIZER=thread TSAN_OPTIONS=halt_on_error=1 \
		$(SWIFT) test --disable-swift-testing --sanitize=thread --scratch-path .build-tsan

# Regenerates Tests/Lab/startup.order from the release binary (callgrind over a basic check in the lab); then make release.
order-file: release bench-deps
	@bash Tests/Lab/order_symbols.sh .build/release/mxcheck Tests/Lab/startup.order

bench: release bench-deps
	@bash Tests/Lab/bench.sh .build/release/mxcheck
	@bash Tests/Lab/bench_batch.sh .build/release/mxcheck
	@bash Tests/Lab/bench_engine.sh .build/release/mxcheck
	@bash Tests/Lab/bench_headers.sh .build/release/mxcheck
	@bash Tests/Lab/bench_dane.sh .build/release/mxcheck
	@bash Tests/Lab/bench_mtasts.sh .build/release/mxcheck

# make install [PREFIX=/usr/local] [DESTDIR=]: the release binary, its man page and its bash, zsh and fish completions.
# install-built does the same without building, for the binary INSTALL_BIN names (the install test's debug build).
INSTALL_BIN ?= .build/release/mxcheck
BINDIR = $(DESTDIR)$(PREFIX)/bin
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASH_COMPLETIONDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_COMPLETIONDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
INSTALLED_FILES = $(BINDIR)/mxcheck $(MAN1DIR)/mxcheck.1 $(BASH_COMPLETIONDIR)/mxcheck $(ZSH_COMPLETIONDIR)/_mxcheck $(FISH_COMPLETIONDIR)/mxcheck.fish

install: release
	@$(MAKE) --no-print-directory install-built INSTALL_BIN=.build/release/mxcheck

# Completions come from the binary itself (swift-argument-parser writes them), so they match its options.
install-built:
	@test -x $(INSTALL_BIN) || { echo "no binary at $(INSTALL_BIN): make release, or give INSTALL_BIN"; exit 1; }
	install -d $(BINDIR) $(MAN1DIR) $(BASH_COMPLETIONDIR) $(ZSH_COMPLETIONDIR) $(FISH_COMPLETIONDIR)
	install -m 755 $(INSTALL_BIN) $(BINDIR)/mxcheck
	install -m 644 docs/man/mxcheck.1 $(MAN1DIR)/mxcheck.1
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for shell in bash zsh fish; do $(INSTALL_BIN) --generate-completion-script $$shell > $$tmp/$$shell; done; \
	install -m 644 $$tmp/bash $(BASH_COMPLETIONDIR)/mxcheck; \
	install -m 644 $$tmp/zsh $(ZSH_COMPLETIONDIR)/_mxcheck; \
	install -m 644 $$tmp/fish $(FISH_COMPLETIONDIR)/mxcheck.fish; \
	echo "installed: $(INSTALLED_FILES)"

uninstall:
	rm -f $(INSTALLED_FILES)

# docs/man/mxcheck.1 is generated from the argument parser's definitions by swift-argument-parser's generate-manual
# plugin and committed, so installing needs no plugin run; after a change to the command line, `make man`.
# A blank line (from a blank line in a discussion) becomes .Pp, which `man --warnings` (and lintian) accept.
# The install test checks that the committed page is what the generator makes of the current binary.
MAN_DATE ?= $(shell date -u +%Y-%m-%d)
man: build
	$(SWIFT) package plugin generate-manual --configuration debug --date $(MAN_DATE)
	install -d docs/man
	sed -e 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/mxcheck/mxcheck.1 > docs/man/mxcheck.1

clean:
	rm -rf .build .build-asan .build-tsan Tests/Fuzz/.build
