#!/usr/bin/env bash
# Runs the programs of a built campus-kiosk .deb, as shipped, the way a
# technician tries a fresh terminal: onecard-sim --demo as the platform and
# kioskctl against it (token, card lookup, a payment paid, one declined, one
# whose reply is lost and that the reconciler then settles, a query, a
# partial refund, the day's bill reconciled with the journal, the journal's
# check); then the kiosk itself in demo mode under Xvfb, until its idle
# screen is up and online and its status endpoint healthy, and SIGTERM ends
# it with exit status 0. Programs for another architecture (the arm64
# package on amd64) run under qemu's user-mode emulator, with the arm64
# libraries from dpkg multiarch (make deps-arm64 installs both). Exit status
# 1 on the first failure, with the programs' logs.
#
#   scripts/test-deb.sh FILE.deb
#
#   TEST_DEB_KIOSK=0   leave out the kiosk under Xvfb (e.g. no Xvfb here)
#   TEST_DEB_START     seconds the kiosk may take to its idle screen (180)
#   TEST_DEB_STOP      seconds it may take to exit after SIGTERM (30)
#   TEST_DEB_STRICT=1  fail on the two known Fyne shutdown races too (below)
#
# `make test-package [ARCH=arm64]` (and `make test-arm64`) build and check
# the package, then run this. Needs dpkg-deb, Xvfb for the kiosk (make deps),
# and for a foreign architecture qemu-user.
set -euo pipefail

deb=${1:?usage: test-deb.sh FILE.deb}
[ -f "$deb" ] || {
	echo "test-deb: no such file: $deb" >&2
	exit 2
}
start_limit=${TEST_DEB_START:-180}

arch=$(dpkg-deb -f "$deb" Architecture)
host=$(dpkg --print-architecture)
run=()
if [ "$arch" != "$host" ]; then
	case $arch in
	arm64) qemu="qemu-aarch64" ;;
	*) qemu=qemu-$arch ;;
	esac
	if ! command -v "$qemu" >/dev/null 2>&1; then
		echo "test-deb: $deb is for $arch and this machine is $host: needs $qemu (qemu-user; make deps-arm64 installs it)" >&2
		exit 1
	fi
	run=("$qemu")
fi
via=${run[*]:+ under ${run[*]}}

tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { printf '\n== test-deb: %s\n' "$*"; }
die() {
	echo "test-deb: FAIL: $*" >&2
	local f
	for f in "$tmp"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f") (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

dpkg-deb -x "$deb" "$tmp/root"
bin=$tmp/root/usr/bin
say "$(basename "$deb"): $arch programs on $host$via"

# --- onecard-sim and kioskctl: the headless demo --------------------------------
demo=$tmp/demo
mkdir -m 0700 "$demo"
# Port 0: a free one. The simulator logs its address once it listens and
# has written the demo's kiosk.yaml (keys made on this first run).
"${run[@]}" "$bin/onecard-sim" --demo "$demo" --listen 127.0.0.1:0 >"$tmp/sim.log" 2>&1 &
pids+=($!)
sim_pid=$!
url=
for _ in $(seq 300); do
	kill -0 "$sim_pid" 2>/dev/null || die "onecard-sim exited"
	url=$(sed -n 's|.*platform API on \(http://[^ ,]*\).*|\1|p' "$tmp/sim.log" | head -n1)
	[ -n "$url" ] && break
	sleep 0.2
done
[ -n "$url" ] || die "onecard-sim did not start within 60 s"
hostport=${url#http://}
hostport=${hostport%%/*}
say "onecard-sim$via: platform at $url"

# kctl WANT_STATUS ARGS...: kioskctl --json ARGS; its stdout (one JSON
# object) in $tmp/out, and a failure unless it exits WANT_STATUS.
kctl() {
	local want=$1 rc=0
	shift
	"${run[@]}" "$bin/kioskctl" --config "$demo/kiosk.yaml" --json "$@" >"$tmp/out" 2>"$tmp/kioskctl.log" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		die "kioskctl $* exited $rc, want $want: $(cat "$tmp/out")"
	fi
	echo "ok: kioskctl $* -> exit $rc"
}
# has TEXT: the last kioskctl output contains TEXT.
has() {
	grep -qF -- "$1" "$tmp/out" || die "kioskctl's output lacks $1: $(cat "$tmp/out")"
}
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$tmp/out" | head -n1; }
# fault BODY: switch a simulator fault on (its admin endpoint, loopback).
fault() {
	local body=$1
	exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
	printf 'POST /_sim/faults HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"$hostport" "${#body}" "$body" >&3
	head -n1 <&3 | grep -q ' 2[0-9][0-9] ' || die "the simulator refused the fault $body"
	cat <&3 >/dev/null
	exec 3<&-
}

kctl 0 token
has '"expires_in_seconds"'
kctl 0 card --idtype sno --id 2024000001
has '"account":"100001"'
kctl 0 pay --account 100001 --amount 12.34
has '"state":"paid"'
paid=$(field order_no)
kctl 1 pay --account 100003 --amount 5.00
has '"outcome":"declined"'
kctl 2 pay --account 100001 --amount 0.001
# The platform charges, the reply is lost: outcome unknown (exit 3), until
# the reconciler settles it once the request's timeout has passed.
fault '{"kind":"drop-reply","method":"synjones.onecard.gdccard.pay","times":1}'
kctl 3 pay --account 100001 --amount 8.88
unknown=$(field order_no)
[ -n "$unknown" ] || die "no order_no for the payment whose reply was lost"
settled=0
for _ in $(seq 60); do
	kctl 0 reconcile
	if grep -qF "\"$unknown\"" "$tmp/out"; then
		settled=1
		break
	fi
	sleep 0.5
done
[ "$settled" = 1 ] || die "the reconciler did not settle $unknown"
kctl 0 query "$unknown"
has '"local_state":"paid"'
kctl 0 refund --order-no "$paid" --amount 1.00
has '"state":"paid"'
kctl 0 bill --date "$(TZ=Asia/Shanghai date +%Y%m%d)" --reconcile
has '"platform_only":0'
has '"journal_only":0'
kctl 0 check
has '"ok":true'
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
say "kioskctl and onecard-sim$via: the headless demo passed"

# --- the kiosk under Xvfb ----------------------------------------------------------
if [ "${TEST_DEB_KIOSK:-1}" = 0 ]; then
	say "the kiosk under Xvfb: left out (TEST_DEB_KIOSK=0)"
	echo "test-deb: all passed"
	exit 0
fi
command -v Xvfb >/dev/null 2>&1 || die "no Xvfb for the kiosk (make deps installs it; TEST_DEB_KIOSK=0 leaves the kiosk out)"
# Xvfb picks a free display and writes its number when it is ready.
Xvfb -displayfd 9 -screen 0 1280x1024x24 -nolisten tcp 9>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$tmp/display" ] && break
	sleep 0.1
done
[ -s "$tmp/display" ] || die "Xvfb gave no display number in 10 s"
display=:$(head -n1 "$tmp/display")

mkdir -m 0700 "$tmp/kdemo"
state=$tmp/state.json
started=$SECONDS
# LANG as the packaged unit sets it; Fyne's preferences in a scratch dir.
env LANG=C.UTF-8 DISPLAY="$display" KIOSK_STATE_FILE="$state" XDG_CONFIG_HOME="$tmp/config" \
	"${run[@]}" "$bin/kiosk" --demo "$tmp/kdemo" --windowed >"$tmp/kiosk.log" 2>&1 &
kiosk_pid=$!
pids+=("$kiosk_pid")
idle=0
while [ $((SECONDS - started)) -lt "$start_limit" ]; do
	kill -0 "$kiosk_pid" 2>/dev/null || die "the kiosk exited before its idle screen"
	if [ -f "$state" ] && grep -q '"screen":"idle"' "$state" && grep -q '"online":true' "$state"; then
		idle=1
		break
	fi
	sleep 0.5
done
[ "$idle" = 1 ] || die "no idle screen, online, after ${start_limit}s; state: $(cat "$state" 2>/dev/null)"
say "kiosk$via on Xvfb $display: idle and online after $((SECONDS - started))s: $(cat "$state")"

# Its status endpoint (the demo's, on loopback).
status=$(sed -n 's/.*"status":"\([^"]*\)".*/\1/p' "$state")
[ -n "$status" ] || die "the state file names no status endpoint: $(cat "$state")"
get() {
	exec 3<>"/dev/tcp/${status%:*}/${status##*:}"
	printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" "$status" >&3
	cat <&3 >"$tmp/http"
	exec 3<&-
}
get /healthz
head -n1 "$tmp/http" | grep -q ' 200 ' && grep -q '"ready"' "$tmp/http" ||
	die "/healthz is not 200 ready: $(head -c 300 "$tmp/http")"
echo "ok: GET /healthz: 200, ready"
get /metrics
grep -q '^kiosk_platform_online 1' "$tmp/http" || die "/metrics lacks kiosk_platform_online 1"
echo "ok: GET /metrics: kiosk_platform_online 1"

# SIGTERM: a clean exit, status 0, well within the unit's TimeoutStopSec
# (60s; the kiosk takes a second or two, under qemu too).
#
# Two races in Fyne 2.7.1's shutdown (not in this project's code) sometimes
# spoil it under qemu, whose slowness widens them; natively they have not
# been seen here (0 in 20 runs):
#  - a pointer event handled after the window is gone: a nil-pointer panic in
#    fyne's processMouseMoved -> glfw SetInputMode, exit status 2 (the same
#    stack as fyne-io/fyne#5981);
#  - a deadlock: the lifecycle event queue waits in runOnMainWithWait for
#    a main loop that has already stopped, while the main goroutine waits in
#    Lifecycle.WaitForEvents for that queue: the kiosk never exits.
# Each is recognised by its exact stack (the hang by the goroutine dump that
# SIGQUIT makes the Go runtime print) and reported as a warning; anything
# else fails. TEST_DEB_STRICT=1 fails on them too.
kill -TERM "$kiosk_pid"
stop_limit=${TEST_DEB_STOP:-30}
rc=0 known=
for _ in $(seq $((stop_limit * 10))); do
	kill -0 "$kiosk_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$kiosk_pid" 2>/dev/null; then
	kill -QUIT "$kiosk_pid" 2>/dev/null || true
	sleep 3
	kill -KILL "$kiosk_pid" 2>/dev/null || true
	wait "$kiosk_pid" 2>/dev/null || true
	if grep -q 'internal/app.(\*Lifecycle).WaitForEvents' "$tmp/kiosk.log" &&
		grep -q 'internal/driver/glfw.runOnMainWithWait' "$tmp/kiosk.log"; then
		known="hung ${stop_limit}s after SIGTERM in Fyne's shutdown deadlock (Lifecycle.WaitForEvents / runOnMainWithWait)"
	else
		die "the kiosk still runs ${stop_limit}s after SIGTERM"
	fi
else
	wait "$kiosk_pid" || rc=$?
	if [ "$rc" != 0 ]; then
		if [ "$rc" = 2 ] && grep -q '^panic: runtime error: invalid memory address or nil pointer dereference' "$tmp/kiosk.log" &&
			grep -q 'glfw.(\*window).processMouseMoved' "$tmp/kiosk.log"; then
			known="exited 2 after SIGTERM on Fyne's nil-pointer panic in processMouseMoved (fyne-io/fyne#5981)"
		else
			die "the kiosk exited $rc after SIGTERM, want 0"
		fi
	fi
fi
grep -q 'shutting down' "$tmp/kiosk.log" || die "the kiosk's log lacks 'shutting down'"
if [ -n "$known" ]; then
	[ "${TEST_DEB_STRICT:-0}" != 1 ] || die "the kiosk $known (TEST_DEB_STRICT=1)"
	echo "test-deb: WARNING: the kiosk$via $known: a known Fyne 2.7.1 race, not counted as a failure (TEST_DEB_STRICT=1 counts it)" >&2
	say "kiosk$via: SIGTERM: $known (warning)"
else
	say "kiosk$via: SIGTERM, exit status 0"
fi
echo "test-deb: all passed"
