// Workspace traffic (SSH, web terminal, workspace apps). Each value is set once for every load scenario
// (--duration, --bytes-per-tick, ...) and may be overridden per scenario (--ssh-duration, ...); a scenario
// script takes its own override under the short name (ssh-traffic --duration means --ssh-duration).
import { TRAFFIC_SCRIPTS, bool, duration, int, num, oneOf, str, type ScriptName } from "../setting.ts";

const TRAFFIC = ["run", ...TRAFFIC_SCRIPTS] as const;
const LOAD = ["run", ...TRAFFIC_SCRIPTS, "dashboard-traffic"] as const;

export const trafficSettings = {
  duration: duration({
    group: "traffic",
    env: "SCALETEST_DURATION",
    flag: "duration",
    scripts: ["run"],
    default: "30m",
    min: "1s",
    max: "24h",
    help: "How long each load scenario sends traffic (per-scenario flags override it).",
  }),
  bytesPerTick: int({
    group: "traffic",
    env: "SCALETEST_BYTES_PER_TICK",
    flag: "bytes-per-tick",
    scripts: ["run"],
    default: 1024,
    min: 1,
    max: 33_554_432,
    help: "Bytes each connection writes per tick (per-scenario flags override it).",
  }),
  tickInterval: duration({
    group: "traffic",
    env: "SCALETEST_TICK_INTERVAL",
    flag: "tick-interval",
    scripts: ["run"],
    default: "100ms",
    min: "1ms",
    max: "1h",
    help: "Time between ticks of one connection (per-scenario flags override it).",
  }),
  percentage: num({
    group: "traffic",
    env: "SCALETEST_PERCENTAGE",
    flag: "percentage",
    scripts: ["run"],
    default: 100,
    min: 0.01,
    max: 100,
    help: "Percentage of the run's workspaces each scenario targets; consecutive scenarios take consecutive slices.",
  }),
  appMode: oneOf({
    group: "traffic",
    env: "SCALETEST_APP_MODE",
    flag: "app-mode",
    scriptFlags: { "app-traffic": "mode" },
    scripts: ["run", "app-traffic"],
    options: ["wsec", "wsra", "wsdi"] as const,
    default: "wsec",
    help: "Workspace app traffic: wsec = websocket echo, wsra = read (app streams random data), wsdi = write (app discards).",
  }),
  app: str({
    group: "traffic",
    env: "SCALETEST_APP",
    flag: "app",
    scripts: ["run", "app-traffic"],
    default: "",
    help: "Slug of the workspace app app traffic goes to, as Coder's --app (default: the --app-mode app: wsec, wsra or wsdi); any other app is written to and read.",
  }),
  workspaceProxyUrl: str({
    group: "traffic",
    env: "SCALETEST_WORKSPACE_PROXY_URL",
    flag: "workspace-proxy-url",
    scripts: ["run", "web-terminal-traffic", "app-traffic"],
    default: "",
    help: "Workspace proxy URL that web-terminal traffic (the reconnecting PTY) and app traffic (path-based apps) go through, as Coder's --workspace-proxy-url; list its origin in --trusted-origins too. SSH traffic goes to the deployment, as in Coder.",
  }),
  templateFilter: str({
    group: "traffic",
    env: "SCALETEST_TEMPLATE_FILTER",
    flag: "template-filter",
    scriptFlags: { "ssh-traffic": "template", "web-terminal-traffic": "template", "app-traffic": "template", cleanup: "template" },
    scripts: [...TRAFFIC_SCRIPTS, "cleanup"],
    default: "",
    help: "Only workspaces of this template (name), as Coder's --template on workspace-traffic and cleanup; empty = any.",
  }),
  trafficTimeout: duration({
    group: "traffic",
    env: "SCALETEST_TRAFFIC_TIMEOUT",
    flag: "traffic-timeout",
    scriptFlags: { "ssh-traffic": "timeout", "web-terminal-traffic": "timeout", "app-traffic": "timeout" },
    scripts: TRAFFIC,
    default: "0s",
    max: "25h",
    help: "Hard limit for a traffic scenario including dialing and closing (0 = ramp + duration + 2m).",
  }),
  targetWorkspaces: str({
    group: "traffic",
    env: "SCALETEST_TARGET_WORKSPACES",
    flag: "target-workspaces",
    scripts: TRAFFIC_SCRIPTS,
    default: "",
    help: "START:END (end-exclusive) over the run's workspaces sorted by name, as in coder exp scaletest; empty = all.",
  }),
  targetUsers: str({
    group: "traffic",
    env: "SCALETEST_TARGET_USERS",
    flag: "target-users",
    scripts: [...TRAFFIC_SCRIPTS, "dashboard-traffic"],
    default: "",
    help: "START:END (end-exclusive) over the run's scaletest- users sorted by name; empty = all.",
  }),
  shard: str({
    group: "traffic",
    env: "SCALETEST_SHARD",
    flag: "shard",
    scripts: LOAD,
    default: "0/1",
    help: "i/n: this process takes the i-th of n disjoint, contiguous slices of the targets (0-based).",
  }),
  ramp: duration({
    group: "traffic",
    env: "SCALETEST_RAMP",
    flag: "ramp",
    scripts: TRAFFIC,
    default: "0s",
    max: "1h",
    help: "Spread connection starts evenly over this time instead of opening them all at once.",
  }),
  jobConcurrency: int({
    group: "traffic",
    env: "SCALETEST_JOB_CONCURRENCY",
    flag: "job-concurrency",
    scriptFlags: { "ssh-traffic": "concurrency", "web-terminal-traffic": "concurrency", "app-traffic": "concurrency" },
    scripts: TRAFFIC,
    default: 0,
    min: 0,
    max: 1_000_000,
    help:
      "At most this many traffic connections at once (all runners together), as Coder's runner passes job_concurrency to workspace-traffic --concurrency; the others queue and start as earlier ones finish their duration and close. 0 = all at once (Coder's CLI alone defaults to 1).",
  }),
  reconnect: bool({
    group: "traffic",
    env: "SCALETEST_RECONNECT",
    flag: "reconnect",
    scripts: TRAFFIC,
    default: false,
    help: "Re-dial a dropped connection (each drop and reconnect is counted) instead of ending it as an error.",
  }),
  coderBinary: str({
    group: "traffic",
    env: "SCALETEST_CODER_BINARY",
    flag: "coder-binary",
    scripts: ["run", "ssh-traffic"],
    default: "coder",
    help: "The coder CLI used for SSH (`coder ssh --stdio`); it must be logged in to the same deployment.",
  }),
} as const;

