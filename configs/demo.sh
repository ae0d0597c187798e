#!/usr/bin/env bash
# The headless `make run` demo, for machines without a display (with one,
# `make run` starts the kiosk itself: bin/kiosk --demo .demo --windowed): the
# platform simulator with generated demo keys, and a scripted technician
# session with kioskctl against it: token, card lookup, payments (paid,
# declined, outcome unknown and then confirmed), a partial refund, a batch
# query and the day's bill.
#
#   DEMO_DIR   where keys, configs and the store live (default .demo)
#   DEMO_ADDR  where the simulator listens (default 127.0.0.1:8090)
#   DEMO_KEEP  1: leave the simulator running at the end, for trying
#              kioskctl by hand (Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dir=${DEMO_DIR:-.demo}
addr=${DEMO_ADDR:-127.0.0.1:8090}
host=${addr%:*}
port=${addr##*:}
mkdir -p -m 0700 "$dir"

# The simulator keeps its ledger in memory, so each run is a fresh campus:
# the terminal's store (journal and token) from an earlier run would point
# at orders and a token that this platform never saw.
rm -f "$dir/kiosk.db"

bin/onecard-sim --demo "$dir" --listen "$addr" >"$dir/sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true' EXIT

# Wait until the simulator accepts connections (at most 10 s).
for _ in $(seq 100); do
	if ! kill -0 "$sim" 2>/dev/null; then
		echo "demo: the simulator did not start:" >&2
		cat "$dir/sim.log" >&2
		exit 1
	fi
	if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then break; fi
	sleep 0.1
done

bold= plain=
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	plain=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# k runs kioskctl, shows the command, and carries on whatever its status.
k() {
	printf '%s$ kioskctl %s%s\n' "$bold" "$*" "$plain"
	local rc=0
	bin/kioskctl --config "$dir/kiosk.yaml" "$@" || rc=$?
	[ "$rc" -eq 0 ] || printf '(exit status %d)\n' "$rc"
}
# order_no runs a kioskctl command with --json and prints the order number.
order_no() {
	bin/kioskctl --config "$dir/kiosk.yaml" --json "$@" | sed -n 's/.*"order_no":"\([^"]*\)".*/\1/p' | head -n 1
}
# fault tells the simulator to misbehave once (its admin endpoint, on
# loopback), without needing curl on the machine.
fault() {
	local body=$1
	exec 3<>"/dev/tcp/$host/$port"
	printf 'POST /_sim/faults HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"$addr" "${#body}" "$body" >&3
	cat <&3 >/dev/null
	exec 3<&-
}

say "Simulator at http://$addr/tsm, kiosk config in $dir/kiosk.yaml (demo keys made on first run)"
cat <<'CARDS'
The simulated campus (the built-in demo cards):
  account 100001  张三  ¥100.00      sno 2024000001
  account 100002  李四  ¥100000.00   staff card
  account 100003  王五  ¥0.50
  account 100004  赵六  ¥50.00       reported lost
  account 100005  钱七  ¥80.00       frozen
  account 100006  赵六  ¥200.00      pays by QR code
CARDS

say "The access token: fetched once, kept in the store, never printed"
k token

say "A student taps a card: look it up by student number"
k card --idtype sno --id 2024000001

say "Pay 12.34 from that account (the order is journalled before it is sent)"
k pay --account 100001 --amount 12.34
paid=$(order_no query --account 100001 $(order_no pay --account 100001 --amount 3.00) || true)

say "A card with 0.50 left tries to pay 5.00: declined (exit status 1)"
k pay --account 100003 --amount 5.00

say "A card reported lost: declined"
k pay --account 100004 --amount 1.00

say "The network drops the reply after the platform charged: outcome unknown (exit status 3)"
fault '{"kind":"drop-reply","method":"synjones.onecard.gdccard.pay","times":1}'
unknown=$(order_no pay --account 100001 --amount 8.88 2>/dev/null || true)
echo "order $unknown is recorded as unknown; the customer is told it will be confirmed"

say "pay.query shows the platform has it; the journal still says unknown"
k query "$unknown"

say "The reconciler settles it (after the request's timeout, so a query never overtakes its request)"
for _ in $(seq 30); do
	if bin/kioskctl --config "$dir/kiosk.yaml" --json reconcile | grep -q "\"$unknown\""; then break; fi
	sleep 0.5
done
k queue --limit 8

say "Refund 1.00 of the 3.00 payment (account and acctype come from the journal)"
k refund --order-no "$paid" --amount 1.00

say "Bad input is refused before anything is sent (exit status 2)"
k pay --account 100001 --amount 0.001

today=$(TZ=Asia/Shanghai date +%Y%m%d)
say "The day's bill, DES-encrypted on the wire, checked against its trailer"
k bill --date "$today" --crypt 1 --out "$dir/bill-$today.txt"

say "Compare the bill with the journal"
k bill --date "$today" --reconcile

say "Export the day's journal as CSV"
k export --from "$today" --out "$dir/journal-$today.csv"
head -n 3 "$dir/journal-$today.csv"

say "Done. Journal: $dir/kiosk.db  Simulator log: $dir/sim.log"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	echo "The simulator keeps running at http://$addr (Ctrl-C stops it). Try:"
	echo "  bin/kioskctl --config $dir/kiosk.yaml card --idtype barcode --id 280123456789012345"
	wait "$sim"
fi
