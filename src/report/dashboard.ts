// The dashboard phase's websocket counts (api mode): per route template, opened, failed, held until the page
// was left, ended by the server first. Page and endpoint latencies come from the phase's stages like any phase's.
import { DashboardSocketsJSON } from "../results/schema.ts";
import { mdTable } from "./format.ts";
import type { ReportPhase } from "./model.ts";

const COLUMNS = ["opened", "failed", "held", "ended"] as const;

/** The counts, or null for other phases, browser mode, or a record this version cannot read. */
export function dashboardSocketsOf(p: ReportPhase): DashboardSocketsJSON | null {
  if (p.kind !== "dashboard") return null;
  const d = p.extra["dashboard"] as { websockets?: unknown } | undefined;
  const parsed = DashboardSocketsJSON.safeParse(d?.websockets);
  return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : null;
}

export function dashboardSocketsMarkdown(p: ReportPhase): string {
  const s = dashboardSocketsOf(p);
  if (!s) return "";
  return "Websockets of the pages:\n\n" + mdTable(["websocket", ...COLUMNS], Object.entries(s).map(([k, c]) => [k, ...COLUMNS.map((x) => String(c[x]))]), [1, 2, 3, 4]);
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function dashboardSocketsHtml(p: ReportPhase): string {
  const s = dashboardSocketsOf(p);
  if (!s) return "";
  const body = Object.entries(s)
    .map(([k, c]) => `<tr><td>${esc(k)}</td>${COLUMNS.map((x) => `<td class="num${x === "failed" && c[x] > 0 ? " fail" : ""}">${c[x]}</td>`).join("")}</tr>`)
    .join("");
  return `<div class="dashboard-sockets"><p>Websockets of the pages</p><table><thead><tr><th>websocket</th>${COLUMNS.map((x) => `<th class="num">${x}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table></div>`;
}
