#!/usr/bin/env bash
# Runs when the runner workspace starts (coder_script.startup). It
#   1. installs the project into $SCALETEST_PROJECT_DIR (the bundle pushed with the template, else the image's copy),
#   2. logs the coder CLI in with a token of its own (the owner's build token dies when the workspace stops),
#   3. serves the results directory on 127.0.0.1:21180 (the "Latest report" app),
#   4. starts scripts/run.ts detached, logging to $SCALETEST_RESULTS_DIR/logs/run-<run-id>.log.
# The pipeline then runs on its own; the agent metadata shows its status and phase.
set -euo pipefail
umask 022

STATE="$HOME/.scaletest"
RESULTS="${SCALETEST_RESULTS_DIR:?set by the template}"
PROJECT="${SCALETEST_PROJECT_DIR:?set by the template}"
IMAGE_DIR="${SCALETEST_IMAGE_DIR:-/opt/scaletest-runner}"
mkdir -p "$STATE" "$RESULTS/logs"

log() { printf '%s startup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
# Every entry point starts through src/boot/register.mjs (not the tsx CLI): the secrets leave the environment
# before tsx and its esbuild service start, so no child process inherits one.
tsx() { node --import "$PROJECT/src/boot/register.mjs" "$@"; }

# --- 1. The project -------------------------------------------------------------------------------------
install_project() {
  local tmp="$PROJECT.new" source
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if [[ -n "${SCALETEST_BUNDLE:-}" && -f "$SCALETEST_BUNDLE" ]]; then
    tar -xzf "$SCALETEST_BUNDLE" -C "$tmp" --no-same-owner
    source="bundled with the template version"
  else
    tar -C "$IMAGE_DIR" --exclude=./node_modules -cf - . | tar -C "$tmp" -xf -
    source="copied from the image ($IMAGE_DIR)"
  fi
  # Dependencies: the image's node_modules when the lockfile is the same, else a fresh npm ci.
  if cmp -s "$tmp/package-lock.json" "$IMAGE_DIR/package-lock.json"; then
    ln -s "$IMAGE_DIR/node_modules" "$tmp/node_modules"
  else
    log "package-lock.json differs from the image's: running npm ci"
    if ! (cd "$tmp" && npm ci --omit=dev --no-audit --no-fund); then
      log "npm ci failed: using the image's node_modules, which may not match this version"
      rm -rf "$tmp/node_modules"
      ln -s "$IMAGE_DIR/node_modules" "$tmp/node_modules"
    fi
  fi
  rm -rf "$PROJECT.old"
  if [[ -e "$PROJECT" ]]; then mv "$PROJECT" "$PROJECT.old"; fi
  mv "$tmp" "$PROJECT"
  rm -rf "$PROJECT.old"
  log "project installed in $PROJECT, $source"
}
install_project

# --- 2. coder CLI login ---------------------------------------------------------------------------------
# A token of the runner's own, so the shutdown script (cleanup on stop) and terminal reruns keep working.
mkdir -p "$CODER_CONFIG_DIR"
chmod 700 "$CODER_CONFIG_DIR"
printf '%s' "$CODER_URL" >"$CODER_CONFIG_DIR/url"
token=""
# A new name per start (names are unique per user, and removed tokens may linger as expired); shutdown.sh
# removes it by this name.
old_token="$(cat "$STATE/token-name" 2>/dev/null || true)"
if [[ -n "$old_token" ]]; then # left by a start whose shutdown never ran
  CODER_SESSION_TOKEN="$CODER_OWNER_SESSION_TOKEN" coder tokens remove "$old_token" >/dev/null 2>&1 || true
  rm -f "$STATE/token-name"
fi
token_name="scaletest-runner-$(date -u +%Y%m%d%H%M%S)"
if token="$(CODER_SESSION_TOKEN="$CODER_OWNER_SESSION_TOKEN" coder tokens create --name "$token_name" --lifetime 168h 2>/dev/null | tail -n1)" && [[ -n "$token" ]]; then
  printf '%s\n' "$token_name" >"$STATE/token-name"
  log "minted API token $token_name (7 days)"
else
  token="$CODER_OWNER_SESSION_TOKEN"
  log "could not mint an API token (is the owner allowed 168h tokens?); using the build's session token, which stops working when the workspace stops"
fi
(umask 077 && printf '%s' "$token" >"$CODER_CONFIG_DIR/session")
# The scripts read CODER_SESSION_TOKEN from ./.env when run from the project dir (terminal reruns).
(umask 077 && printf 'CODER_SESSION_TOKEN=%s\n' "$token" >"$PROJECT/.env")
unset token

# --- 3. Results server and helper scripts ---------------------------------------------------------------
cat >"$STATE/results-server.mjs" <<'JS'
// Serves the results directory read-only on loopback for the "Latest report" app. /latest/ is the run named
// in <results>/LATEST. Only regular files and folders inside the results directory are served, reached
// without any symlink (a symlinked run folder or file answers 404); bad requests (`GET /%`, NUL bytes, other
// methods) get a 4xx and never stop the server.
import { createServer } from "node:http";
import { createReadStream, lstatSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { extname, resolve, sep } from "node:path";
const root = realpathSync(resolve(process.env.SCALETEST_RESULTS_DIR ?? "."));
const port = Number(process.env.SCALETEST_RESULTS_PORT ?? 21180);
const types = { ".html": "text/html", ".json": "application/json", ".md": "text/markdown", ".txt": "text/plain",
  ".log": "text/plain", ".png": "image/png", ".svg": "image/svg+xml", ".css": "text/css", ".js": "text/javascript" };
const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const send = (res, status, text) => {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(text);
};
// The path's every component, from the root down, must be a real folder (or, last, a regular file): no symlinks.
function inspect(rel) {
  let cur = root;
  let st = lstatSync(root);
  for (const part of rel.split("/").filter(Boolean)) {
    if (part === "." || part === "..") return null;
    cur = `${cur}${sep}${part}`;
    st = lstatSync(cur);
    if (st.isSymbolicLink() || !(st.isDirectory() || st.isFile())) return null;
  }
  return { file: cur, st };
}
function handle(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") { send(res, 405, "Only GET and HEAD.\n"); return; }
  let path;
  try { path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname); } catch { send(res, 400, "Bad request.\n"); return; }
  if (path.includes("\0") || path.includes("\\")) { send(res, 400, "Bad request.\n"); return; }
  // The app's URL is this root; a relative redirect keeps the proxy's path prefix (…/apps/report/).
  if (path === "/") { res.writeHead(302, { location: "latest/report.html" }); res.end(); return; }
  if (path === "/latest" || path.startsWith("/latest/")) {
    let latest = "";
    try { if (lstatSync(`${root}${sep}LATEST`).isFile()) latest = readFileSync(`${root}${sep}LATEST`, "utf8").trim(); } catch {}
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(latest)) { send(res, 404, "No run yet: see logs/ for the pipeline's output.\n"); return; }
    path = `/${latest}${path.slice("/latest".length)}`;
  }
  let found = null;
  try { found = inspect(path); } catch { found = null; }
  if (!found) { send(res, 404, "Not found.\n"); return; }
  const { file, st } = found;
  if (st.isDirectory()) {
    const base = path.endsWith("/") ? path : `${path}/`;
    let names = [];
    try { names = readdirSync(file, { withFileTypes: true }).filter((d) => d.isFile() || d.isDirectory()).map((d) => d.name).sort(); } catch {}
    const items = names.map((n) => `<li><a href="${esc(encodeURI(base + n))}">${esc(n)}</a></li>`).join("");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "x-content-type-options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : `<!doctype html><title>${esc(path)}</title><h1>${esc(path)}</h1><ul>${items}</ul>`);
    return;
  }
  res.writeHead(200, { "content-type": `${types[extname(file)] ?? "application/octet-stream"}; charset=utf-8`,
    "content-length": st.size, "x-content-type-options": "nosniff" });
  if (req.method === "HEAD") { res.end(); return; }
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}
const server = createServer((req, res) => {
  try { handle(req, res); } catch { send(res, 500, "Internal error.\n"); }
});
server.on("clientError", (_err, socket) => socket.destroy());
server.listen(port, "127.0.0.1", () => console.log(`results server on http://127.0.0.1:${server.address().port}/`));
JS
if ! pgrep -f "$STATE/results-server.mjs" >/dev/null 2>&1; then
  nohup node "$STATE/results-server.mjs" >"$RESULTS/logs/results-server.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$STATE/results-server.pid"
