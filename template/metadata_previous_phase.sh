#!/usr/bin/env sh
# Agent metadata: the latest run's previous phase (scripts/status.ts reads <results>/LATEST and its state/ files).
cd "${SCALETEST_PROJECT_DIR:-$HOME/scaletest-runner}" 2>/dev/null && [ -f scripts/status.ts ] || { echo "Not started"; exit 0; }
exec tsx scripts/status.ts --previous-phase
