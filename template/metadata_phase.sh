#!/usr/bin/env sh
# Agent metadata: the latest run's current phase (" [done]" after it ended), the same text scripts/status.ts
# --phase prints, read straight from <results>/LATEST and <run>/state/phase with sh and awk (no node start).
r="${SCALETEST_RESULTS_DIR:-$HOME/results}"
id="$(head -c 64 "$r/LATEST" 2>/dev/null | tr -d ' \t\r\n')"
case "$id" in '' | *[!a-z0-9]* | ?????????*) echo "None"; exit 0 ;; esac
[ -f "$r/$id/state/phase" ] || { echo "None"; exit 0; }
awk '/^[^ \t]+ (START|END):[0-9]+:/ {
  kind = ($2 ~ /^START/) ? "START" : "END"; text = $0; sub(/^[^ \t]+ (START|END):[0-9]+: ?/, "", text)
} END { if (kind == "") print "None"; else if (kind == "END") print text " [done]"; else print text }' "$r/$id/state/phase" 2>/dev/null || echo "None"
