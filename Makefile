# Build, test and demo entry points. Everything a fresh Debian/Ubuntu machine
# lacks (besides Go itself) is installed by `deps`, which the other targets
# depend on, so `make run` and `make test` work on a new checkout.

# bash for pipefail: `make bench` must fail when go test fails, not report
# tee's success.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

.DEFAULT_GOAL := build

# Debian packages: cgo headers for Fyne's OpenGL/X11 driver, Xvfb (with
# xauth, which xvfb-run needs but apt only recommends) for UI tests on a
# machine without a display, and the Chinese font the screens draw with
# (fonts-noto-cjk, the first of the CJK fonts the .deb depends on: the demo
# and the tests render with the font an installed kiosk gets).
APT_PACKAGES := libgl1-mesa-dev xorg-dev pkg-config xvfb xauth fonts-noto-cjk
# pkg-config modules whose presence means the cgo headers are installed.
PKG_CONFIG_MODULES := gl x11 xcursor xrandr xinerama xi xxf86vm
# The file whose presence means fonts-noto-cjk is installed: the kiosk's
# first default font path (ui/theme.go), which the font tests require.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

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
		&& command -v xauth >/dev/null 2>&1 \
		&& [ -f $(CJK_FONT) ]; then \
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

# The package's architecture: this machine's (go env GOHOSTARCH), or arm64
# cross-built on amd64 with `make package ARCH=arm64` (campus kiosks are
# often ARM boards: RK3568/RK3588, Raspberry Pi 4/5).
HOST_ARCH := $(shell go env GOHOSTARCH 2>/dev/null)
ARCH ?= $(HOST_ARCH)
# Debian packages for that cross build (deps-arm64): Debian's cross compiler
# for the cgo code (the kiosk's GLFW and OpenGL, kioskctl's hidapi), and the
# arm64 builds (dpkg multiarch) of the C libraries and headers the kiosk
# links: APT_PACKAGES's OpenGL/X11 set, narrowed to what go-gl/glfw's X11
# build includes (xorg-dev is architecture-independent: as :arm64 it would
# still pull the amd64 headers). qemu-user runs the arm64 programs here, as
# `qemu-aarch64 PROGRAM` (no binfmt registration needed), for
# scripts/check-deb.sh and scripts/test-deb.sh; the arm64 libraries above
# (libc6:arm64, libgl1:arm64 with Mesa's software renderer, libX11:arm64)
# are the ones they load.
ARM64_APT_PACKAGES := gcc-aarch64-linux-gnu qemu-user libc6-dev:arm64 \
	libgl1-mesa-dev:arm64 libx11-dev:arm64 libxcursor-dev:arm64 \
	libxrandr-dev:arm64 libxinerama-dev:arm64 libxi-dev:arm64 \
	libxxf86vm-dev:arm64
# The cross build wants deps-arm64 as well as deps (which stays: its Xvfb
# runs the arm64 kiosk in test-package).
CROSS_DEPS := $(if $(filter-out $(HOST_ARCH),$(ARCH)),deps-$(ARCH))

.PHONY: deps-arm64 package-all test-package test-arm64

# deps-arm64: add arm64 to dpkg's architectures and install the packages
# above, only when something is missing, as deps does. Pulls in the arm64
# Mesa (libgl1-mesa-dri:arm64, LLVM's libllvm15:arm64), and may upgrade amd64
# libraries shared with them (zlib1g, libssl3, ...): multiarch packages must
# be of one version on both architectures.
deps-arm64:
	@missing=; \
	for cmd in aarch64-linux-gnu-gcc qemu-aarch64; do \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; \
	done; \
	for pkg in $(filter %:arm64,$(ARM64_APT_PACKAGES)); do \
		[ "$$(dpkg-query -W -f='$${db:Status-Status}' $$pkg 2>/dev/null)" = installed ] || missing="$$missing $$pkg"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	echo "deps-arm64: missing$$missing; installing $(ARM64_APT_PACKAGES)"; \
	sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then \
		$$sudo dpkg --add-architecture arm64; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(ARM64_APT_PACKAGES)

# package: the campus-kiosk Debian package (nfpm, from tools/go.mod) with
# the three programs built with -trimpath, the example configuration as
# /etc/campus-kiosk/kiosk.yaml, the systemd unit, the udev rule, the
# copyright file and the docs, in bin/package/ as
# campus-kiosk_VERSION_ARCH.deb; then its contents listed and checked
# (scripts/check-deb.sh), failing on anything missing or unexpected.
# ARCH=arm64 on amd64 cross-builds it (deps-arm64 first).
package: deps $(CROSS_DEPS)
	PACKAGE_DIR=bin/package ARCH=$(ARCH) bash scripts/package.sh

# package-all: the package for amd64 and for arm64, side by side in
# bin/package/ (on an amd64 machine: arm64 is cross-built).
package-all:
	$(MAKE) package ARCH=amd64
	$(MAKE) package ARCH=arm64

# test-package: the package for ARCH, built and checked, then its own
# programs run from the .deb (under qemu-user when ARCH is not this
# machine's) through the headless demo, and the kiosk under Xvfb
# (scripts/test-deb.sh). Not part of `make test`: the arm64 build alone takes
# minutes on a cold cache (docs in README's Packaging).
test-package: package
	bash scripts/test-deb.sh bin/package/campus-kiosk_*_$(ARCH).deb

# test-arm64: test-package for arm64.
test-arm64:
	$(MAKE) test-package ARCH=arm64

# clean: remove what the targets above create.
clean:
	rm -rf bin bench.txt .demo
