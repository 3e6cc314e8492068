// The Coder API calls the prebuilds load type makes beyond the shared client: template upload (a tar through
// POST /files), template versions and templates, the active version, and the deployment-wide prebuilds
// setting (Premium: enterprise/coderd/prebuilds).
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { Template, TemplateVersion } from "../coder/types.ts";
import { sleep } from "../util/sleep.ts";

export interface PrebuildsSettings {
  reconciliation_paused: boolean;
}

/** GET /prebuilds/settings (owner; 403 without the Premium licence, 404 on a deployment without the routes). */
export function getPrebuildsSettings(client: CoderClient, signal?: AbortSignal): Promise<PrebuildsSettings> {
  return client.request("GET", "/prebuilds/settings", signal ? { signal } : {});
}

/** PUT /prebuilds/settings; coderd answers 304 when the value is already the one asked for. */
export async function setReconciliationPaused(client: CoderClient, paused: boolean): Promise<void> {
  await client.request("PUT", "/prebuilds/settings", { body: { reconciliation_paused: paused }, expect: [200, 304], idempotent: true });
}

/** POST /files with a tar archive; returns the file id (codersdk.UploadResponse's `hash`). */
export async function uploadTar(client: CoderClient, tar: Uint8Array): Promise<string> {
  const r = await client.request<{ hash?: string }>("POST", "/files", { rawBody: { data: tar, contentType: "application/x-tar" }, expect: [200, 201] });
  if (!r?.hash) throw new Error("POST /files answered without the file id (hash)");
  return r.hash;
}

export function createTemplateVersion(
  client: CoderClient,
  orgId: string,
  req: { fileId: string; templateId?: string; message: string; tags?: Record<string, string> },
): Promise<TemplateVersion> {
  return client.request("POST", `/organizations/${encodeURIComponent(orgId)}/templateversions`, {
    body: {
      ...(req.templateId ? { template_id: req.templateId } : {}),
      file_id: req.fileId,
      message: req.message,
      storage_method: "file",
      provisioner: "terraform",
      // codersdk.CreateTemplateVersionRequest names the provisioner tags `tags`.
      tags: req.tags ?? {},
    },
    expect: [201],
  });
}

/** Polls the version until its import job succeeds (Coder polls every 2 s); throws on failure or timeout. */
export async function waitTemplateVersion(
  client: CoderClient,
  id: string,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal },
): Promise<TemplateVersion> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const v = await client.request<TemplateVersion>("GET", `/templateversions/${encodeURIComponent(id)}`, opts.signal ? { signal: opts.signal } : {});
    const st = v.job?.status;
    if (st === "succeeded") return v;
    if (st !== "pending" && st !== "running") throw new Error(`template version provisioning failed: status ${st}${v.job?.error ? `: ${v.job.error}` : ""}`);
    if (performance.now() >= deadline) throw new Error(`template version ${id} not imported within ${opts.timeoutMs} ms (--template-version-job-timeout)`);
    if (!(await sleep(Math.min(opts.pollMs, Math.max(1, deadline - performance.now())), opts.signal))) throw new Error("stopped while waiting for the template version");
  }
}

export function createTemplate(client: CoderClient, orgId: string, req: { name: string; description: string; versionId: string }): Promise<Template> {
  return client.request("POST", `/organizations/${encodeURIComponent(orgId)}/templates`, {
    body: { name: req.name, description: req.description, template_version_id: req.versionId },
    // coderd answers 201 (codersdk.CreateTemplate requires it); swagger annotates 200.
    expect: [200, 201],
  });
}

/** The organization's template of exactly this name, or null. */
export async function templateByName(client: CoderClient, orgId: string, name: string): Promise<Template | null> {
  try {
    return await client.request<Template>("GET", `/organizations/${encodeURIComponent(orgId)}/templates/${encodeURIComponent(name)}`);
  } catch (e) {
    if (e instanceof CoderApiError && e.status === 404) return null;
    throw e;
  }
}

export async function updateActiveVersion(client: CoderClient, templateId: string, versionId: string): Promise<void> {
  await client.request("PATCH", `/templates/${encodeURIComponent(templateId)}/versions`, { body: { id: versionId } });
}

export async function deleteTemplate(client: CoderClient, templateId: string): Promise<void> {
  await client.request("DELETE", `/templates/${encodeURIComponent(templateId)}`);
}
