// Slack-compatible webhook messages on start, completion and failure (as Coder's runner's report.sh): who
// started it on which deployment (with the Coder version and its commit), links to the runner workspace and to
// Grafana over the run's time range, the comment, and on start every parameter. Never fatal: a failed post is
// logged and counted.
import { request } from "undici";
import { log } from "../util/log.ts";
import { grafanaRunLink } from "./grafana.ts";

export type RunEvent = "started" | "completed" | "failed";

export interface WebhookMessage {
  event: RunEvent;
  runId: string;
  coderUrl: string;
  comment: string;
  /** Settings worth showing (no secrets). */
  parameters?: Record<string, unknown>;
  verdict?: string;
  reportPath?: string;
  /** Filled from the runner workspace's environment when not given (see `webhookContext`). */
  context?: WebhookContext;
}

export interface WebhookContext {
  /** owner/workspace of the runner, and its page on the deployment. */
  workspace?: { owner: string; name: string; url: string };
  /** Who started the run (the workspace owner in the template). */
  startedBy?: string;
  /** Grafana dashboard over the run's time range. */
  grafanaUrl?: string;
  /** Coder's version and a link to its commit, from /api/v2/buildinfo. */
  coderVersion?: { version: string; commitUrl?: string };
}

/** The Coder version's commit (`v2.24.2+abc1234` or buildinfo's external_url) as a link, when there is one. */
export function commitUrl(version: string, externalUrl?: string): string | undefined {
  if (externalUrl && /^https:\/\/github\.com\/coder\/coder\/commit\/[0-9a-f]{7,40}$/.test(externalUrl)) return externalUrl;
  const sha = /\+([0-9a-f]{7,40})$/.exec(version)?.[1];
  return sha ? `https://github.com/coder/coder/commit/${sha}` : undefined;
}

/**
 * What the runner workspace's environment says about the run (CODER_WORKSPACE_OWNER, CODER_WORKSPACE,
 * SCALETEST_START_TIME, GRAFANA_URL, SCALETEST_GRAFANA_DASHBOARD_UID), for the links in every message.
 */
export function webhookContext(coderUrl: string, env: NodeJS.ProcessEnv = process.env, now = Date.now()): WebhookContext {
  const ctx: WebhookContext = {};
  const owner = env.CODER_WORKSPACE_OWNER;
  const name = env.CODER_WORKSPACE;
  if (owner && name) {
    ctx.workspace = { owner, name, url: `${coderUrl.replace(/\/+$/, "")}/@${encodeURIComponent(owner)}/${encodeURIComponent(name)}` };
    ctx.startedBy = owner;
  }
  const start = env.SCALETEST_START_TIME ? Date.parse(env.SCALETEST_START_TIME) : NaN;
  if (env.GRAFANA_URL && Number.isFinite(start)) {
    ctx.grafanaUrl = grafanaRunLink(env.GRAFANA_URL, env.SCALETEST_GRAFANA_DASHBOARD_UID || "scaletest-runner", start, now);
  }
  return ctx;
}

/** Coder's version from the deployment's public /api/v2/buildinfo (no token); undefined when unreachable. */
export async function coderVersion(coderUrl: string, timeoutMs = 5000): Promise<WebhookContext["coderVersion"]> {
  try {
    const res = await request(`${coderUrl.replace(/\/+$/, "")}/api/v2/buildinfo`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const text = (await res.body.text()).slice(0, 64 * 1024);
    if (res.statusCode !== 200) return undefined;
    const info = JSON.parse(text) as { version?: unknown; external_url?: unknown };
    if (typeof info.version !== "string" || info.version.length > 100) return undefined;
    const link = commitUrl(info.version, typeof info.external_url === "string" ? info.external_url : undefined);
    return link ? { version: info.version, commitUrl: link } : { version: info.version };
  } catch {
    return undefined;
  }
}

const link = (url: string, text: string) => `<${url}|${text.replace(/[<>|]/g, "")}>`;

export function slackBody(m: WebhookMessage): { text: string; blocks: unknown[] } {
  const c = m.context ?? {};
  const by = c.startedBy ? ` by \`${c.startedBy}\`` : "";
  const version = c.coderVersion ? ` (${c.coderVersion.commitUrl ? link(c.coderVersion.commitUrl, c.coderVersion.version) : `\`${c.coderVersion.version}\``})` : "";
  const head =
    m.event === "started"
      ? `New scaletest ${m.runId} started${by} on ${m.coderUrl}${version}.`
      : m.event === "completed"
        ? `Scaletest ${m.runId} completed on ${m.coderUrl}${version}: *${m.verdict ?? "done"}*.`
        : `Scaletest ${m.runId} *failed* on ${m.coderUrl}${version}${m.verdict ? `: ${m.verdict}` : ""}.`;
  const lines = [head];
  if (c.workspace) lines.push(`• Workspace (runner): ${link(c.workspace.url, `${c.workspace.owner}/${c.workspace.name}`)}`);
  lines.push(`• Run ID: \`${m.runId}\``);
  if (c.grafanaUrl) lines.push(`• Grafana: ${link(c.grafanaUrl, m.event === "started" ? "dashboard (from the start, live)" : "dashboard (the run's time range)")}`);
  lines.push(`• Comment: ${m.comment || "No comment provided"}`);
  if (m.reportPath) lines.push(`• Report: ${m.reportPath}`);
  if (m.parameters) {
    lines.push("Options:");
    for (const [k, v] of Object.entries(m.parameters)) lines.push(`• \`${k}\`: \`${Array.isArray(v) ? v.join(",") : String(v)}\``);
  }
  const text = lines.join("\n");
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

export async function postWebhook(url: string, m: WebhookMessage): Promise<boolean> {
  if (!url) return false;
  // The links come from the runner's environment and the deployment's buildinfo unless the caller gave them.
  const context = m.context ?? { ...webhookContext(m.coderUrl, process.env, Date.now()) };
  if (!m.context && m.coderUrl) {
    const v = await coderVersion(m.coderUrl);
    if (v) context.coderVersion = v;
  }
  try {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(slackBody({ ...m, context })),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`status ${res.statusCode}`);
    return true;
  } catch (e) {
    log.warn(`webhook (${m.event}) failed (the run goes on): ${(e as Error).message}`);
    return false;
  }
}
