#!/usr/bin/env bash
# Runs when the runner workspace stops (coder_script.shutdown), within the pod's termination grace period:
#   1. interrupts a running pipeline and waits for it (it writes its results and applies its cleanup strategy),
#   2. for cleanup strategy on_stop, deletes what the run created (scenarios/cleanup.ts --run-id),
#   3. revokes the runner's API token.
set -uo pipefail

STATE="$HOME/.scaletest"
RESULTS="${SCALETEST_RESULTS_DIR:-$HOME/results}"
PROJECT="${SCALETEST_PROJECT_DIR:-$HOME/scaletest-runner}"
mkdir -p "$RESULTS/logs"
exec > >(tee -a "$RESULTS/logs/shutdown-$(date -u +%Y%m%dT%H%M%SZ).log") 2>&1

log() { printf '%s shutdown: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
# Every entry point starts through src/boot/register.mjs (not the tsx CLI): the secrets leave the environment
# before tsx and its esbuild service start, so no child process inherits one.
tsx() { node --import "$PROJECT/src/boot/register.mjs" "$@"; }

if [[ -f "$CODER_CONFIG_DIR/session" ]]; then
  CODER_SESSION_TOKEN="$(cat "$CODER_CONFIG_DIR/session")"
  export CODER_SESSION_TOKEN
fi

pid="$(cat "$STATE/pipeline.pid" 2>/dev/null || true)"
if [[ -n "$pid" ]] && grep -qa "scripts/run.ts" "/proc/$pid/cmdline" 2>/dev/null; then
  log "interrupting the pipeline (pid $pid) and waiting for it to finish"
  kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  log "pipeline stopped"
fi

if [[ "${SCALETEST_CLEANUP_STRATEGY:-}" == "on_stop" ]]; then
  run_id="$(cat "$STATE/run-id" 2>/dev/null || cat "$RESULTS/LATEST" 2>/dev/null || true)"
  if [[ -n "$run_id" ]]; then
    log "cleanup strategy on_stop: deleting the scaletest- users and workspaces of run $run_id"
    (cd "$PROJECT" && tsx scenarios/cleanup.ts --run-id "$run_id") || log "cleanup failed (exit $?): use the Manual cleanup app or scenarios/cleanup.ts after the next start"
  else
    log "cleanup strategy on_stop, but no run was started: nothing to delete"
  fi
fi

# Cleanup hook: provisioners a run scaled up and never restored (it was killed) go back to their recorded count.
(cd "$PROJECT" && tsx scripts/scale-provisioners.ts restore-all) || log "could not restore the provisioner deployment (see the run's orchestration-warnings.txt)"

token_name="$(cat "$STATE/token-name" 2>/dev/null || true)"
if [[ -n "$token_name" ]]; then
  # --delete where the CLI has it (newer versions only expire by default).
  coder tokens remove --delete "$token_name" >/dev/null 2>&1 || coder tokens remove "$token_name" >/dev/null 2>&1 || true
  rm -f "$STATE/token-name"
fi
log "done"