fi
# The live report ("Live report" app): the latest run's page while it goes, its final report after.
if ! pgrep -f "$PROJECT/scripts/report.ts --serve" >/dev/null 2>&1; then
  SCALETEST_REPORT_ADDRESS=127.0.0.1:21113 nohup node --import "$PROJECT/src/boot/register.mjs" "$PROJECT/scripts/report.ts" --serve >"$RESULTS/logs/live-report.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$STATE/live-report.pid"
fi

cat >"$STATE/manual-cleanup.sh" <<'SH'
#!/usr/bin/env bash
# The "Manual cleanup" app: deletes scaletest- users and workspaces after asking which.
cd "$SCALETEST_PROJECT_DIR" || exit 1
# No secret in any child's environment (src/boot/register.mjs).
tsx() { node --import "$SCALETEST_PROJECT_DIR/src/boot/register.mjs" "$@"; }
run_id="$(cat "$SCALETEST_RESULTS_DIR/LATEST" 2>/dev/null || cat "$HOME/.scaletest/run-id" 2>/dev/null || true)"
log="$SCALETEST_RESULTS_DIR/logs/cleanup-manual-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "Delete the scaletest- users and workspaces of"
[[ -n "$run_id" ]] && echo "  [r] the latest run ($run_id)"
echo "  [a] EVERY run (every scaletest- user and workspace)"
echo "  [n] nothing"
read -r -n1 -p "> " answer
echo
case "$answer" in
  r) [[ -n "$run_id" ]] && tsx scenarios/cleanup.ts --run-id "$run_id" 2>&1 | tee "$log" ;;
  a) tsx scenarios/cleanup.ts --all 2>&1 | tee "$log" ;;
  *) echo "Nothing deleted." ;;
