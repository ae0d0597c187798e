#!/usr/bin/env bash
# Checks the Prometheus examples in configs/prometheus with promtool: the
# syntax of scrape.yml and agent.yml (files they name, such as token files,
# need not exist here), the alert rules, and the rules' unit tests
# (kiosk-alerts.test.yml: which alert fires when, with which labels and
# text).
#
# promtool comes from $PROMTOOL, else from PATH (Debian: apt-get install
# prometheus), else it is built from tools/promtool/go.mod, a module of its
# own because Prometheus brings ~200 modules: expect several minutes (25 on
# a busy 2-core machine) the first time, seconds once Go's cache has it.
# `make package` runs this script only when promtool is at hand without
# that build (PROMTOOL set, or promtool on PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

if [ -n "${PROMTOOL:-}" ]; then
	promtool=("$PROMTOOL")
elif command -v promtool >/dev/null 2>&1; then
	promtool=(promtool)
else
	echo "check-prometheus: building promtool from tools/promtool (slow the first time)"
	promtool=(go tool -modfile="$root/tools/promtool/go.mod" promtool)
fi

cd configs/prometheus
"${promtool[@]}" check config --syntax-only scrape.yml
"${promtool[@]}" check config --syntax-only --agent agent.yml
"${promtool[@]}" check rules kiosk-alerts.yml
"${promtool[@]}" test rules kiosk-alerts.test.yml
echo "check-prometheus: all checks passed"
