// The template calls Coder's dynamic-parameters tool makes while preparing its versions (codersdk Upload,
// CreateTemplateVersion, CreateTemplate, TemplateVersion), on the run's client.
import type { CoderClient } from "../coder/client.ts";
import type { Template, TemplateVersion } from "../coder/types.ts";

/** POST /files (application/x-tar): Coder answers 201, or 200 when it holds that content already. */
export async function uploadTar(client: CoderClient, data: Uint8Array, signal?: AbortSignal): Promise<string> {
  const r = await client.request<{ hash: string }>("POST", "/files", {
    rawBody: { contentType: "application/x-tar", data },
    expect: [201, 200],
    ...(signal ? { signal } : {}),
  });
  if (!r || typeof r.hash !== "string") throw new Error("POST /files answered without the file's id (hash)");
  return r.hash;
}

export interface CreateVersionRequest {
  template_id?: string;
  file_id: string;
  message: string;
  storage_method: "file";
  provisioner: "terraform";
  tags: Record<string, string>;
}

export function createTemplateVersion(client: CoderClient, orgId: string, req: CreateVersionRequest, signal?: AbortSignal): Promise<TemplateVersion> {
  return client.request<TemplateVersion>("POST", `/organizations/${encodeURIComponent(orgId)}/templateversions`, {
    body: req,
    expect: [201],
    ...(signal ? { signal } : {}),
  });
}

export function createTemplate(
  client: CoderClient,
  orgId: string,
  req: { name: string; display_name: string; description: string; template_version_id: string },
  signal?: AbortSignal,
): Promise<Template> {
  // Swagger documents 200; coderd answers 201.
  return client.request<Template>("POST", `/organizations/${encodeURIComponent(orgId)}/templates`, {
    body: req,
    expect: [201, 200],
    ...(signal ? { signal } : {}),
  });
}
