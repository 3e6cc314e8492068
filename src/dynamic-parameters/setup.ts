// Coder's SetupPartitions: one distinct template version per partition (upload the archive, create the
// version; the first one creates the template when it is missing), then poll every version until its
// import succeeded. Any other outcome (failed, canceled, no provisioner matched, timeout) fails the setup.
import type { LogFn } from "../util/log.ts";
import type { CoderClient } from "../coder/client.ts";
import type { TemplateVersion } from "../coder/types.ts";
import { sleep } from "../util/sleep.ts";
import { createTemplate, createTemplateVersion, uploadTar } from "./api.ts";
import { templateArchive } from "./template.ts";
import type { DynamicParametersOptions, DynamicParametersPlan, Partition } from "./types.ts";

export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SetupError";
  }
}

export interface SetupOutcome {
  templateId: string;
  templateCreated: boolean;
  partitions: Partition[];
}


async function newVersion(client: CoderClient, plan: DynamicParametersPlan, templateId: string | undefined, signal?: AbortSignal): Promise<TemplateVersion> {
  const fileId = await uploadTar(client, templateArchive(), signal);
  const version = await createTemplateVersion(
    client,
    plan.organization.id,
    {
      ...(templateId ? { template_id: templateId } : {}),
      file_id: fileId,
      message: "scaletest dynamic-parameters version",
      storage_method: "file",
      provisioner: "terraform",
      tags: plan.provisionerTags,
    },
    signal,
  );
  if (version.matched_provisioners && version.matched_provisioners.count === 0) {
    throw new SetupError(`no provisioner daemon matches the tags ${JSON.stringify(plan.provisionerTags)}: version ${version.id} would never import`);
  }
  return version;
}

export async function setupPartitions(
  client: CoderClient,
  plan: DynamicParametersPlan,
  o: DynamicParametersOptions,
  hooks: { signal?: AbortSignal; log?: LogFn } = {},
): Promise<SetupOutcome> {
  const log = hooks.log ?? (() => {});
  const { signal } = hooks;
  const started = new Map<string, number>();
  const versions: { count: number; version: TemplateVersion }[] = [];
  let parts = plan.parts;
  let templateId = plan.template?.id;
  let templateCreated = false;
  if (!templateId) {
    // As Coder: the first version is made without a template, then the template is created from it.
    const t0 = performance.now();
    const first = await newVersion(client, plan, undefined, signal);
    const t = await createTemplate(
      client,
      plan.organization.id,
      {
        name: o.template.trim(),
        display_name: "Scaletest Dynamic Parameters",
        description: "Template of the scale test's dynamic-parameters load type",
        template_version_id: first.id,
      },
      signal,
    );
    templateId = t.id;
    templateCreated = true;
    log("info", `created template ${t.name} (${t.id}) from version ${first.id}`);
    started.set(first.id, t0);
    versions.push({ count: parts[0]!, version: first });
    parts = parts.slice(1);
  }
  for (const count of parts) {
    const t0 = performance.now();
    const v = await newVersion(client, plan, templateId, signal);
    started.set(v.id, t0);
    versions.push({ count, version: v });
  }
  log("info", `created ${versions.length} template version(s) for partitions ${plan.parts.join(", ")}; waiting for their imports`);

  // Poll every version until its import job succeeded (Coder polls every 2 s).
  const done = new Map<string, { version: TemplateVersion; ms: number }>();
  const deadline = performance.now() + o.importTimeoutMs;
  const pollMs = o.importPollMs ?? 2000;
  for (;;) {
    for (const { version } of versions) {
      if (done.has(version.id)) continue;
      const v = await client.templateVersion(version.id);
      const status = v.job?.status;
      if (status === "succeeded") done.set(v.id, { version: v, ms: performance.now() - started.get(v.id)! });
      else if (status !== "pending" && status !== "running") {
        throw new SetupError(`template version ${v.id} job in unexpected status ${JSON.stringify(status)}, error ${JSON.stringify(v.job?.error ?? "")}`);
      }
    }
    if (done.size === versions.length) break;
    if (performance.now() >= deadline) {
      throw new SetupError(`${versions.length - done.size} template version(s) not imported within --import-timeout ${o.importTimeoutMs} ms`);
    }
    if (!(await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())), signal))) throw new SetupError("stopped while waiting for the template versions to import");
  }
  return {
    templateId,
    templateCreated,
    partitions: versions.map(({ count, version }, index) => ({
      index,
      concurrent_evaluations: count,
      version: done.get(version.id)!.version,
      import_ms: done.get(version.id)!.ms,
    })),
  };
}