esac
read -r -n1 -p "Press any key to close. "
SH

# --- 4. The pipeline ------------------------------------------------------------------------------------
# The pipeline with the orchestration around it, as Coder's runner does: the external provisioners scaled to the
# create concurrency (the old count recorded in the run folder), pprof from every coderd replica while it runs,
# then the logs gathered and the provisioners restored. Each of these fails soft (a warning in
# <run>/orchestration-warnings.txt); a dry run does none of them.
cat >"$STATE/pipeline.sh" <<'SH'
#!/usr/bin/env bash
set -uo pipefail
entry="$1" # scripts/run.ts
# Entry points start through src/boot/register.mjs: no secret in any child's environment. An array, not a
# function, so "$!" of a background start is node's own pid (the kill below reaches it).
TSX=(node --import "${SCALETEST_PROJECT_DIR:-$PWD}/src/boot/register.mjs")
# A handler, not an ignore: SIGINT to the group (shutdown.sh) stops run.ts and pprof; this script then finishes.
trap ':' INT TERM
case "${SCALETEST_DRY_RUN:-false}" in 1 | true | yes | on) dry=1 ;; *) dry=0 ;; esac
pprof_pid=""
if [[ $dry == 0 ]]; then
  "${TSX[@]}" scripts/scale-provisioners.ts up || true
  "${TSX[@]}" scripts/pprof.ts &
  pprof_pid=$!
fi
"${TSX[@]}" "$entry"
rc=$?
# The project folder may have been replaced meanwhile (a second start reinstalls it): work from the current one.
cd "${SCALETEST_PROJECT_DIR:-.}" 2>/dev/null || true
if [[ $dry == 0 ]]; then
  # SIGTERM: a background job of a non-interactive shell ignores SIGINT. Bounded: SIGKILL after 60 s.
  kill -TERM "$pprof_pid" 2>/dev/null
  for _ in $(seq 60); do kill -0 "$pprof_pid" 2>/dev/null || break; sleep 1; done
  kill -KILL "$pprof_pid" 2>/dev/null
  wait "$pprof_pid" 2>/dev/null
  "${TSX[@]}" scripts/gather-logs.ts || true
  "${TSX[@]}" scripts/scale-provisioners.ts restore || true
fi
exit "$rc"
SH

old_pid="$(cat "$STATE/pipeline.pid" 2>/dev/null || true)"
# (The pid file is on the persistent volume: after a pod restart the pid may belong to something else.)
if [[ -n "$old_pid" ]] && grep -qa "scripts/run.ts" "/proc/$old_pid/cmdline" 2>/dev/null; then
  log "a pipeline is already running (pid $old_pid); not starting another"
  exit 0
fi
# A run that died without its end (pod killed, node lost) may have left the provisioners scaled up.
(cd "$PROJECT" && tsx scripts/scale-provisioners.ts restore-all) || log "could not check for provisioners left scaled by an earlier run"
run_id="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(3).toString("hex"))')"
printf '%s\n' "$run_id" >"$STATE/run-id"
run_log="$RESULTS/logs/run-$run_id.log"
cd "$PROJECT"
# setsid: its own session and process group, so closing terminals or the agent's script runner never stops it,
# and the shutdown script can signal the whole group.
SCALETEST_RUN_ID="$run_id" setsid nohup bash "$STATE/pipeline.sh" scripts/run.ts >"$run_log" 2>&1 </dev/null &
printf '%s\n' "$!" >"$STATE/pipeline.pid"
ln -sfn "logs/run-$run_id.log" "$RESULTS/latest.log"
log "pipeline started: run $run_id (pid $!), log $run_log"
