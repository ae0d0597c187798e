# Build, test and demo entry points. Everything a fresh Debian/Ubuntu machine
# lacks (besides Go itself) is installed by `deps`, which the other targets
# depend on, so `make run` and `make test` work on a new checkout.

# bash for pipefail: `make bench` must fail when go test fails, not report
# tee's success.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.DEFAULT_GOAL := build

# Debian packages: cgo headers for Fyne's OpenGL/X11 driver, and Xvfb (with
# xauth, which xvfb-run needs but apt only recommends) for UI tests on a
# machine without a display.
APT_PACKAGES := libgl1-mesa-dev xorg-dev pkg-config xvfb xauth
# pkg-config modules whose presence means the cgo headers are installed.
PKG_CONFIG_MODULES := gl x11 xcursor xrandr xinerama xi xxf86vm

# Fuzzing time per fuzz target for `make fuzz`.
FUZZTIME ?= 30s

# Prefix for commands that may open windows: a virtual X server when there is
# no display. Recursively expanded so that it sees the xvfb-run that `deps`
# may have just installed. Override with `make test TEST_WRAP=`.
TEST_WRAP ?= $(if $(DISPLAY),,$(if $(shell command -v xvfb-run 2>/dev/null),xvfb-run -a -s '-screen 0 1280x1024x24'))

.PHONY: deps build test run bench fuzz chaos package clean

# deps: install the Debian packages above, only when something is missing, so
# that it is a quick no-op on a prepared machine.
deps:
	@if command -v pkg-config >/dev/null 2>&1 \
		&& pkg-config --exists $(PKG_CONFIG_MODULES) \
		&& command -v xvfb-run >/dev/null 2>&1 \
		&& command -v xauth >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "deps: installing $(APT_PACKAGES)"; \
	sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES)

# build: compile every package, then the programs into bin/.
build: deps
	go build ./...
	go build -o bin/kiosk ./cmd/kiosk
	go build -o bin/kioskctl ./cmd/kioskctl
	go build -o bin/onecard-sim ./cmd/onecard-sim

# test: vet, then every test with the race detector, uncached.
test: deps
	go vet ./...
	$(TEST_WRAP) go test -race -count=1 -timeout 14m ./...

# run: the demo. With a display, the kiosk itself against a platform
# simulator inside it (demo keys made in .demo on the first run; type a demo
# card number and Enter; diagnostics PIN 0000). Without one, the scripted
# kioskctl session of configs/demo.sh against onecard-sim.
run: deps build
	@if [ -n "$${DISPLAY:-}" ] || [ -n "$${WAYLAND_DISPLAY:-}" ]; then \
		exec bin/kiosk --demo .demo --windowed; \
	else \
		echo "run: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no kiosk window: running the headless demo (configs/demo.sh) instead"; \
		bash configs/demo.sh; \
	fi

# chaos: the journal's proofs (also part of `make test`, shorter there),
# with their figures. TestChaos: payments from a real child process killed
# with SIGKILL while faults are switched (CHAOS_ORDERS and CHAOS_KILLS raise
# the bar). TestSimulation: the whole money lifecycle under a seeded
# schedule, SIM_OPS operations in each simulator mode (long here: 1,250 x 4
# modes); a failing run prints its seed, and SEED=... make chaos replays it.
SIM_OPS ?= 1250
chaos: deps
	SIM_OPS=$(SIM_OPS) go test -race -count=1 -run '^(TestChaos|TestSimulation)$$' -v -timeout 14m ./cmd/internal/app/

# bench: every benchmark (the UI's under TEST_WRAP), six runs each, kept in
# bench.txt, then benchstat's table of them (median ± 95% interval), the
# figures docs/BENCHMARKS.md quotes. benchstat comes from tools/go.mod, so
# the main go.mod stays free of it. BENCH, BENCH_PKGS and BENCH_COUNT narrow
# a rerun: make bench BENCH=Framer BENCH_PKGS=./device/
BENCH ?= .
BENCH_PKGS ?= ./...
BENCH_COUNT ?= 6
bench: deps
	$(TEST_WRAP) go test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -timeout 60m $(BENCH_PKGS) | tee bench.txt
	@echo
	@echo "bench: benchstat bench.txt"
	go tool -modfile=tools/go.mod benchstat bench.txt

# fuzz: each fuzz target of each package for FUZZTIME (go test -fuzz takes
# one target at a time).
fuzz: deps
	@pkgs=$$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); \
	for pkg in $$pkgs; do \
		listed=$$(go test -list '^Fuzz' "$$pkg"); \
		for f in $$listed; do \
			case $$f in Fuzz*) ;; *) continue ;; esac; \
			echo "fuzz: $$pkg $$f for $(FUZZTIME)"; \
			$(TEST_WRAP) go test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

# package: the campus-kiosk Debian package (nfpm, from tools/go.mod) with
# the three programs built with -trimpath, the example configuration as
# /etc/campus-kiosk/kiosk.yaml, the systemd unit, the udev rule and the
# docs, in bin/package/; then its contents listed and checked
# (scripts/check-deb.sh), failing on anything missing or unexpected.
package: deps
	PACKAGE_DIR=bin/package bash scripts/package.sh

# clean: remove what the targets above create.
clean:
	rm -rf bin bench.txt .demo