type Kind = "ssh" | "webTerminal" | "app";
const KIND_FLAG: Record<Kind, string> = { ssh: "ssh", webTerminal: "web-terminal", app: "app" };
const KIND_ENV: Record<Kind, string> = { ssh: "SSH", webTerminal: "WEB_TERMINAL", app: "APP" };
const KIND_SCRIPT: Record<Kind, ScriptName> = { ssh: "ssh-traffic", webTerminal: "web-terminal-traffic", app: "app-traffic" };
const KIND_NAME: Record<Kind, string> = { ssh: "SSH", webTerminal: "web-terminal", app: "app" };

function perKind<K extends Kind>(kind: K) {
  const f = KIND_FLAG[kind];
  const e = KIND_ENV[kind];
  const script = KIND_SCRIPT[kind];
  const scripts = ["run", script] as const;
  const name = KIND_NAME[kind];
  return {
    [`${kind}Duration`]: duration({
      group: "traffic",
      env: `SCALETEST_${e}_DURATION`,
      flag: `${f}-duration`,
      scriptFlags: { [script]: "duration" },
      scripts,
      fallback: "duration",
      min: "1s",
      max: "24h",
      help: `How long ${name} traffic runs (default: --duration).`,
    }),
    [`${kind}BytesPerTick`]: int({
      group: "traffic",
      env: `SCALETEST_${e}_BYTES_PER_TICK`,
      flag: `${f}-bytes-per-tick`,
      scriptFlags: { [script]: "bytes-per-tick" },
      scripts,
      fallback: "bytesPerTick",
      min: 1,
      max: 33_554_432,
      help: `Bytes per tick of ${name} traffic (default: --bytes-per-tick).`,
    }),
    [`${kind}TickInterval`]: duration({
      group: "traffic",
      env: `SCALETEST_${e}_TICK_INTERVAL`,
      flag: `${f}-tick-interval`,
      scriptFlags: { [script]: "tick-interval" },
      scripts,
      fallback: "tickInterval",
      min: "1ms",
      max: "1h",
      help: `Tick interval of ${name} traffic (default: --tick-interval).`,
    }),
    [`${kind}Percentage`]: num({
      group: "traffic",
      env: `SCALETEST_${e}_PERCENTAGE`,
      flag: `${f}-percentage`,
      scriptFlags: { [script]: "percentage" },
      scripts,
      fallback: "percentage",
      min: 0.01,
      max: 100,
      help: `Percentage of the run's workspaces that get ${name} traffic (default: --percentage).`,
    }),
  } as {
    [P in `${K}Duration` | `${K}BytesPerTick` | `${K}TickInterval` | `${K}Percentage`]: ReturnType<typeof int>;
  };
}

export const perKindTrafficSettings = {
  ...perKind("ssh"),
  ...perKind("webTerminal"),
  ...perKind("app"),
};
