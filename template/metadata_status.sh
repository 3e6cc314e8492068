#!/usr/bin/env sh
# Agent metadata: the latest run's status, the same text scripts/status.ts prints, read straight from
# <results>/LATEST and <run>/state/status with sh and awk (no node start: it answers in milliseconds).
r="${SCALETEST_RESULTS_DIR:-$HOME/results}"
id="$(head -c 64 "$r/LATEST" 2>/dev/null | tr -d ' \t\r\n')"
case "$id" in '' | *[!a-z0-9]* | ?????????*) echo "Not started"; exit 0 ;; esac
[ -f "$r/$id/state/status" ] || { echo "Not started"; exit 0; }
awk 'NF { last = $0 } END { i = index(last, " "); print (i ? substr(last, i + 1) : "Not started") }' "$r/$id/state/status" 2>/dev/null || echo "Not started"
