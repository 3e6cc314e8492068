#!/usr/bin/env sh
# Agent metadata: the phase started before the current one, the same text scripts/status.ts --previous-phase
# prints, read straight from <results>/LATEST and <run>/state/phase with sh and awk (no node start).
r="${SCALETEST_RESULTS_DIR:-$HOME/results}"
id="$(head -c 64 "$r/LATEST" 2>/dev/null | tr -d ' \t\r\n')"
case "$id" in '' | *[!a-z0-9]* | ?????????*) echo "None"; exit 0 ;; esac
[ -f "$r/$id/state/phase" ] || { echo "None"; exit 0; }
awk '/^[^ \t]+ START:[0-9]+:/ {
  text = $0; sub(/^[^ \t]+ START:[0-9]+: ?/, "", text); prev = cur; cur = text; n++
} END { print (n >= 2 ? prev : "None") }' "$r/$id/state/phase" 2>/dev/null || echo "None"
