#!/usr/bin/env sh
# Agent metadata: the node's (host's) CPU, memory or load, from /proc (a container sees the node's /proc/stat,
# /proc/meminfo and /proc/loadavg). Usage: metadata_host.sh cpu|mem|load. No node start.
case "${1:-}" in
  cpu)
    # Busy share of all CPUs over half a second (two samples of the aggregate "cpu" line).
    a="$(head -n1 /proc/stat)"; sleep 0.5; b="$(head -n1 /proc/stat)"
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i
      if (NR == 1) { i0 = idle; t0 = total } else { dt = total - t0; p = 0; if (dt > 0) p = 100 * (dt - (idle - i0)) / dt; printf "%.0f%%\n", p } }'
    ;;
  mem)
    awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { if (t) printf "%.1f/%.1f GiB (%.0f%%)\n", (t - a) / 1048576, t / 1048576, 100 * (t - a) / t }' /proc/meminfo
    ;;
  load)
    cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")"
    awk -v c="$cores" '{ printf "%s %s %s (%s cores)\n", $1, $2, $3, c }' /proc/loadavg
    ;;
  *) echo "usage: metadata_host.sh cpu|mem|load" >&2; exit 2 ;;
esac
