// The trigger (Coder's triggerNotifications): upload an empty template archive, create a template version
// from it with the echo provisioner, create a template from that version, delete the template. coderd then
// enqueues TemplateTemplateDeleted for every owner and template admin but the caller. The trigger time is
// taken when the delete call returns, as Coder takes it.
import { pack } from "tar-stream";
import type { CoderClient } from "../coder/client.ts";
import type { Template, TemplateVersion } from "../coder/types.ts";
import type { TriggerOutcome } from "./types.ts";

/** A valid empty tar archive (two zero blocks), built by tar-stream rather than by hand. */
export async function emptyTar(): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on("end", () => resolve());
    p.on("error", reject);
  });
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function triggerTemplateDeleted(
  client: CoderClient,
  orgId: string,
  name: string,
  description: string,
  log: (msg: string) => void,
): Promise<TriggerOutcome> {
  const out: TriggerOutcome = { template_name: name, template_id: null, triggered_at: null, steps_ms: {}, error: null };
  const step = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } catch (e) {
      throw new Error(`${label}: ${errText(e)}`, { cause: e });
    } finally {
      out.steps_ms[label] = performance.now() - t0;
    }
  };
  try {
    const data = await emptyTar();
    // codersdk.UploadResponse names the file's id "hash".
    const file = await step("upload", () =>
      client.request<{ hash: string }>("POST", "/files", { rawBody: { contentType: "application/x-tar", data }, expect: [200, 201] }),
    );
    const version = await step("create_version", () =>
      client.request<TemplateVersion>("POST", `/organizations/${orgId}/templateversions`, {
        body: { storage_method: "file", file_id: file.hash, provisioner: "echo" },
        expect: [201],
      }),
    );
    const template = await step("create_template", () =>
      client.request<Template>("POST", `/organizations/${orgId}/templates`, {
        body: { name, description, template_version_id: version.id },
        // coderd answers 201 (its swagger annotation says 200).
        expect: [200, 201],
      }),
    );
    out.template_id = template.id;
    log(`trigger template ${name} created (${template.id}); deleting it`);
    await step("delete_template", () => client.request("DELETE", `/templates/${template.id}`, { expect: [200] }));
    out.triggered_at = Date.now();
  } catch (e) {
    out.error = errText(e);
  }
  return out;
}
