// Everything prebuilds checks before it creates or changes anything: the options, the caller is an Owner,
// the deployment has the feature (Premium: without the licence coderd answers 403; without the routes 404),
// the default organization, and that the template names are free.
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import { BadInputError } from "../util/errors.ts";
import { indexWidth, resourceName, validateRunId } from "../util/naming.ts";
import { getPrebuildsSettings, templateByName } from "./api.ts";
import type { PrebuildsOptions } from "./types.ts";

export class PrebuildsInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `prebuilds: ${problems[0]}` : `prebuilds: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PrebuildsInputError";
  }
}

export function checkOptions(o: PrebuildsOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  for (const [flag, v] of [["--num-templates", o.numTemplates], ["--num-presets", o.numPresets], ["--num-preset-prebuilds", o.numPresetPrebuilds]] as const) {
    if (!Number.isInteger(v) || v <= 0) p.push(`${flag} must be greater than 0; got ${v}`);
  }
  if (!(o.templateVersionJobTimeoutMs > 0)) p.push("--template-version-job-timeout must be positive");
  if (!(o.workspaceTimeoutMs > 0)) p.push("--prebuild-workspace-timeout must be positive");
  return p;
}

export interface PrebuildsPlan {
  orgId: string;
  /** Template names, scaletest-<run-id>-NNNN (the run's ownership pattern). */
  names: string[];
  originalPaused: boolean;
}

export function templateNames(o: PrebuildsOptions): string[] {
  const offset = o.indexOffset ?? 0;
  const width = indexWidth(offset + o.numTemplates);
  return Array.from({ length: o.numTemplates }, (_, i) => resourceName(o.runId, offset + i, width));
}

/** Read-only: throws PrebuildsInputError naming what is wrong; API failures otherwise propagate. */
export async function planPrebuilds(client: CoderClient, o: PrebuildsOptions, signal?: AbortSignal): Promise<PrebuildsPlan> {
  const problems = checkOptions(o);
  if (problems.length) throw new PrebuildsInputError(problems);
  const me = await client.me();
  if (!(me.roles ?? []).some((r) => r.name === "owner")) {
    throw new PrebuildsInputError([`the token's user ${me.username} is not an Owner: prebuilds changes a deployment-wide setting and creates templates`]);
  }
  let originalPaused: boolean;
  try {
    originalPaused = (await getPrebuildsSettings(client, signal)).reconciliation_paused;
  } catch (e) {
    if (e instanceof CoderApiError && (e.status === 403 || e.status === 404)) {
      throw new PrebuildsInputError([
        `this deployment does not offer workspace prebuilds (GET /api/v2/prebuilds/settings answered ${e.status}${e.coderMessage ? `: ${e.coderMessage}` : ""}). ` +
          "Prebuilds are a Premium feature: add a Premium licence, or leave the prebuilds load type out.",
      ]);
    }
    throw e;
  }
  if (typeof originalPaused !== "boolean") throw new PrebuildsInputError(["GET /api/v2/prebuilds/settings answered without reconciliation_paused"]);
  const org = await client.defaultOrganization();
  const names = templateNames(o);
  const taken: string[] = [];
  for (const n of names) if (await templateByName(client, org.id, n)) taken.push(n);
  if (taken.length) throw new PrebuildsInputError([`template name(s) already in use: ${taken.join(", ")} (run id ${o.runId} was used before; pick another --run-id or clean it up)`]);
  return { orgId: org.id, names, originalPaused };
}
