#!/usr/bin/env bash
# `make package`: build the three programs for the package, make the
# campus-kiosk Debian package with nfpm (packaging/nfpm.yaml), then list and
# check what it holds (scripts/check-deb.sh). Fails if anything is missing.
#
#   PACKAGE_DIR  where the .deb and the stripped binaries go (default
#                bin/package: campus-kiosk_VERSION_ARCH.deb, binaries in
#                bin/ARCH/, so that packages of both architectures sit side
#                by side)
#   VERSION      the package version (default: from git describe, below)
#   ARCH         the Debian architecture, amd64 or arm64 (default: go env
#                GOARCH). One other than this machine's is cross-built: arm64
#                on amd64 with Debian's aarch64-linux-gnu-gcc for cgo and the
#                arm64 multiarch libraries (make deps-arm64 installs them);
#                CROSS_CC names another compiler.
#
# nfpm runs from the tools module (tools/go.mod), so that its dependencies
# stay out of the kiosk's go.mod.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=${PACKAGE_DIR:-bin/package}
arch=${ARCH:-$(go env GOARCH)}
bin=$out/bin/$arch
host_arch=$(go env GOHOSTARCH)
# The Go and C toolchains for arch: the host's, or a cross compiler. Debian
# and Go name these two architectures alike (amd64, arm64).
case $arch in
amd64 | arm64) ;;
*)
	echo "package: ARCH=$arch: only amd64 and arm64 are packaged" >&2
	exit 2
	;;
esac
# For the programs' go build only (nfpm, run by go tool below, is built for
# this machine).
build_env=(GOOS=linux GOARCH="$arch" CGO_ENABLED=1)
if [ "$arch" != "$host_arch" ]; then
	if [ "$arch/$host_arch" != arm64/amd64 ]; then
		echo "package: cannot cross-build $arch on $host_arch (only arm64 on amd64 is set up)" >&2
		exit 2
	fi
	cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "package: no $cc for the arm64 cgo build: run make deps-arm64 (Debian's gcc-aarch64-linux-gnu and the arm64 OpenGL/X11 libraries)" >&2
		exit 1
	fi
	build_env+=(CC="$cc")
	echo "package: cross-building for $arch with $cc"
fi

# A Debian version from git: a tag v1.2.3 gives 1.2.3, three commits after
# it 1.2.3+git3.abc1234; with no tag, 0.0.0~gitYYYYMMDD.abc1234 (sorting
# before any release). +dirty marks uncommitted changes.
deb_version() {
	local d hash date v
	if ! git rev-parse --git-dir >/dev/null 2>&1; then
		echo 0.0.0~unknown
		return
	fi
	hash=$(git rev-parse --short=7 HEAD)
	if d=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		d=${d#v}
		if [[ $d =~ ^(.+)-([0-9]+)-g[0-9a-f]+$ ]]; then
			v="${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.$hash"
		else
			v=$d
		fi
	else
		date=$(git log -1 --format=%cd --date=format:%Y%m%d)
		v="0.0.0~git$date.$hash"
	fi
	if ! git diff --quiet HEAD -- 2>/dev/null; then
		v+="+dirty"
	fi
	echo "$v"
}

version=${VERSION:-$(deb_version)}
# File times in the package: the commit's, so that the same commit gives
# the same package.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
	export SOURCE_DATE_EPOCH
fi

echo "package: campus-kiosk $version ($arch)"
mkdir -p "$bin"
# -trimpath: no build machine paths in the binaries; -buildvcs=auto (GOFLAGS
# may say false): the git revision in the build information, which the kiosk
# shows as its version (diagnostics, /status, kiosk_build_info); -s -w: no
# symbol table or DWARF (stack traces keep their function names and lines).
# The kiosk needs cgo (Fyne's GLFW/OpenGL driver), kioskctl too (hidapi).
for cmd in kiosk kioskctl onecard-sim; do
	echo "package: go build ./cmd/$cmd (${build_env[*]})"
	env "${build_env[@]}" go build -trimpath -buildvcs=auto -ldflags='-s -w' -o "$bin/$cmd" "./cmd/$cmd"
done

rm -f "$out"/campus-kiosk_*_"$arch".deb
echo "package: nfpm"
VERSION=$version ARCH=$arch BIN_DIR=$bin \
	go tool -modfile=tools/go.mod nfpm package --config packaging/nfpm.yaml --packager deb --target "$out/"

debs=("$out"/campus-kiosk_*_"$arch".deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
	echo "package: expected one campus-kiosk_*_$arch.deb in $out, found: ${debs[*]}" >&2
	exit 1
fi
bash scripts/check-deb.sh "${debs[0]}" "$version" "$arch"

# The Prometheus examples the package ships, when promtool is at hand
# without building it (see scripts/check-prometheus.sh).
if [ -n "${PROMTOOL:-}" ] || command -v promtool >/dev/null 2>&1; then
	bash scripts/check-prometheus.sh
else
	echo "package: skipped the promtool checks of configs/prometheus (no promtool on PATH nor PROMTOOL); run scripts/check-prometheus.sh"
fi
