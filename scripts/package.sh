#!/usr/bin/env bash
# `make package`: build the three programs for the package, make the
# campus-kiosk Debian package with nfpm (packaging/nfpm.yaml), then list and
# check what it holds (scripts/check-deb.sh). Fails if anything is missing.
#
#   PACKAGE_DIR  where the .deb and the stripped binaries go (default bin/package)
#   VERSION      the package version (default: from git describe, below)
#
# nfpm runs from the tools module (tools/go.mod), so that its dependencies
# stay out of the kiosk's go.mod.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=${PACKAGE_DIR:-bin/package}
bin=$out/bin
arch=$(go env GOARCH)

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
# The kiosk needs cgo (Fyne's GLFW/OpenGL driver).
for cmd in kiosk kioskctl onecard-sim; do
	echo "package: go build ./cmd/$cmd"
	CGO_ENABLED=1 go build -trimpath -buildvcs=auto -ldflags='-s -w' -o "$bin/$cmd" "./cmd/$cmd"
done

rm -f "$out"/campus-kiosk_*.deb
echo "package: nfpm"
VERSION=$version ARCH=$arch BIN_DIR=$bin \
	go tool -modfile=tools/go.mod nfpm package --config packaging/nfpm.yaml --packager deb --target "$out/"

debs=("$out"/campus-kiosk_*.deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
	echo "package: expected one campus-kiosk_*.deb in $out, found: ${debs[*]}" >&2
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
