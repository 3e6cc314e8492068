// Everything the notifications load type checks and decides before it creates anything: the options
// (Coder's rules), the admin/regular split, the caller (an owner, as Coder's requireAdmin), the
// organization, and names that are free (this run's users and its trigger template).
import type { CoderClient } from "../coder/client.ts";
import type { Organization, User } from "../coder/types.ts";
import { BadInputError } from "../util/errors.ts";
import { indexWidth, resourceName, runPrefix, scaletestEmail, validateRunId } from "../util/naming.ts";
import { templateMarker } from "../util/ownership.ts";
import type { NotificationsOptions } from "./types.ts";

export class NotificationsInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `notifications: ${problems[0]}`
        : `notifications: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "NotificationsInputError";
  }
}

/** Coder's split: floor(count * pct / 100) admins, at least 1 when pct > 0; the rest regular users. */
export function splitUsers(count: number, pct: number): { admins: number; regular: number } {
  let admins = Math.floor((count * pct) / 100);
  if (admins === 0 && pct > 0) admins = 1;
  admins = Math.min(admins, count);
  return { admins, regular: count - admins };
}

export function checkNotificationsOptions(o: NotificationsOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.userCount) || o.userCount <= 0) p.push(`--user-count must be greater than 0; got ${o.userCount}`);
  if (!(o.templateAdminPercentage > 0 && o.templateAdminPercentage <= 100)) {
    p.push(`--template-admin-percentage must be greater than 0 and at most 100 (someone must receive the notification); got ${o.templateAdminPercentage}`);
  }
  if (!(o.timeoutMs > 0)) p.push("--timeout must be positive (0 is not unlimited, as in Coder)");
  if (!(o.dialTimeoutMs > 0)) p.push("--dial-timeout must be positive");
  else if (o.dialTimeoutMs >= o.timeoutMs) p.push(`--dial-timeout (${o.dialTimeoutMs} ms) must be shorter than --timeout (${o.timeoutMs} ms)`);
  if (!(o.setupTimeoutMs > 0)) p.push("--setup-timeout must be positive");
  if (!(o.smtpRequestTimeoutMs > 0)) p.push("--smtp-request-timeout must be positive");
  if (o.smtpApiUrl) {
    let u: URL | null = null;
    try {
      u = new URL(o.smtpApiUrl);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) p.push(`--smtp-api-url must be an http:// or https:// URL; got ${JSON.stringify(o.smtpApiUrl)}`);
    else if (u.username || u.password) p.push("--smtp-api-url must not carry credentials");
  }
  return p;
}

export interface PlannedUser {
  index: number;
  username: string;
  email: string;
  role: "template-admin" | "member";
}

export interface NotificationsPlan {
  runner: User;
  organization: Organization;
  users: PlannedUser[];
  admins: number;
  regular: number;
  /** The trigger template's name (scaletest-<run-id>-NNNN, after the users). */
  templateName: string;
  /** Its description: the marker cleanup requires besides the name (src/util/ownership.ts). */
  templateDescription: string;
}

/** The description that marks a template as run R's trigger (cleanup deletes only templates carrying it). */
export function triggerTemplateDescription(runId: string): string {
  return `${templateMarker(runId)} notifications trigger template (deleted by the run)`;
}

/** Validates everything without creating anything; throws NotificationsInputError listing the problems. */
export async function planNotifications(client: CoderClient, o: NotificationsOptions): Promise<NotificationsPlan> {
  const problems = checkNotificationsOptions(o);
  if (problems.length) throw new NotificationsInputError(problems);
  const runner = await client.me();
  // Coder's requireAdmin: promoting template admins and creating users takes an owner.
  if (!(runner.roles ?? []).some((r) => r.name === "owner")) {
    throw new NotificationsInputError([`the token's user ${runner.username} is not an owner: creating users and granting the template-admin role needs the owner role`]);
  }
  const organization = await client.defaultOrganization();
  const { admins, regular } = splitUsers(o.userCount, o.templateAdminPercentage);
  const offset = o.indexOffset ?? 0;
  const width = indexWidth(offset + o.userCount + 1);
  const users: PlannedUser[] = [];
  let templateName = "";
  try {
    for (let i = 0; i < o.userCount; i++) {
      const index = offset + i;
      users.push({ index, username: resourceName(o.runId, index, width), email: scaletestEmail(o.runId, index, width), role: i < admins ? "template-admin" : "member" });
    }
    templateName = resourceName(o.runId, offset + o.userCount, width);
  } catch (e) {
    throw new NotificationsInputError([(e as Error).message]);
  }
  // Names in use mean a run id (or index range) already taken: refuse before creating anything.
  const mine = new Set(users.map((u) => u.username));
  const clash: string[] = [];
  for await (const u of client.iterateUsers({ q: runPrefix(o.runId) })) {
    if (mine.has(u.username)) clash.push(`user ${u.username}`);
    if (clash.length >= 3) break;
  }
  const existing = await client.request<{ name: string }[]>("GET", `/organizations/${organization.id}/templates`);
  if (existing.some((t) => t.name === templateName)) clash.push(`template ${templateName}`);
  if (clash.length) {
    throw new NotificationsInputError([
      `run id ${JSON.stringify(o.runId)} is already in use (${clash.join(", ")}): choose another --run-id, or remove that run first with: cleanup --run-id ${o.runId}`,
    ]);
  }
  return { runner, organization, users, admins, regular, templateName, templateDescription: triggerTemplateDescription(o.runId) };
}
